//! Overhead of the shaping proxy itself, with shaping off: what it adds to a
//! small request and how fast it can move bytes on loopback. The emulated
//! networks (at most ~12 Mbit/s in the presets) need far less than this.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rumcheck::throttle::proxy::{self, ProxyConfig, Shaping};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Loopback origin: `GET /N` answers N bytes, keep-alive.
async fn origin() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let mut tmp = [0u8; 4096];
                    match s.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                    while let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..p]).to_string();
                        buf.drain(..p + 4);
                        let n: usize = head
                            .split_whitespace()
                            .nth(1)
                            .and_then(|t| t.rsplit('/').next())
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(0);
                        let mut r =
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n").into_bytes();
                        r.resize(r.len() + n, b'b');
                        if s.write_all(&r).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// One keep-alive GET; returns when the whole body has arrived.
async fn get(conn: &mut TcpStream, request: &[u8], body: usize) {
    conn.write_all(request).await.unwrap();
    let mut got = Vec::with_capacity(body + 256);
    let mut tmp = vec![0u8; 65536];
    loop {
        let n = conn.read(&mut tmp).await.unwrap();
        assert!(n > 0);
        got.extend_from_slice(&tmp[..n]);
        if let Some(p) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            if got.len() - (p + 4) >= body {
                return;
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (origin, proxy) = rt.block_on(async {
        let origin = origin().await;
        let proxy = proxy::start(0, ProxyConfig::shaping(Shaping::NONE))
            .await
            .unwrap();
        (origin, proxy)
    });
    let mut group = c.benchmark_group("proxy_unshaped");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    for size in [0usize, 1_000_000] {
        let req = format!("GET http://{origin}/{size} HTTP/1.1\r\nHost: {origin}\r\n\r\n");
        let direct_req = format!("GET /{size} HTTP/1.1\r\nHost: {origin}\r\n\r\n");
        let mut via = rt.block_on(TcpStream::connect(proxy.addr())).unwrap();
        let mut direct = rt.block_on(TcpStream::connect(origin)).unwrap();
        via.set_nodelay(true).unwrap();
        direct.set_nodelay(true).unwrap();
        group.throughput(Throughput::Bytes(size.max(1) as u64));
        group.bench_function(format!("direct_get_{size}B"), |b| {
            b.iter(|| rt.block_on(get(&mut direct, direct_req.as_bytes(), size)))
        });
        group.bench_function(format!("via_proxy_get_{size}B"), |b| {
            b.iter(|| rt.block_on(get(&mut via, req.as_bytes(), size)))
        });
    }
    group.finish();
    drop(proxy);
}

criterion_group!(benches, bench);
criterion_main!(benches);
