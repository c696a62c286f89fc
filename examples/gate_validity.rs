//! Proof that the gate is trustworthy: simulate thousands of gates and print
//! false-alarm rates, power and run counts (see docs/statistics.md).
//!
//! The last table judges visits from a Selenium Grid of unequal nodes by
//! node and pooled.
//!
//! `cargo run --release --example gate_validity [-- --gates 4000 --seed 1]`
//! (`-- --by-node --gates 1000`: the grid table alone)

use rumcheck::metric::Metric;
use rumcheck::verdict::VerdictOptions;
use rumcheck::verdict::simulate::{self, Change, Rates, World};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn world(cv: f64) -> World {
    World {
        cv,
        ..World::default()
    }
}

fn lcp(factor: f64) -> Change {
    Change {
        page: 0,
        metric: Metric::Lcp,
        factor,
    }
}

fn main() {
    let gates = arg("--gates", 4000);
    let seed = arg("--seed", 1) as u64;
    let options = VerdictOptions::default();
    let default_runs = 30;
    let started = std::time::Instant::now();
    if std::env::args().any(|a| a == "--by-node") {
        by_node(gates, seed + 19, &options);
        println!("\nelapsed {:.1} s", started.elapsed().as_secs_f64());
        return;
    }
    println!(
        "rumcheck gate validity: {gates} simulated gates per row, seed {seed}, α = {}",
        options.alpha
    );
    println!(
        "world: 3 pages × 5 metrics (lcp, cls, inp, fcp, ttfb), log-normal visits, per-visit shared factor,"
    );
    println!(
        "2 % outlier visits ×1.5–3, CLS = 0 on 40 % of visits; candidate and reference {default_runs} runs each\n"
    );

    println!("## A/A family-wise false-alarm rate (15 comparisons, no real change)\n");
    println!(
        "| CV | rumcheck (Holm + threshold) | uncorrected Mann-Whitney per metric at 0.05 (sitespeed.io) | best of 3 vs budget (Lighthouse CI) |"
    );
    println!("|---|---|---|---|");
    for (i, cv) in [0.10, 0.15, 0.20].into_iter().enumerate() {
        let s = seed + 100 * i as u64;
        let ours = simulate::fixed_runs(&world(cv), default_runs, None, gates, s, &options);
        let sitespeed =
            simulate::uncorrected_mann_whitney(&world(cv), default_runs, None, gates, s);
        let lhci = simulate::best_of_three(&world(cv), None, gates, s);
        println!(
            "| {:.0} % | {} (inconclusive {}) | {} | {} |",
            cv * 100.0,
            pct(ours.false_alarm),
            pct(ours.inconclusive),
            pct(sitespeed.false_alarm),
            pct(lhci.false_alarm)
        );
    }

    println!("\n## Power: +20 % LCP on one page, CV 15 %\n");
    println!("| approach | runs | detected | false alarm elsewhere |");
    println!("|---|---|---|---|");
    let w15 = world(0.15);
    let power_gates = gates / 2;
    for runs in [20, default_runs, 40] {
        let r = simulate::fixed_runs(&w15, runs, Some(lcp(1.2)), power_gates, seed + 7, &options);
        println!(
            "| rumcheck | {runs} | {} | {} |",
            pct(r.detected),
            pct(r.false_alarm)
        );
    }
    let r = simulate::uncorrected_mann_whitney(
        &w15,
        default_runs,
        Some(lcp(1.2)),
        power_gates,
        seed + 7,
    );
    println!(
        "| uncorrected Mann-Whitney (sitespeed.io) | {default_runs} | {} | {} |",
        pct(r.detected),
        pct(r.false_alarm)
    );
    let r = simulate::best_of_three(&w15, Some(lcp(1.2)), power_gates, seed + 7);
    println!(
        "| best of 3 vs budget (Lighthouse CI) | 3 | {} | {} |",
        pct(r.detected),
        pct(r.false_alarm)
    );

    println!("\n## Runs per variant needed for 90 % power (LCP shift on one page)\n");
    println!("| CV | +15 % | +20 % | +30 % |");
    println!("|---|---|---|---|");
    let search_gates = (gates / 10).max(200);
    for cv in [0.05, 0.10, 0.15] {
        let cells: Vec<String> = [1.15, 1.20, 1.30]
            .iter()
            .map(|&f| {
                match simulate::runs_for_power(
                    &world(cv),
                    lcp(f),
                    0.9,
                    search_gates,
                    seed + 11,
                    &options,
                ) {
                    Some((n, p)) => format!("{n} ({})", pct(p)),
                    None => format!("> {}", simulate::RUN_GRID[simulate::RUN_GRID.len() - 1]),
                }
            })
            .collect();
        println!("| {:.0} % | {} |", cv * 100.0, cells.join(" | "));
    }

    println!(
        "\n## Adaptive sampling (`--runs auto`: looks at 8, 16, 24, 32, 40 runs; O'Brien–Fleming spending)\n"
    );
    let cap = 40;
    let aa = simulate::adaptive_runs(&w15, cap, None, gates, seed + 13, &options);
    let h1 = simulate::adaptive_runs(&w15, cap, Some(lcp(1.2)), power_gates, seed + 17, &options);
    let fixed = equal_power_fixed(&w15, h1.detected, power_gates, seed + 17, &options);
    println!("| CV 15 % | false alarm | detected (+20 % LCP) | mean runs | inconclusive |");
    println!("|---|---|---|---|---|");
    row("adaptive, A/A", &aa, None);
    row("adaptive, +20 % LCP", &h1, Some(h1.detected));
    if let Some((n, r)) = fixed {
        row(
            &format!("fixed {n} runs (first n with at least the adaptive power)"),
            &r,
            Some(r.detected),
        );
    }
    by_node(gates / 4, seed + 19, &options);
    println!("\nelapsed {:.1} s", started.elapsed().as_secs_f64());
}

/// The speeds of the simulated grid's nodes (the slowest 30 % slower).
const NODE_SPEEDS: [f64; 4] = [1.0, 1.1, 1.2, 1.3];

/// Judging by node on a Selenium Grid: visits land at random on 4 machines
/// whose speeds differ by up to 30 %; the same samples are judged stratified
/// by node (van Elteren, Hodges-Lehmann shift per node combined) and pooled.
fn by_node(gates: usize, seed: u64, options: &VerdictOptions) {
    println!(
        "\n## A Selenium Grid of unequal nodes: stratified by node vs pooled ({gates} gates per cell)\n"
    );
    println!(
        "4 nodes of speed ×1.0, ×1.1, ×1.2, ×1.3 (each visit on one at random), CV 15 %, 15 comparisons\n"
    );
    println!(
        "| runs per variant | false alarm, by node | false alarm, pooled | +10 % LCP found, by node | pooled | +20 % LCP found, by node | pooled |"
    );
    println!("|---|---|---|---|---|---|---|");
    let w = World {
        node_speeds: NODE_SPEEDS.to_vec(),
        ..world(0.15)
    };
    for (i, runs) in [12, 20, 30].into_iter().enumerate() {
        let s = seed + 100 * i as u64;
        let (aa_s, aa_p) = simulate::by_node(&w, runs, None, gates, s, options);
        let mut cells = vec![pct(aa_s.false_alarm), pct(aa_p.false_alarm)];
        for factor in [1.1, 1.2] {
            let (h_s, h_p) = simulate::by_node(&w, runs, Some(lcp(factor)), gates, s + 7, options);
            cells.push(pct(h_s.detected));
            cells.push(pct(h_p.detected));
        }
        println!("| {runs} | {} |", cells.join(" | "));
    }
}

fn row(name: &str, r: &Rates, detected: Option<f64>) {
    println!(
        "| {name} | {} | {} | {:.1} | {} |",
        pct(r.false_alarm),
        detected.map(pct).unwrap_or_else(|| "–".into()),
        r.mean_runs,
        pct(r.inconclusive)
    );
}

/// The smallest fixed run count (steps of 2) whose power reaches `target`.
fn equal_power_fixed(
    w: &World,
    target: f64,
    gates: usize,
    seed: u64,
    options: &VerdictOptions,
) -> Option<(usize, Rates)> {
    (8..=80).step_by(2).find_map(|n| {
        let r = simulate::fixed_runs(w, n, Some(lcp(1.2)), gates, seed, options);
        (r.detected >= target).then_some((n, r))
    })
}
