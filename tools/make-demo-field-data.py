#!/usr/bin/env python3
"""Writes src/demo/field.csv: the demo shop's *made-up* RUM export.

The demo needs a field baseline to compare its lab runs with. Real exports
cannot ship with the repository (they describe real people), so this script
draws a plausible one: log-normal page timings per page and form factor, the
shape RUM data has, with sessions of 1-4 page views. Deterministic (seeded).
Run it again only when the demo site changes: python3 tools/make-demo-field-data.py
"""
import csv, math, random, sys

random.seed(20261127)
# page path template -> form factor -> metric -> (median, sigma of log)
PAGES = {
    "/": {"lcp": (1500, 0.45), "fcp": (1000, 0.4), "ttfb": (350, 0.5), "cls": (0.06, 0.8), "inp": (120, 0.5)},
    "/product/{id}": {"lcp": (1700, 0.45), "fcp": (1100, 0.4), "ttfb": (380, 0.5), "cls": (0.05, 0.8), "inp": (260, 0.45)},
    "/search": {"lcp": (1300, 0.45), "fcp": (950, 0.4), "ttfb": (330, 0.5), "cls": (0.03, 0.8), "inp": (180, 0.5)},
    "/cart": {"lcp": (1200, 0.45), "fcp": (900, 0.4), "ttfb": (320, 0.5), "cls": (0.03, 0.8), "inp": (150, 0.5)},
}
FORM = {"desktop": 1.0, "phone": 1.8}
UA = {
    "desktop": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    "phone": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36",
}

def draw(median, sigma):
    return median * math.exp(random.gauss(0, sigma))

out = csv.writer(sys.stdout if len(sys.argv) < 2 else open(sys.argv[1], "w", newline=""))
out.writerow(["timestamp", "page_url", "device", "ect", "session_id", "user_id",
              "lcp", "fcp", "ttfb", "cls", "inp", "js_errors"])
session = 0
for day in range(1, 8):
    for _ in range(160):
        session += 1
        user = random.randrange(1, 700)
        form = "phone" if random.random() < 0.55 else "desktop"
        views = random.choice([1, 1, 2, 2, 3, 4])
        for v in range(views):
            path = random.choice(list(PAGES))
            url = "https://demo.rumcheck.test" + path.replace("{id}", str(random.randrange(1, 40)))
            m = PAGES[path]
            k = FORM[form]
            inp = "" if random.random() < 0.3 else round(draw(m["inp"][0] * (1.3 if form == "phone" else 1), m["inp"][1]))
            out.writerow([
                f"2026-11-{day:02d}T{random.randrange(0, 24):02d}:{random.randrange(0, 60):02d}:00Z",
                url, form, "4g" if random.random() < 0.8 else "3g", f"s{session}", f"u{user}",
                round(draw(m["lcp"][0] * k, m["lcp"][1])), round(draw(m["fcp"][0] * k, m["fcp"][1])),
                round(draw(m["ttfb"][0] * k, m["ttfb"][1])), round(draw(m["cls"][0], m["cls"][1]), 4),
                inp, 1 if random.random() < 0.02 else 0,
            ])
