//! Requested vs measured network conditions through the shaping proxy, for a
//! `rumcheck calibrate-host`-style check: how faithful is this machine?
//!
//! [`measure`] starts a loopback origin and a proxy with the requested
//! conditions, then times, with a raw HTTP/1.1 client: a request on a new
//! connection (set-up + one round trip), requests on a kept-alive connection
//! (one round trip; the median of five), a download and an upload sized to
//! take about a second. Throughput = bytes / (time − measured RTT).

use super::error::ProxyError;
use super::profile::NetworkConditions;
use super::proxy::wire::{self, Framing, Reader, Sink};
use super::proxy::{self, ProxyConfig, Shaping};
use std::io;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// One profile's requested and measured values.
#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyCheck {
    /// What was asked for.
    pub requested: NetworkConditions,
    /// Time to first byte of a request on a new connection (expected 2 × RTT).
    pub new_connection_ttfb_ms: f64,
    /// Time to first byte on a kept-alive connection (expected RTT).
    pub rtt_ms: f64,
    /// Measured downstream throughput in kbit/s.
    pub down_kbps: f64,
    /// Measured upstream throughput in kbit/s.
    pub up_kbps: f64,
    /// Bytes downloaded for the throughput measurement.
    pub download_bytes: usize,
    /// Bytes uploaded for the throughput measurement.
    pub upload_bytes: usize,
}

impl AccuracyCheck {
    /// Relative RTT error (measured / requested − 1); 0 when 0 was requested.
    pub fn rtt_error(&self) -> f64 {
        relative(self.rtt_ms, self.requested.rtt_ms)
    }

    /// Relative downstream throughput error.
    pub fn down_error(&self) -> f64 {
        relative(self.down_kbps, self.requested.down_kbps)
    }

    /// Relative upstream throughput error.
    pub fn up_error(&self) -> f64 {
        relative(self.up_kbps, self.requested.up_kbps)
    }

    /// Whether RTT and both throughputs are within `tolerance` (e.g. 0.10).
    pub fn within(&self, tolerance: f64) -> bool {
        [self.rtt_error(), self.down_error(), self.up_error()]
            .iter()
            .all(|e| e.abs() <= tolerance)
    }

    /// A one-line summary: requested → measured.
    pub fn summary(&self) -> String {
        let r = &self.requested;
        format!(
            "RTT {:.0} → {:.1} ms ({:+.1} %), down {:.0} → {:.0} kbps ({:+.1} %), \
             up {:.0} → {:.0} kbps ({:+.1} %), new-connection TTFB {:.1} ms",
            r.rtt_ms,
            self.rtt_ms,
            self.rtt_error() * 100.0,
            r.down_kbps,
            self.down_kbps,
            self.down_error() * 100.0,
            r.up_kbps,
            self.up_kbps,
            self.up_error() * 100.0,
            self.new_connection_ttfb_ms,
        )
    }
}

fn relative(measured: f64, requested: f64) -> f64 {
    if requested == 0.0 {
        0.0
    } else {
        measured / requested - 1.0
    }
}

/// Measures what the proxy delivers for `requested` on this machine. Takes
/// about 2–3 s plus 8 RTTs.
pub async fn measure(requested: &NetworkConditions) -> Result<AccuracyCheck, ProxyError> {
    let origin = Origin::start().await.map_err(step("starting the origin"))?;
    let proxy = proxy::start(0, ProxyConfig::shaping(Shaping::from_conditions(requested))).await?;
    let url = |path: &str| format!("http://{}{path}", origin.addr);
    let bytes_per_sec = |kbps: f64| kbps * 125.0;
    // About one second of transfer, at least 20 kB, at most 8 MB.
    let size = |kbps: f64| (bytes_per_sec(kbps) as usize).clamp(20_000, 8_000_000);

    let mut conn = Client::connect(proxy.addr())
        .await
        .map_err(step("connecting to the proxy"))?;
    let first = conn
        .get(&url("/bytes/0"))
        .await
        .map_err(step("the first request"))?;
    let mut rtts = Vec::new();
    for _ in 0..5 {
        let t = conn
            .get(&url("/bytes/0"))
            .await
            .map_err(step("a round trip"))?;
        rtts.push(t.ttfb);
    }
    rtts.sort();
    let rtt = rtts[rtts.len() / 2];
    let download_bytes = size(requested.down_kbps);
    let down = conn
        .get(&url(&format!("/bytes/{download_bytes}")))
        .await
        .map_err(step("the download"))?;
    let upload_bytes = size(requested.up_kbps);
    let up = conn
        .post(&url("/sink"), upload_bytes)
        .await
        .map_err(step("the upload"))?;
    let kbps = |bytes: usize, total: Duration| {
        let secs = total.saturating_sub(rtt).as_secs_f64().max(1e-6);
        bytes as f64 * 8.0 / 1000.0 / secs
    };
    proxy.shutdown().await;
    Ok(AccuracyCheck {
        requested: *requested,
        new_connection_ttfb_ms: ms(first.ttfb),
        rtt_ms: ms(rtt),
        down_kbps: kbps(download_bytes, down.total),
        up_kbps: kbps(upload_bytes, up.total),
        download_bytes,
        upload_bytes,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn step(step: &'static str) -> impl Fn(io::Error) -> ProxyError {
    move |source| ProxyError::Measure { step, source }
}

/// A loopback origin: `GET /bytes/N` answers N bytes, `POST /sink` reads the body.
struct Origin {
    addr: std::net::SocketAddr,
    task: JoinHandle<()>,
}

impl Origin {
    async fn start() -> io::Result<Origin> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                conns.spawn(serve_origin(stream));
            }
        });
        Ok(Origin { addr, task })
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_origin(stream: TcpStream) -> io::Result<()> {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = Reader::new(read);
    while let Some(raw) = reader.read_head().await? {
        let req = wire::parse_request(&raw)?;
        wire::forward_body(&mut reader, req.request_framing()?, Sink::Discard).await?;
        let n: usize = req
            .target
            .strip_prefix("/bytes/")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let mut resp = format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n").into_bytes();
        resp.resize(resp.len() + n, b'r');
        write.write_all(&resp).await?;
    }
    Ok(())
}

struct Timed {
    ttfb: Duration,
    total: Duration,
}

struct Client {
    reader: Reader<tokio::net::tcp::OwnedReadHalf>,
    write: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        Ok(Client {
            reader: Reader::new(read),
            write,
        })
    }

    async fn get(&mut self, url: &str) -> io::Result<Timed> {
        let req = format!("GET {url} HTTP/1.1\r\nHost: rumcheck\r\n\r\n");
        self.exchange(req.into_bytes()).await
    }

    async fn post(&mut self, url: &str, size: usize) -> io::Result<Timed> {
        let mut req =
            format!("POST {url} HTTP/1.1\r\nHost: rumcheck\r\nContent-Length: {size}\r\n\r\n")
                .into_bytes();
        req.resize(req.len() + size, b'u');
        self.exchange(req).await
    }

    async fn exchange(&mut self, req: Vec<u8>) -> io::Result<Timed> {
        let start = Instant::now();
        self.write.write_all(&req).await?;
        let raw = self
            .reader
            .read_head()
            .await?
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        let ttfb = start.elapsed();
        let head = wire::parse_response(&raw)?;
        let framing = head.response_framing("GET")?;
        if framing == Framing::UntilClose {
            return Err(io::Error::other("the proxy answered without a length"));
        }
        wire::forward_body(&mut self.reader, framing, Sink::Discard).await?;
        Ok(Timed {
            ttfb,
            total: start.elapsed(),
        })
    }
}
