//! rumcheck's user-space shaping proxy: an HTTP/1.1 forward proxy (absolute-
//! form requests, keep-alive) with CONNECT tunnels, on 127.0.0.1, that delays
//! traffic at the connection level. See [`shaper`] for the network model.
//!
//! Why not CDP throttling: on Chromium 156, `Network.emulateNetworkConditions`
//! latency never shows in the navigation's `responseStart`, so TTFB does not
//! move, while real users' TTFB includes their round trips.
//!
//! Costs as the browser sees them: a new connection pays one RTT (TCP
//! handshake) before its first request; each request/response pays one RTT
//! plus its bytes over the shared bandwidth; TLS inside a CONNECT tunnel pays
//! its own round trips. Start one proxy per browser: all its connections
//! share one bandwidth budget per direction.

mod http;
mod secure;
pub(crate) mod shaper;
pub(crate) mod wire;

use super::error::ProxyError;
use super::profile::{HostPattern, NetworkConditions, Profile};
pub use secure::PROXY_DOMAIN;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// Network shaping in the units the proxy uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shaping {
    /// Round-trip time; each direction costs half.
    pub rtt: Duration,
    /// Downstream rate in bytes/s; `None` = unlimited.
    pub down_bytes_per_sec: Option<f64>,
    /// Upstream rate in bytes/s; `None` = unlimited.
    pub up_bytes_per_sec: Option<f64>,
    /// Probability in [0, 1) that a segment is lost.
    pub loss: f64,
    /// One-way delay varies uniformly by ± this much per flight.
    pub jitter: Duration,
}

impl Shaping {
    /// No delay, no limit: the proxy only blocks/hangs hosts.
    pub const NONE: Shaping = Shaping {
        rtt: Duration::ZERO,
        down_bytes_per_sec: None,
        up_bytes_per_sec: None,
        loss: 0.0,
        jitter: Duration::ZERO,
    };

    /// Converts validated conditions (kbps = 1000 bit/s).
    pub fn from_conditions(c: &NetworkConditions) -> Shaping {
        let rate = |kbps: f64| Some(super::cdp::kbps_to_bytes_per_sec(kbps));
        Shaping {
            rtt: Duration::from_secs_f64(c.rtt_ms.max(0.0) / 1000.0),
            down_bytes_per_sec: rate(c.down_kbps),
            up_bytes_per_sec: rate(c.up_kbps),
            loss: c.loss.clamp(0.0, 0.999),
            jitter: Duration::from_secs_f64(c.jitter_ms.max(0.0) / 1000.0),
        }
    }
}

/// Everything the proxy does to traffic. Replaceable while it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    /// Delay and bandwidth.
    pub shaping: Shaping,
    /// Hosts refused at once (502 for plain HTTP, a failed tunnel for HTTPS).
    pub block: Vec<HostPattern>,
    /// Hosts that are accepted and never answered.
    pub hang: Vec<HostPattern>,
    /// Seed for loss and jitter draws (reproducible runs).
    pub seed: u64,
}

impl ProxyConfig {
    /// Shaping only, no host rules.
    pub fn shaping(shaping: Shaping) -> ProxyConfig {
        ProxyConfig {
            shaping,
            block: Vec::new(),
            hang: Vec::new(),
            seed: 0x5eed,
        }
    }

    /// What `profile` asks the proxy to do (unshaped when it has no network).
    pub fn from_profile(profile: &Profile) -> ProxyConfig {
        ProxyConfig {
            shaping: profile
                .network
                .as_ref()
                .map_or(Shaping::NONE, Shaping::from_conditions),
            block: profile.block.clone(),
            hang: profile.hang.clone(),
            seed: 0x5eed,
        }
    }

    fn rule(&self, host: &str) -> Rule {
        if self.block.iter().any(|p| p.matches(host)) {
            Rule::Block
        } else if self.hang.iter().any(|p| p.matches(host)) {
            Rule::Hang
        } else {
            Rule::Pass
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    Pass,
    Block,
    Hang,
}

/// Counters since the proxy started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Browser connections accepted.
    pub client_connections: u64,
    /// Connections opened to origins (each paid a set-up RTT).
    pub origin_connections: u64,
    /// Requests (and tunnels) refused by `block`.
    pub blocked: u64,
    /// Requests (and tunnels) held by `hang`.
    pub hung: u64,
    /// Bytes shaped downstream.
    pub bytes_down: u64,
    /// Bytes shaped upstream.
    pub bytes_up: u64,
    /// Segments that were "lost" and retransmitted.
    pub lost_segments: u64,
    /// Connections refused for lacking the session's credentials (a proxy
    /// open to the network only).
    pub refused: u64,
}

#[derive(Default)]
struct Counters {
    client_connections: AtomicU64,
    origin_connections: AtomicU64,
    blocked: AtomicU64,
    hung: AtomicU64,
    bytes_down: AtomicU64,
    bytes_up: AtomicU64,
    lost: AtomicU64,
    refused: AtomicU64,
}

/// State shared by all connections of one proxy.
pub(crate) struct Shared {
    config: RwLock<Arc<ProxyConfig>>,
    up: shaper::Link,
    down: shaper::Link,
    stats: Counters,
    seq: AtomicU64,
}

impl Shared {
    fn config(&self) -> Arc<ProxyConfig> {
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Where proxies listen and how browsers reach them. The default is
/// 127.0.0.1, plain HTTP: browsers on this machine only. Anything else
/// (`--proxy-listen`, `--proxy-advertise`) opens proxies to the network,
/// each with its own credentials (`proxy/secure.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listen {
    /// Address to bind (default 127.0.0.1); `0.0.0.0` for every interface.
    pub bind: Option<IpAddr>,
    /// Host name or address browsers use to reach this host (default: the
    /// bound address).
    pub advertise: Option<String>,
}

impl Listen {
    /// Whether proxies are open to the network (and need credentials).
    pub fn is_open(&self) -> bool {
        self.bind.is_some() || self.advertise.is_some()
    }

    /// The address to bind and the host browsers are told; a wildcard bind
    /// without `advertise` names no host and is refused.
    fn resolve(&self) -> Result<(IpAddr, String), ProxyError> {
        let bind = self.bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        match &self.advertise {
            Some(host) => Ok((bind, host.clone())),
            None if bind.is_unspecified() => Err(ProxyError::NoAdvertise { bind }),
            None => Ok((bind, bind.to_string())),
        }
    }

    /// Checks the combination before any browser starts.
    pub fn validate(&self) -> Result<(), ProxyError> {
        self.resolve().map(|_| ())
    }
}

/// How browsers reach a running proxy.
enum Access {
    /// 127.0.0.1, plain HTTP.
    Loopback,
    /// Open to the network: TLS naming this proxy's token.
    Open {
        credentials: Arc<secure::Credentials>,
        advertise: String,
    },
}

/// A running proxy. Dropping it (or [`ProxyHandle::shutdown`]) stops the
/// listener and every connection.
pub struct ProxyHandle {
    addr: SocketAddr,
    access: Access,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

/// Starts a proxy on `127.0.0.1:port` (0 = any free port) in the current
/// tokio runtime.
pub async fn start(port: u16, config: ProxyConfig) -> Result<ProxyHandle, ProxyError> {
    start_with(&Listen::default(), port, config).await
}

/// Starts a proxy as `listen` says: on loopback as [`start`], or open to
/// the network with fresh credentials.
pub async fn start_with(
    listen: &Listen,
    port: u16,
    config: ProxyConfig,
) -> Result<ProxyHandle, ProxyError> {
    let (bind, advertise) = listen.resolve()?;
    let access = if listen.is_open() {
        Access::Open {
            credentials: Arc::new(secure::Credentials::generate()?),
            advertise,
        }
    } else {
        Access::Loopback
    };
    let addr = SocketAddr::new(bind, port);
    let listener = TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            ProxyError::PortInUse { addr }
        } else {
            ProxyError::Bind { addr, source }
        }
    })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ProxyError::Bind { addr, source })?;
    let shared = Arc::new(Shared {
        config: RwLock::new(Arc::new(config)),
        up: shaper::Link::new(),
        down: shaper::Link::new(),
        stats: Counters::default(),
        seq: AtomicU64::new(0),
    });
    let credentials = match &access {
        Access::Open { credentials, .. } => Some(credentials.clone()),
        Access::Loopback => None,
    };
    let task = tokio::spawn(accept_loop(listener, shared.clone(), credentials));
    Ok(ProxyHandle {
        addr,
        access,
        shared,
        task: Some(task),
    })
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    credentials: Option<Arc<secure::Credentials>>,
) {
    // Owning the connection tasks here means aborting this task ends them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    shared.stats.client_connections.fetch_add(1, Ordering::Relaxed);
                    match &credentials {
                        Some(c) => connections.spawn(c.clone().serve(stream, shared.clone())),
                        None => {
                            let (read, write) = stream.into_split();
                            connections.spawn(http::serve(Box::new(read), write, shared.clone()))
                        }
                    };
                }
                // Out of file descriptors and the like: back off, keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

impl ProxyHandle {
    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy as a browser context's `proxyServer`: `http://ADDR`. Only
    /// for a loopback proxy; one open to the network needs the browser
    /// switches of [`ProxyHandle::chrome_args`].
    pub fn server(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Chrome switches that route all traffic, loopback included, through
    /// this proxy (with its credentials when it is open to the network).
    pub fn chrome_args(&self) -> Vec<String> {
        match &self.access {
            Access::Loopback => super::cdp::proxy_chrome_args(self.addr),
            Access::Open {
                credentials,
                advertise,
            } => credentials.chrome_args(advertise, self.addr.port()),
        }
    }

    /// Replaces shaping and host rules; applies to bytes sent from now on
    /// (open connections keep their sockets).
    pub fn set_config(&self, config: ProxyConfig) {
        *self
            .shared
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
    }

    /// Switches to `profile`'s network and host rules.
    pub fn set_profile(&self, profile: &Profile) {
        self.set_config(ProxyConfig::from_profile(profile));
    }

    /// The current configuration.
    pub fn config(&self) -> ProxyConfig {
        (*self.shared.config()).clone()
    }

    /// Counters since start.
    pub fn stats(&self) -> ProxyStats {
        let c = &self.shared.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ProxyStats {
            client_connections: get(&c.client_connections),
            origin_connections: get(&c.origin_connections),
            blocked: get(&c.blocked),
            hung: get(&c.hung),
            bytes_down: get(&c.bytes_down),
            bytes_up: get(&c.bytes_up),
            lost_segments: get(&c.lost),
            refused: get(&c.refused),
        }
    }

    /// Stops the proxy and waits until its listener is closed.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
