//! Import throughput against the csv crate alone, and peak memory for
//! large generated exports.
//!
//! `cargo bench --bench import` first measures peak RSS (VmHWM from
//! /proc/self/status), each case in a child process of its own so that one
//! case's peak does not hide another's:
//! - `rows`: `RUMCHECK_RSS_ROWS` rows (default 10 000 000) of a realistic
//!   export;
//! - `distinct`: `RUMCHECK_RSS_DISTINCT` rows (default 1 000 000), each on a
//!   page of its own (the `--max-pages` cap at work);
//! - `long-line`: a `RUMCHECK_RSS_LINE_MB` MB (default 200) URL field on one
//!   line between ordinary rows (the `--max-line-bytes` bound at work).
//!
//! Then criterion measures both readers on a 200 000-row file and the
//! ratio is printed.

use criterion::{Criterion, Throughput};
use rumcheck::baseline::{Format, ImportOptions, Importer};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

/// Writes a realistic wide RUM export: time-sorted, sessions of 1–3 views,
/// 20 page templates with ids, three form factors, four connection types.
fn write_csv(path: &Path, rows: u64) {
    write_export(path, rows, false);
}

/// [`write_csv`], or with `distinct` every row on a page of its own.
fn write_export(path: &Path, rows: u64, distinct: bool) {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(w, "timestamp,session_id,user_id,url,device_type,effective_connection_type,country,largest_contentful_paint_ms,cumulative_layout_shift,interaction_to_next_paint_ms,first_contentful_paint_ms,time_to_first_byte_ms,js_errors").unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (devices, ects, countries) = (
        ["phone", "desktop", "tablet"],
        ["4g", "4g", "3g", "2g"],
        ["DE", "FR", "US", "BR", "IN"],
    );
    let start = 1_730_000_000i64;
    let (mut session, mut left, mut stamp, mut stamp_secs) = (0u64, 0u64, String::new(), i64::MIN);
    let (mut dev, mut ect, mut user) = (0usize, 0usize, 0u64);
    for i in 0..rows {
        if left == 0 {
            session += 1;
            left = 1 + rnd() % 3;
            dev = (rnd() % 3) as usize;
            ect = (rnd() % 4) as usize;
            user = rnd() % 200_000;
        }
        left -= 1;
        let t = start + (i / 4) as i64;
        if t != stamp_secs {
            stamp_secs = t;
            stamp = time::OffsetDateTime::from_unix_timestamp(t)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
        }
        let r = rnd();
        let lcp = 600 + r % 5000;
        let path = if distinct {
            // A word-like slug (digits spelled as letters): identifier
            // folding keeps it, as it keeps real slugs.
            let word: String = i
                .to_string()
                .bytes()
                .map(|d| char::from(b'a' + (d - b'0')))
                .collect();
            format!("item-{word}")
        } else {
            format!("p{}/{}", r % 20, (r >> 8) % 100_000)
        };
        writeln!(
            w,
            "{stamp},s{session},u{user},https://shop.example/{path}?utm_source=x&ref={},{},{},{},{lcp},{:.3},{},{},{},{}",
            r % 997,
            devices[dev],
            ects[ect],
            countries[((r >> 20) % 5) as usize],
            ((r >> 24) % 400) as f64 / 1000.0,
            40 + (r >> 32) % 600,
            lcp * 7 / 10,
            50 + (r >> 40) % 1500,
            u8::from((r >> 50) % 10 == 0),
        )
        .unwrap();
    }
    w.flush().unwrap();
}

fn csv_records(path: &Path) -> u64 {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while rdr.read_byte_record(&mut rec).unwrap() {
        n += 1;
    }
    n
}

fn import(path: &Path) -> usize {
    let mut o = ImportOptions::new(Format::Csv);
    o.apdex_t.insert(rumcheck::Metric::Lcp, 2500.0);
    // Worker threads (0 = one per CPU, the default), to compare set-ups.
    o.threads = std::env::var("RUMCHECK_IMPORT_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut imp = Importer::new(o);
    imp.read_file(path).unwrap();
    imp.finish().unwrap().segments.len()
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A number from the environment, else `default`.
fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes `mb` MB of URL on one line between two ordinary rows.
fn write_long_line(path: &Path, mb: u64) {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(w, "url,lcp\nhttps://shop.example/a,1200").unwrap();
    write!(w, "https://shop.example/").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..mb {
        w.write_all(&chunk).unwrap();
    }
    writeln!(w, ",1300\nhttps://shop.example/b,1400").unwrap();
    w.flush().unwrap();
}

/// Peak RSS of one import, in a child process per case (see the module docs).
fn rss_case(case: &str, dir: &Path, full: bool) {
    // `cargo test --all-targets` runs benches once as a smoke test: keep that small.
    let rows = match case {
        "rows" => env_or("RUMCHECK_RSS_ROWS", if full { 10_000_000 } else { 10_000 }),
        "distinct" => env_or(
            "RUMCHECK_RSS_DISTINCT",
            if full { 1_000_000 } else { 10_000 },
        ),
        _ => env_or("RUMCHECK_RSS_LINE_MB", if full { 200 } else { 2 }),
    };
    if rows == 0 {
        return;
    }
    let path = dir.join(format!("{case}.csv"));
    match case {
        "rows" => write_csv(&path, rows),
        "distinct" => write_export(&path, rows, true),
        _ => write_long_line(&path, rows),
    }
    if case != "rows" {
        let size = std::fs::metadata(&path).unwrap().len();
        let before = vm_hwm_kb();
        let t = Instant::now();
        let segments = import(&path);
        println!(
            "rss {case}: imported {} ({:.0} MB) into {segments} segments in {:.1} s; peak RSS (VmHWM) {:.1} MB (before import {:.1} MB)",
            if case == "distinct" {
                format!("{rows} rows on {rows} distinct pages")
            } else {
                format!("a {rows} MB line between 2 rows")
            },
            size as f64 / 1e6,
            t.elapsed().as_secs_f64(),
            vm_hwm_kb() as f64 / 1024.0,
            before as f64 / 1024.0,
        );
        return;
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let before = vm_hwm_kb();
    let t = Instant::now();
    let segments = import(&path);
    let secs = t.elapsed().as_secs_f64();
    let peak = vm_hwm_kb();
    // The csv crate on the same large file: the ratio once start-up and
    // the final merge are spread over millions of rows.
    let t = Instant::now();
    csv_records(&path);
    let csv_secs = t.elapsed().as_secs_f64();
    println!(
        "rss: imported {rows} rows ({:.0} MB) into {segments} segments in {secs:.1} s ({:.2} M rows/s; the csv crate alone {csv_secs:.1} s, ratio {:.2}); peak RSS (VmHWM) {:.1} MB (before import {:.1} MB)",
        size as f64 / 1e6,
        rows as f64 / secs / 1e6,
        csv_secs / secs,
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
    std::fs::remove_file(&path).ok();
}

/// User + system CPU time of this process so far (ns), threads that have
/// ended included (getrusage).
fn process_cpu_ns() -> u64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0;
    }
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
    ns(u.ru_utime) + ns(u.ru_stime)
}

/// Wall-clock and CPU seconds (all threads) of one run.
fn timed(f: impl FnOnce()) -> (f64, f64) {
    let (s, c) = (Instant::now(), process_cpu_ns());
    f();
    (
        s.elapsed().as_secs_f64(),
        process_cpu_ns().saturating_sub(c) as f64 / 1e9,
    )
}

/// (wall, CPU) seconds of the csv crate, then of the import.
type Pair = ((f64, f64), (f64, f64));

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test` runs this binary without it.
    let full = std::env::args().any(|a| a == "--bench");
    let dir = tempfile::tempdir().unwrap();
    if let Ok(case) = std::env::var("RUMCHECK_RSS_CASE") {
        rss_case(&case, dir.path(), full);
        return;
    }
    for case in ["rows", "distinct", "long-line"] {
        let me = std::env::current_exe().unwrap();
        let status = std::process::Command::new(me)
            .args(std::env::args().skip(1))
            .env("RUMCHECK_RSS_CASE", case)
            .status()
            .unwrap();
        assert!(status.success(), "rss case {case}: {status}");
    }
    let path = dir.path().join("bench.csv");
    let rows = if full { 200_000 } else { 2_000 };
    write_csv(&path, rows);
    let bytes = std::fs::metadata(&path).unwrap().len();

    let mut c = Criterion::default().configure_from_args().sample_size(10);
    let mut g = c.benchmark_group("import_200k_rows");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("csv_crate_records", |b| b.iter(|| csv_records(&path)));
    g.bench_function("rumcheck_import", |b| b.iter(|| import(&path)));
    g.finish();
    c.final_summary();
    if !full {
        return;
    }

    // The two readers run in turns and the ratio is taken per pair, so a
    // machine whose speed drifts (shared VMs do) skews both sides alike.
    let mut pairs = Vec::new();
    for _ in 0..9 {
        let csv = timed(|| {
            csv_records(&path);
        });
        let ours = timed(|| {
            import(&path);
        });
        pairs.push((csv, ours));
    }
    let med = |f: &dyn Fn(&Pair) -> f64| median(pairs.iter().map(f).collect());
    let (raw, ours) = (med(&|p| p.0.0), med(&|p| p.1.0));
    let (raw_cpu, ours_cpu) = (med(&|p| p.0.1), med(&|p| p.1.1));
    let ratio = med(&|p| p.0.0 / p.1.0);
    println!(
        "throughput: csv crate {:.0} MB/s ({:.2} M rows/s), rumcheck import {:.0} MB/s ({:.2} M rows/s); ratio {ratio:.2} (median of 9 paired runs; target >= 0.5); CPU time per row: csv crate {:.0} ns, rumcheck {:.0} ns",
        bytes as f64 / raw / 1e6,
        rows as f64 / raw / 1e6,
        bytes as f64 / ours / 1e6,
        rows as f64 / ours / 1e6,
        raw_cpu / rows as f64 * 1e9,
        ours_cpu / rows as f64 * 1e9,
    );
}
