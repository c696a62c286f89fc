use super::*;
use serde_json::json;

/// A visit with known parts (ms), server db time, long tasks and requests.
fn visit(parts: [f64; 4], db: f64, long_tasks: f64, extra: Option<(&str, f64)>) -> Sample {
    let mut s = Sample::failed(0, "home", "default", "http://x/", String::new());
    s.ok = true;
    s.error = None;
    s.failure = None;
    s.metrics.insert(Metric::Lcp, parts.iter().sum());
    s.metrics.insert(Metric::Ttfb, parts[0]);
    s.metrics.insert(Metric::LongTasks, long_tasks);
    s.metrics.insert(Metric::Tbt, long_tasks * 250.0);
    let mut requests = vec![
        json!({"url": "/", "type": "document", "initiator": "navigation", "size": 2000.0, "duration": 10.0}),
        json!({"url": "/hero.png", "type": "image", "initiator": "img", "size": 90_000.0, "duration": 30.0}),
    ];
    if let Some((url, size)) = extra {
        requests.push(
            json!({"url": url, "type": "stylesheet", "initiator": "link",
            "size": size, "duration": 40.0, "render_blocking": true}),
        );
    }
    s.details = json!({
        "lcp": {"parts": {"ttfb": parts[0], "resource_load_delay": parts[1],
                "resource_load_duration": parts[2], "element_render_delay": parts[3]},
                "long_tasks_before_paint": long_tasks * 300.0},
        "server_timing": [{"request": null, "name": "db", "dur": db, "desc": ""},
                          {"request": null, "name": "render", "dur": 5.0, "desc": ""}],
        "requests": requests,
    });
    s
}

/// `n` visits with a little deterministic jitter on every part.
fn visits(n: usize, f: impl Fn(f64) -> Sample) -> Vec<Sample> {
    (0..n).map(|i| f(((i * 7) % 11) as f64)).collect()
}

fn run(metric: Metric, shift: f64, c: &[Sample], r: &[Sample]) -> Diagnosis {
    let c: Vec<&Sample> = c.iter().collect();
    let r: Vec<&Sample> = r.iter().collect();
    diagnose(Row {
        metric,
        shift: Some(shift),
        candidate: &c,
        reference: &r,
    })
}

fn base(j: f64) -> Sample {
    visit(
        [100.0 + j, 50.0 + j, 80.0 + j, 40.0 + j],
        60.0 + j,
        0.0,
        None,
    )
}

#[test]
fn a_late_hero_image_is_its_resource_load_delay() {
    let r = visits(12, base);
    let c = visits(12, |j| {
        visit(
            [100.0 + j, 450.0 + j, 80.0 + j, 40.0 + j],
            60.0 + j,
            0.0,
            None,
        )
    });
    let d = run(Metric::Lcp, 400.0, &c, &r);
    assert!(d.found, "{d:#?}");
    assert!(
        d.cause.starts_with(
            "LCP +400 ms: resource load delay +400 ms (the LCP resource starts later)"
        ),
        "{}",
        d.cause
    );
    assert_eq!(d.parts[0].name, "resource_load_delay");
    assert!(d.parts[1..].iter().all(|p| !p.moved), "{:#?}", d.parts);
    assert!(d.requests.is_empty(), "{:#?}", d.requests);
}

#[test]
fn a_slow_database_is_named_through_server_timing() {
    let r = visits(12, base);
    let c = visits(12, |j| {
        visit(
            [300.0 + j, 50.0 + j, 80.0 + j, 40.0 + j],
            260.0 + j,
            0.0,
            None,
        )
    });
    let d = run(Metric::Ttfb, 200.0, &c, &r);
    assert_eq!(d.cause, "TTFB +200 ms: server.db +200 ms (Server-Timing)");
    let d = run(Metric::Lcp, 200.0, &c, &r);
    assert_eq!(
        d.cause,
        "LCP +200 ms: time to first byte +200 ms; server.db +200 ms (Server-Timing)"
    );
    assert!(
        !d.server
            .iter()
            .find(|p| p.name == "server.render")
            .unwrap()
            .moved
    );
}

#[test]
fn a_new_render_blocking_stylesheet_is_named_with_its_bytes() {
    let r = visits(12, base);
    let c = visits(12, |j| {
        visit(
            [100.0 + j, 50.0 + j, 80.0 + j, 340.0 + j],
            60.0 + j,
            0.0,
            Some(("/promo.css", 307_200.0)),
        )
    });
    let d = run(Metric::Lcp, 300.0, &c, &r);
    assert_eq!(
        d.cause,
        "LCP +300 ms: element render delay +300 ms (the paint waits after the content arrived); new render-blocking request /promo.css (300.0 kB)"
    );
    assert_eq!(d.requests[0].change, RequestChangeKind::Added);
    // FCP has no resource parts of its own: the request itself is the cause.
    let f = run(Metric::Fcp, 300.0, &c, &r);
    assert_eq!(
        f.cause,
        "FCP +300 ms: new render-blocking request /promo.css (300.0 kB)"
    );
    let lines = d.evidence();
    assert!(
        lines
            .iter()
            .any(|l| l == "added render-blocking stylesheet /promo.css (300.0 kB)"),
        "{lines:?}"
    );
}

#[test]
fn a_long_task_before_the_paint_is_named_from_the_main_thread() {
    let r = visits(12, base);
    let c = visits(12, |j| {
        visit(
            [100.0 + j, 50.0 + j, 80.0 + j, 340.0 + j],
            60.0 + j,
            1.0,
            None,
        )
    });
    let d = run(Metric::Lcp, 300.0, &c, &r);
    assert!(
        d.cause.contains("element render delay +300 ms"),
        "{}",
        d.cause
    );
    assert!(d.cause.contains("long tasks +1"), "{}", d.cause);
}

#[test]
fn a_a_names_nothing_and_a_spread_shift_is_not_pinned_on_one_part() {
    let r = visits(12, base);
    let c = visits(12, |j| base(10.0 - j));
    let d = run(Metric::Lcp, 0.0, &c, &r);
    assert!(!d.found);
    assert_eq!(d.cause, "LCP +0 ms: no single cause stands out");
    // +100 ms spread evenly over the four parts: none carries half.
    let c = visits(12, |j| {
        visit(
            [125.0 + j, 75.0 + j, 105.0 + j, 65.0 + j],
            60.0 + j,
            0.0,
            None,
        )
    });
    let d = run(Metric::Lcp, 100.0, &c, &r);
    assert!(!d.found, "{}", d.cause);
    assert!(
        d.cause.contains("no single cause stands out"),
        "{}",
        d.cause
    );
}

#[test]
fn too_few_visits_compare_nothing() {
    let r = visits(3, base);
    let c = visits(3, |j| {
        visit(
            [100.0 + j, 450.0 + j, 80.0 + j, 40.0 + j],
            60.0 + j,
            0.0,
            None,
        )
    });
    let d = run(Metric::Lcp, 400.0, &c, &r);
    assert!(d.parts.is_empty() && !d.found, "{d:#?}");
}

#[test]
fn a_third_party_on_another_origin_per_build_is_not_a_change() {
    let with = |origin: &str, bytes: f64| {
        let mut s = base(0.0);
        s.details["requests"]
            .as_array_mut()
            .unwrap()
            .push(json!({"url": format!("{origin}/widget.js"), "type": "script", "size": bytes, "duration": 5.0}));
        s
    };
    let c: Vec<Sample> = (0..6).map(|_| with("http://127.0.0.1:2", 600.0)).collect();
    let r: Vec<Sample> = (0..6).map(|_| with("http://127.0.0.1:1", 600.0)).collect();
    assert!(run(Metric::Lcp, 0.0, &c, &r).requests.is_empty());
    let c: Vec<Sample> = (0..6)
        .map(|_| with("http://127.0.0.1:2", 60_000.0))
        .collect();
    let d = run(Metric::Bytes, 59_400.0, &c, &r);
    assert_eq!(d.requests.len(), 1, "{:#?}", d.requests);
    assert_eq!(d.requests[0].change, RequestChangeKind::Grown);
    assert!(
        d.cause
            .contains("grown request http://127.0.0.1:2/widget.js (0.6 kB → 58.6 kB"),
        "{}",
        d.cause
    );
}
