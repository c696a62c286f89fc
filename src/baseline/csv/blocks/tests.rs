//! The block import: the same baseline for any thread count and block
//! layout, cuts inside quoted fields, strict mode and the page cap.

use super::*;
use crate::baseline::options::Format;
use crate::baseline::{Baseline, Importer};
use crate::metric::Metric;
use std::io::Write;

fn options(threads: usize) -> ImportOptions {
    let mut o = ImportOptions::new(Format::Csv);
    o.threads = threads;
    o.min_segment = 1;
    o.apdex_t.insert(Metric::Lcp, 2500.0);
    o
}

fn import_with(path: &Path, o: ImportOptions) -> Result<Baseline, ImportError> {
    let mut imp = Importer::new(o);
    imp.read_file(path)?;
    imp.finish()
}

/// The baseline as JSON without the import time.
fn json(mut b: Baseline) -> String {
    b.provenance.imported_at.clear();
    serde_json::to_string(&b).unwrap_or_default()
}

fn write(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("export.csv");
    let mut f = File::create(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path
}

/// Sessions of 1–3 views over 30 pages, some rows bad, rows in a random
/// order (timestamps spread over two days, so sessions expire mid-file).
fn unsorted_export(rows: usize) -> String {
    let mut out = String::from("timestamp,session_id,user_id,url,device,lcp,cls,inp\n");
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..rows {
        let r = rnd();
        let lcp = if r % 97 == 0 {
            "NaN".to_string()
        } else {
            (500 + r % 6000).to_string()
        };
        out.push_str(&format!(
            "{},s{},u{},https://shop.example/p{}/{}?q=1,{},{lcp},{:.3},{}\n",
            1_700_000_000 + (r >> 20) % 172_800,
            (r >> 12) % 9000,
            r % 5000,
            r % 30,
            r >> 40,
            ["phone", "desktop", "tablet"][(r >> 8) as usize % 3],
            ((r >> 16) % 500) as f64 / 1000.0,
            40 + (r >> 24) % 700,
        ));
    }
    out
}

#[test]
fn any_thread_count_gives_the_same_baseline() {
    // About 5.5 MB: five blocks; sessions straddle every cut, and rows come
    // in no time order, so session expiry depends on the order rows are
    // aggregated in: that order must not depend on -j.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &unsorted_export(70_000));
    let one = json(import_with(&path, options(1)).unwrap());
    assert!(one.contains("\"bounce_rate\""), "sessions are tracked");
    for threads in [2, 3, 7] {
        let many = json(import_with(&path, options(threads)).unwrap());
        assert!(one == many, "-j {threads} differs from -j 1");
    }
    // A stream (copied to a temporary file) gives the same baseline too.
    let mut imp = Importer::new(options(3));
    imp.read(&path.display().to_string(), File::open(&path).unwrap())
        .unwrap();
    assert!(
        json(imp.finish().unwrap()) == one,
        "stream differs from file"
    );
}

#[test]
fn blocks_start_at_line_starts_after_every_cut() {
    let dir = tempfile::tempdir().unwrap();
    let text = unsorted_export(40_000);
    let path = write(dir.path(), &text);
    let data = text.find('\n').unwrap_or(0) as u64 + 1;
    let starts = block_starts(&path, data..text.len() as u64).unwrap();
    assert!(starts.len() >= 3, "{starts:?}");
    for s in &starts[1..] {
        assert_eq!(text.as_bytes()[*s as usize - 1], b'\n', "{s}");
    }
}

#[test]
fn a_cut_inside_a_quoted_field_reads_the_file_as_one_block() {
    // A 1.5 MB quoted stack trace spans the first cut (at 1 MiB).
    let rows = unsorted_export(8_000);
    let mut lines = rows.lines();
    let mut text = format!("{},error\n", lines.next().unwrap_or_default());
    let body: Vec<&str> = lines.collect();
    let stack = "    at render (https://shop.example/app.js:1:2)\n".repeat(30_000);
    text.push_str(&format!("{},\"TypeError\n{stack}\"\n", body[0]));
    for l in &body[1..] {
        text.push_str(&format!("{l},\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &text);
    let one = import_with(&path, options(1)).unwrap();
    assert_eq!(one.provenance.sources[0].rows_read, 8_000);
    let two = import_with(&path, options(2)).unwrap();
    assert!(json(one) == json(two));
}

#[test]
fn strict_mode_names_the_first_bad_line_of_the_file_for_any_thread_count() {
    let mut text = unsorted_export(30_000).replace("NaN", "1000");
    let at = text.len() * 3 / 4;
    let at = at + text[at..].find('\n').unwrap_or(0) + 1;
    let line = text[..at].matches('\n').count() + 1;
    text.insert_str(
        at,
        "1700000000,s1,u1,https://shop.example/x,phone,fast,0.1,100\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &text);
    for threads in [1, 3] {
        let mut o = options(threads);
        o.strict = true;
        let e = import_with(&path, o).unwrap_err().to_string();
        assert!(
            e.contains(&format!("export.csv:{line}: non-numeric")),
            "{e}"
        );
    }
}

/// `pages` distinct pages; page `i` (for i < 5) gets 500 views more.
/// A word-like slug for `n` (digits spelled as letters), so that page keys
/// stay distinct under identifier folding, as real slugs do.
fn slug(n: usize) -> String {
    n.to_string()
        .bytes()
        .map(|d| (b'a' + (d - b'0')) as char)
        .collect()
}

fn many_pages_export(pages: usize) -> String {
    let mut out = String::from("timestamp,session_id,url,lcp\n");
    for i in 0..pages + 2500 {
        let page = if i < 2500 { i % 5 } else { i - 2500 };
        out.push_str(&format!(
            "{},s{i},https://shop.example/p-{}-x,{}\n",
            1_700_000_000 + i,
            slug(page),
            1000 + i % 3000
        ));
    }
    out
}

#[test]
fn twenty_thousand_distinct_pages_are_folded_and_the_baseline_stays_small() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &many_pages_export(20_000));
    let mut o = options(2);
    o.max_pages = 50;
    let b = import_with(&path, o.clone()).unwrap();
    let pages: HashSet<&str> = b.segments.iter().map(|s| s.page.as_str()).collect();
    assert_eq!(pages.len(), 51, "50 pages and (other)");
    for top in 0..5 {
        assert!(
            pages.contains(format!("/p-{}-x", slug(top)).as_str()),
            "{top}"
        );
    }
    let cap = b.provenance.page_cap.clone().unwrap();
    assert_eq!((cap.max_pages, cap.pages), (50, 50));
    // 22 500 views; the 5 top pages have 501 each; 45 more pages one each.
    assert_eq!(cap.other_views, 22_500 - 5 * 501 - 45);
    assert!((cap.other_share - cap.other_views as f64 / 22_500.0).abs() < 1e-12);
    let other = b.segments.iter().find(|s| s.page == OTHER_PAGE).unwrap();
    assert_eq!(other.metrics[&Metric::Lcp].n, cap.other_views);
    let shown = crate::baseline::show(&b);
    let line = "pages: 50 kept (--max-pages 50); 88.7% of page views (19950) folded into (other)";
    assert!(shown.contains(line), "{shown}");
    let size = json(b.clone()).len();
    assert!(size < 2_000_000, "baseline of {size} bytes");
    // The same with more threads, and from a stream.
    let again = import_with(&path, options_with(o.clone(), 3)).unwrap();
    assert!(json(again) == json(b));
}

fn options_with(mut o: ImportOptions, threads: usize) -> ImportOptions {
    o.threads = threads;
    o
}

#[test]
fn exports_within_the_page_cap_record_no_folding() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &many_pages_export(10));
    let b = import_with(&path, options(2)).unwrap();
    let cap = b.provenance.page_cap.unwrap();
    assert_eq!((cap.max_pages, cap.pages, cap.other_views), (1000, 10, 0));
    assert!(b.segments.iter().all(|s| s.page != OTHER_PAGE));
}

#[test]
fn the_header_ends_where_the_rows_begin_in_bytes_and_physical_lines() {
    let read = |text: &str, max: usize| {
        let mut tally = Tally::new("h.csv", "csv", false);
        let h = super::super::header(text.as_bytes(), max, &mut tally);
        h.map(|h| h.map(|h| (h.delimiter, h.names, h.data, h.line)))
    };
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let got = read("\u{feff}url;lcp\r\n/a;1\n", 1024).unwrap();
    // csv_core ends the header at the carriage return: the rows begin at
    // its line feed, which the block reader reads as the end of line 1.
    assert_eq!(got, Some((b';', names(&["url", "lcp"]), 11, 1)));
    // Blank lines first, and a quoted line break in a column name.
    let got = read("\n\n\"u\nrl\",lcp\n/a,1\n", 1024).unwrap();
    assert_eq!(got, Some((b',', names(&["u\nrl", "lcp"]), 13, 5)));
    assert_eq!(read("", 1024).unwrap(), None);
    let long = format!("{}\n/a\n", "x".repeat(2000));
    let e = read(&long, 1024).unwrap_err().to_string();
    assert!(
        e.contains("h.csv:1: the header line is longer than 1024 bytes"),
        "{e}"
    );
    assert!(read(&format!("{}\n", "x".repeat(1024)), 1024).is_ok());
}

#[test]
fn server_pairs_do_not_depend_on_the_thread_count() {
    // Five blocks again, now with TTFB and a mapped server column: the
    // bottom-k samples of blocks merge into the one a single pass draws.
    let text = unsorted_export(70_000);
    let mut lines = text.lines();
    let mut csv = format!("{},ttfb,db_ms\n", lines.next().unwrap_or_default());
    for (i, l) in lines.enumerate() {
        let ttfb = 100 + (i * 7919) % 900;
        csv.push_str(&format!("{l},{ttfb},{}\n", ttfb / 2 + i % 13));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &csv);
    let db = Metric::parse_lab("server.db").unwrap();
    let with_map = |threads| {
        let mut o = options(threads);
        o.map
            .insert(crate::baseline::Field::Metric(db), "db_ms".into());
        import_with(&path, o).unwrap()
    };
    let one = with_map(1);
    let page = one
        .segments
        .iter()
        .find(|s| s.segment == Default::default() && s.page != "(other)")
        .unwrap();
    let pairs = &page.ttfb_pairs[&db];
    // ~2 300 rows a page (NaN LCP rows rejected): more than the cap.
    assert!(pairs.seen > 2000, "{}", pairs.seen);
    assert_eq!(pairs.pairs.len(), crate::baseline::MAX_PAIRS);
    assert_eq!(page.metrics[&db].n, pairs.seen);
    assert!(json(one) == json(with_map(3)), "-j 3 differs from -j 1");
}
