//! The shaping proxy against a loopback origin, with a raw TCP client: no
//! browser. Timing bounds: lower bounds are strict (the proxy must never be
//! faster than the network it emulates); upper bounds leave room for a busy
//! 2-core CI box.

use rumcheck::throttle::proxy::{self, ProxyConfig, Shaping};
use rumcheck::throttle::{HostPattern, NetworkConditions, Profile, ProxyError};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Timing tests take turns, so they do not slow each other down on a small box.
static TIMING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Scheduling noise on a busy machine only ever adds time, so accuracy is
/// judged on the fastest of a few attempts; every attempt must still respect
/// the lower bound (the proxy may never be faster than its network).
macro_rules! fastest {
    ($n:expr, $lower:expr, $attempt:expr) => {{
        let lower: Duration = $lower;
        let mut best = Duration::MAX;
        for _ in 0..$n {
            let d: Duration = $attempt;
            assert!(
                d >= lower,
                "faster than the emulated network: {d:?} < {lower:?}"
            );
            best = best.min(d);
        }
        best
    }};
}

/// A tiny HTTP/1.1 origin on 127.0.0.1: `GET /bytes/N` answers N bytes,
/// `GET /chunked/N` the same chunked, `POST /sink` counts the body, anything
/// else answers `ok`. Keep-alive. It lives as long as the test's runtime.
async fn origin() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_origin(stream));
        }
    });
    addr
}

async fn serve_origin(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let mut tmp = [0u8; 8192];
            match stream.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        buf.drain(..head_end);
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        while buf.len() < length {
            let mut tmp = [0u8; 65536];
            match stream.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        }
        buf.drain(..length);
        let response = if let Some(n) = path.strip_prefix("/bytes/") {
            let n: usize = n.parse().unwrap();
            let mut r = format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n").into_bytes();
            r.resize(r.len() + n, b'x');
            r
        } else if let Some(n) = path.strip_prefix("/chunked/") {
            let n: usize = n.parse().unwrap();
            let mut r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            r.extend_from_slice(format!("{n:x}\r\n").as_bytes());
            r.resize(r.len() + n, b'y');
            r.extend_from_slice(b"\r\n0\r\n\r\n");
            r
        } else if path == "/sink" {
            let body = length.to_string();
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()
        };
        if stream.write_all(&response).await.is_err() {
            return;
        }
    }
}

/// One response read off a raw connection.
struct Fetched {
    status: u16,
    ttfb: Duration,
    total: Duration,
    body: Vec<u8>,
}

/// Sends `request` on `conn` and reads one response (Content-Length or chunked).
async fn exchange(conn: &mut TcpStream, request: &[u8]) -> Fetched {
    let start = Instant::now();
    conn.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let mut ttfb = None;
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let mut tmp = [0u8; 65536];
        let n = conn.read(&mut tmp).await.unwrap();
        assert!(n > 0, "connection closed before a response head");
        ttfb.get_or_insert_with(|| start.elapsed());
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    let mut rest = buf.split_off(head_end);
    let body = if head.contains("transfer-encoding: chunked") {
        while !rest.ends_with(b"\r\n0\r\n\r\n") {
            let mut tmp = [0u8; 65536];
            let n = conn.read(&mut tmp).await.unwrap();
            assert!(n > 0);
            rest.extend_from_slice(&tmp[..n]);
        }
        let first = rest.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
        rest[first..rest.len() - 7].to_vec()
    } else {
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap();
        while rest.len() < length {
            let mut tmp = [0u8; 65536];
            let n = conn.read(&mut tmp).await.unwrap();
            assert!(n > 0, "connection closed mid-body");
            rest.extend_from_slice(&tmp[..n]);
        }
        rest
    };
    Fetched {
        status,
        ttfb: ttfb.unwrap(),
        total: start.elapsed(),
        body,
    }
}

fn get(origin: SocketAddr, path: &str) -> Vec<u8> {
    format!("GET http://{origin}{path} HTTP/1.1\r\nHost: {origin}\r\n\r\n").into_bytes()
}

fn conditions(rtt_ms: f64, down_kbps: f64, up_kbps: f64) -> ProxyConfig {
    ProxyConfig::shaping(Shaping::from_conditions(&NetworkConditions {
        rtt_ms,
        down_kbps,
        up_kbps,
        loss: 0.0,
        jitter_ms: 0.0,
    }))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn assert_within(measured: Duration, expected_ms: f64, tolerance: f64, what: &str) {
    let m = ms(measured);
    assert!(
        (m - expected_ms).abs() <= expected_ms * tolerance,
        "{what}: measured {m:.1} ms, expected {expected_ms:.1} ms ± {:.0} %",
        tolerance * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttfb_pays_connection_setup_and_the_request_round_trip() {
    let _turn = TIMING.lock().await;
    let origin = origin().await;
    // Direct: the origin answers at once.
    let mut direct = TcpStream::connect(origin).await.unwrap();
    let base = exchange(&mut direct, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(base.ttfb < Duration::from_millis(50));

    let proxy = proxy::start(0, conditions(200.0, 100_000.0, 100_000.0))
        .await
        .unwrap();
    // New connection: handshake RTT + request/response RTT.
    let first = fastest!(3, Duration::from_millis(400), {
        let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
        let f = exchange(&mut conn, &get(origin, "/")).await;
        assert_eq!((f.status, f.body.as_slice()), (200, &b"ok"[..]));
        f.ttfb
    });
    assert!(first < Duration::from_millis(460), "{first:?}");
    assert_eq!(proxy.stats().origin_connections, 3);
    // Keep-alive: one RTT.
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    exchange(&mut conn, &get(origin, "/")).await;
    let again = fastest!(3, Duration::from_millis(200), {
        exchange(&mut conn, &get(origin, "/")).await.ttfb
    });
    assert!(again < Duration::from_millis(260), "{again:?}");
    assert_eq!(proxy.stats().origin_connections, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_kb_download_takes_size_over_bandwidth_plus_rtt() {
    let _turn = TIMING.lock().await;
    let origin = origin().await;
    // 4000 kbit/s = 500 000 B/s: 500 000 B take 1000 ms, plus a 100 ms RTT.
    let proxy = proxy::start(0, conditions(100.0, 4000.0, 4000.0))
        .await
        .unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    exchange(&mut conn, &get(origin, "/")).await; // open the connection first
    let best = fastest!(3, Duration::from_millis(1100), {
        let f = exchange(&mut conn, &get(origin, "/bytes/500000")).await;
        assert_eq!(f.body.len(), 500_000);
        f.total
    });
    assert_within(best, 1100.0, 0.10, "500 KB at 4 Mbit/s, 100 ms RTT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_downloads_share_one_bandwidth_budget() {
    let _turn = TIMING.lock().await;
    let origin = origin().await;
    let proxy = proxy::start(0, conditions(50.0, 4000.0, 4000.0))
        .await
        .unwrap();
    let mut a = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut b = TcpStream::connect(proxy.addr()).await.unwrap();
    exchange(&mut a, &get(origin, "/")).await;
    exchange(&mut b, &get(origin, "/")).await;
    // Alone, 250 000 B take 500 ms + 50 ms; sharing the link, each takes ~2x.
    let req = get(origin, "/bytes/250000");
    let mut best = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        let (fa, fb) = tokio::join!(exchange(&mut a, &req), exchange(&mut b, &req));
        assert_eq!((fa.body.len(), fb.body.len()), (250_000, 250_000));
        // Together they moved 500 000 B through one 500 000 B/s link.
        assert!(fa.total.max(fb.total) >= Duration::from_millis(1050));
        best = (best.0.min(fa.total), best.1.min(fb.total));
    }
    assert_within(best.0, 1050.0, 0.10, "first of two parallel downloads");
    assert_within(best.1, 1050.0, 0.10, "second of two parallel downloads");
    let alone = fastest!(3, Duration::from_millis(550), {
        exchange(&mut a, &req).await.total
    });
    assert_within(alone, 550.0, 0.10, "a download alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_shaped_by_the_upstream_budget() {
    let _turn = TIMING.lock().await;
    let origin = origin().await;
    // 800 kbit/s up = 100 000 B/s: a 100 000 B body takes 1000 ms + 100 ms RTT.
    let proxy = proxy::start(0, conditions(100.0, 50_000.0, 800.0))
        .await
        .unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    exchange(&mut conn, &get(origin, "/")).await;
    let mut req = format!(
        "POST http://{origin}/sink HTTP/1.1\r\nHost: {origin}\r\nContent-Length: 100000\r\n\r\n"
    )
    .into_bytes();
    req.resize(req.len() + 100_000, b'u');
    let best = fastest!(3, Duration::from_millis(1100), {
        let f = exchange(&mut conn, &req).await;
        assert_eq!(f.body, b"100000");
        f.total
    });
    assert_within(best, 1100.0, 0.10, "100 KB upload at 800 kbit/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_responses_pass_through_and_keep_alive_continues() {
    let origin = origin().await;
    let proxy = proxy::start(0, conditions(20.0, 100_000.0, 100_000.0))
        .await
        .unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let f = exchange(&mut conn, &get(origin, "/chunked/70000")).await;
    assert_eq!(f.body.len(), 70_000);
    assert!(f.body.iter().all(|&b| b == b'y'));
    let g = exchange(&mut conn, &get(origin, "/bytes/10")).await;
    assert_eq!(g.body, b"xxxxxxxxxx");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_hosts_are_refused_at_once() {
    let origin = origin().await;
    let mut config = conditions(300.0, 1000.0, 1000.0);
    config.block = vec![HostPattern::parse("*.ads.test").unwrap()];
    let proxy = proxy::start(0, config).await.unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let f = exchange(
        &mut conn,
        b"GET http://x.ads.test/a.js HTTP/1.1\r\nHost: x.ads.test\r\n\r\n",
    )
    .await;
    assert_eq!(f.status, 502);
    assert!(f.total < Duration::from_millis(150), "{:?}", f.total);
    // The connection stays usable for other hosts.
    let ok = exchange(&mut conn, &get(origin, "/")).await;
    assert_eq!(ok.status, 200);
    // HTTPS: the tunnel is refused.
    let mut tls = TcpStream::connect(proxy.addr()).await.unwrap();
    let start = Instant::now();
    tls.write_all(b"CONNECT cdn.ads.test:443 HTTP/1.1\r\nHost: cdn.ads.test:443\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 512];
    let n = tls.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 502"));
    assert!(start.elapsed() < Duration::from_millis(150));
    assert_eq!(proxy.stats().blocked, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_hosts_accept_and_never_answer() {
    let origin = origin().await;
    let mut config = conditions(10.0, 100_000.0, 100_000.0);
    config.hang = vec![HostPattern::parse("slow.test").unwrap()];
    let proxy = proxy::start(0, config).await.unwrap();
    let mut hung = TcpStream::connect(proxy.addr()).await.unwrap();
    hung.write_all(b"GET http://slow.test/sync.js HTTP/1.1\r\nHost: slow.test\r\n\r\n")
        .await
        .unwrap();
    let mut tunnel = TcpStream::connect(proxy.addr()).await.unwrap();
    tunnel
        .write_all(b"CONNECT slow.test:443 HTTP/1.1\r\nHost: slow.test:443\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_millis(800), hung.read(&mut buf)).await;
    assert!(read.is_err(), "a hung host answered: {read:?}");
    // The tunnel is "established", then the TLS hello is never answered.
    let n = tunnel.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    tunnel
        .write_all(b"\x16\x03\x01 client hello")
        .await
        .unwrap();
    let read = tokio::time::timeout(Duration::from_millis(300), tunnel.read(&mut buf)).await;
    assert!(read.is_err(), "a hung tunnel answered: {read:?}");
    // Everything else still flows.
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(exchange(&mut conn, &get(origin, "/")).await.status, 200);
    assert_eq!(proxy.stats().hung, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_tunnels_bytes_and_pays_the_handshake_rtt() {
    let _turn = TIMING.lock().await;
    let origin = origin().await;
    let proxy = proxy::start(0, conditions(150.0, 100_000.0, 100_000.0))
        .await
        .unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let start = Instant::now();
    conn.write_all(format!("CONNECT {origin} HTTP/1.1\r\nHost: {origin}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = [0u8; 39];
    conn.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200 Connection Established\r\n\r\n");
    let setup = start.elapsed();
    assert!(
        setup >= Duration::from_millis(150) && setup < Duration::from_millis(220),
        "{setup:?}"
    );
    // Inside the tunnel the bytes are the origin's own (origin-form request).
    let f = exchange(&mut conn, b"GET /bytes/3000 HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(f.body.len(), 3000);
    assert!(
        f.ttfb >= Duration::from_millis(150) && f.ttfb < Duration::from_millis(230),
        "{:?}",
        f.ttfb
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_costs_retransmissions() {
    let origin = origin().await;
    let mut lossy = conditions(40.0, 8000.0, 8000.0);
    lossy.shaping.loss = 0.2;
    let proxy = proxy::start(0, lossy).await.unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    exchange(&mut conn, &get(origin, "/")).await;
    // 100 000 B at 1 000 000 B/s: 100 ms + 40 ms without loss.
    let f = exchange(&mut conn, &get(origin, "/bytes/100000")).await;
    assert_eq!(f.body.len(), 100_000);
    let lost = proxy.stats().lost_segments;
    // ~70 segments (plus the small ones) at p = 0.2: binomial mean ~14.
    assert!((3..=35).contains(&lost), "lost {lost}");
    // Each loss re-sends its segment and the stream waits an extra RTT.
    assert!(f.total >= Duration::from_millis(180), "{:?}", f.total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_is_a_clear_error_and_a_dropped_proxy_stops() {
    let first = proxy::start(0, ProxyConfig::shaping(Shaping::NONE))
        .await
        .unwrap();
    let port = first.addr().port();
    let err = proxy::start(port, ProxyConfig::shaping(Shaping::NONE))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ProxyError::PortInUse { .. }));
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert!(err.to_string().contains("already in use"), "{err}");
    let addr = first.addr();
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "proxy still listening after drop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_switches_the_running_proxy() {
    let _turn = TIMING.lock().await;
    let origin = origin().await;
    let proxy = proxy::start(0, ProxyConfig::shaping(Shaping::NONE))
        .await
        .unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    let fast = fastest!(
        3,
        Duration::ZERO,
        exchange(&mut conn, &get(origin, "/")).await.ttfb
    );
    assert!(fast < Duration::from_millis(100), "{fast:?}");
    let profile = Profile::from_toml(
        "name = \"m\"\nnetwork = { rtt_ms = 120, down_kbps = 50000, up_kbps = 50000 }",
    )
    .unwrap();
    proxy.set_profile(&profile);
    let slow = exchange(&mut conn, &get(origin, "/")).await;
    assert!(slow.ttfb >= Duration::from_millis(120), "{:?}", slow.ttfb);
    assert_eq!(proxy.chrome_args()[1], "--proxy-bypass-list=<-loopback>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accuracy_check_reports_requested_vs_measured() {
    let _turn = TIMING.lock().await;
    let cable = rumcheck::throttle::presets::network("cable")
        .unwrap()
        .conditions;
    let check = rumcheck::throttle::accuracy::measure(&cable).await.unwrap();
    println!("cable: {}", check.summary());
    // Never better than requested; close to it on a quiet machine.
    assert!(check.rtt_ms >= cable.rtt_ms, "{}", check.summary());
    assert!(
        check.new_connection_ttfb_ms >= 2.0 * cable.rtt_ms,
        "{}",
        check.summary()
    );
    assert!(
        check.down_kbps <= cable.down_kbps * 1.02,
        "{}",
        check.summary()
    );
    assert!(check.up_kbps <= cable.up_kbps * 1.02, "{}", check.summary());
    assert!(check.within(0.25), "{}", check.summary());
}

#[test]
fn profiles_command_lists_the_presets() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rumcheck"))
        .arg("profiles")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in [
        "slow-4g",
        "cable",
        "dsl",
        "3gfast",
        "lte",
        "phone",
        "lighthouse-mobile",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitter_varies_round_trips_around_the_rtt() {
    let _turn = TIMING.lock().await;
    let origin = origin().await;
    let mut config = conditions(100.0, 100_000.0, 100_000.0);
    config.shaping.jitter = Duration::from_millis(20);
    let proxy = proxy::start(0, config).await.unwrap();
    let mut conn = TcpStream::connect(proxy.addr()).await.unwrap();
    exchange(&mut conn, &get(origin, "/")).await;
    let mut ttfbs = Vec::new();
    for _ in 0..12 {
        ttfbs.push(ms(exchange(&mut conn, &get(origin, "/")).await.ttfb));
    }
    // Each direction is 50 ms ± 20 ms, so a round trip lies in [60, 140] ms.
    assert!(ttfbs.iter().all(|&t| t >= 60.0), "{ttfbs:?}");
    let min = ttfbs.iter().cloned().fold(f64::MAX, f64::min);
    let max = ttfbs.iter().cloned().fold(0.0, f64::max);
    assert!(max - min > 5.0, "no variation: {ttfbs:?}");
    assert!(min < 140.0, "{ttfbs:?}");
}
