//! One browser connection: plain HTTP requests forwarded with keep-alive, or
//! a CONNECT tunnel; `block` and `hang` rules applied per host.

use super::shaper::{Dir, Pipe};
use super::wire::{self, Framing, Head, READ_CHUNK, Reader, Sink};
use super::{Rule, Shared};
use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

/// An open connection to an origin, kept for keep-alive reuse.
struct Upstream {
    reader: Reader<OwnedReadHalf>,
    pipe: Pipe,
}

/// The browser's side of a connection: a TCP stream, or TLS over one when
/// the proxy is open to the network (`proxy/secure.rs`).
pub(crate) type ClientRead = Box<dyn AsyncRead + Send + Unpin>;

/// Serves one browser connection (its two halves) until either side closes.
pub(crate) async fn serve<W>(read: ClientRead, write: W, shared: Arc<Shared>)
where
    W: AsyncWrite + Send + Unpin + 'static,
{
    // Writer tasks live here, so aborting this connection aborts them too.
    let mut tasks = JoinSet::new();
    let mut reader = Reader::new(read);
    let down = Pipe::spawn(shared.clone(), Dir::Down, write, &mut tasks);
    let _ = session(&mut reader, down, &shared, &mut tasks).await;
    // Pipes are dropped: let the writers deliver what is still in flight.
    while tasks.join_next().await.is_some() {}
}

async fn session(
    client: &mut Reader<ClientRead>,
    mut down: Pipe,
    shared: &Arc<Shared>,
    tasks: &mut JoinSet<()>,
) -> io::Result<()> {
    let mut upstreams: HashMap<(String, u16), Upstream> = HashMap::new();
    loop {
        let Some(raw) = client.read_head().await? else {
            return Ok(());
        };
        let req = match wire::parse_request(&raw) {
            Ok(r) => r,
            Err(e) => {
                let msg = format!("rumcheck proxy: {e}\n");
                return down
                    .send_now(&wire::own_response(400, "Bad Request", &msg, true))
                    .await;
            }
        };
        if req.method.eq_ignore_ascii_case("CONNECT") {
            drop(upstreams);
            return tunnel(&req, client, down, shared, tasks).await;
        }
        let Some((host, port, origin_form)) = absolute_target(&req.target) else {
            let msg = "rumcheck's shaping proxy forwards absolute http:// URLs and CONNECT only\n";
            return down
                .send_now(&wire::own_response(400, "Bad Request", msg, true))
                .await;
        };
        let framing = req.request_framing()?;
        let config = shared.config();
        match config.rule(&host) {
            Rule::Pass => {}
            Rule::Block => {
                shared.stats.blocked.fetch_add(1, Ordering::Relaxed);
                wire::forward_body(client, framing, Sink::Discard).await?;
                let msg = format!("rumcheck proxy: {host} is blocked by the profile\n");
                down.send_now(&wire::own_response(502, "Bad Gateway", &msg, false))
                    .await?;
                continue;
            }
            Rule::Hang => {
                shared.stats.hung.fetch_add(1, Ordering::Relaxed);
                return hang(client).await;
            }
        }
        let authority = authority(&host, port);
        let key = (host.clone(), port);
        let head = req.origin_request(&origin_form, &authority);
        let mut reused = upstreams.contains_key(&key);
        let mut attempt = 0;
        let resp = loop {
            attempt += 1;
            if !upstreams.contains_key(&key) {
                reused = false;
                match connect(&host, port, shared, tasks).await {
                    Ok(up) => {
                        upstreams.insert(key.clone(), up);
                    }
                    Err(e) => {
                        wire::forward_body(client, framing, Sink::Discard).await?;
                        let msg = format!("rumcheck proxy: cannot connect to {authority}: {e}\n");
                        down.send_now(&wire::own_response(502, "Bad Gateway", &msg, false))
                            .await?;
                        break None;
                    }
                }
            }
            let up = upstreams.get_mut(&key).expect("inserted above");
            let sent = async {
                up.pipe.send(&head).await?;
                wire::forward_body(client, framing, Sink::Pipe(&mut up.pipe)).await?;
                read_final_head(&mut up.reader, &mut down).await
            }
            .await;
            match sent {
                Ok(Some(resp)) => break Some(resp),
                // A reused keep-alive connection the origin had closed: retry
                // once on a new one, as browsers do, if the request can be resent.
                Ok(None) | Err(_) if reused && attempt == 1 && framing == Framing::Empty => {
                    upstreams.remove(&key);
                }
                Ok(None) | Err(_) => {
                    upstreams.remove(&key);
                    let msg = format!("rumcheck proxy: {authority} closed without answering\n");
                    down.send_now(&wire::own_response(502, "Bad Gateway", &msg, true))
                        .await?;
                    return Ok(());
                }
            }
        };
        let Some((resp_raw, resp)) = resp else {
            continue;
        };
        down.send(&resp_raw).await?;
        let up = upstreams.get_mut(&key).expect("present after a response");
        if resp.status == 101 {
            let up = upstreams.remove(&key).expect("present");
            return pump_both(client, up.pipe, up.reader, down).await;
        }
        let resp_framing = resp.response_framing(&req.method)?;
        wire::forward_body(&mut up.reader, resp_framing, Sink::Pipe(&mut down)).await?;
        if resp.wants_close() || resp_framing == Framing::UntilClose {
            return Ok(());
        }
        if req.wants_close() {
            return Ok(());
        }
    }
}

/// Reads response heads, passing 1xx interim responses (but not 101) on.
/// `None` if the origin closed before answering.
async fn read_final_head(
    origin: &mut Reader<OwnedReadHalf>,
    down: &mut Pipe,
) -> io::Result<Option<(Vec<u8>, Head)>> {
    loop {
        let Some(raw) = origin.read_head().await? else {
            return Ok(None);
        };
        let head = wire::parse_response(&raw)?;
        if (100..200).contains(&head.status) && head.status != 101 {
            down.send(&raw).await?;
            continue;
        }
        return Ok(Some((raw, head)));
    }
}

/// Opens a connection to an origin; it becomes usable one RTT later, as a
/// TCP handshake over the emulated network would.
async fn connect(
    host: &str,
    port: u16,
    shared: &Arc<Shared>,
    tasks: &mut JoinSet<()>,
) -> io::Result<Upstream> {
    let start = Instant::now();
    let stream = TcpStream::connect((host, port)).await;
    let ready = start + shared.config().shaping.rtt;
    if ready > Instant::now() {
        sleep_until(ready).await;
    }
    let stream = stream?;
    let _ = stream.set_nodelay(true);
    shared
        .stats
        .origin_connections
        .fetch_add(1, Ordering::Relaxed);
    let (read, write) = stream.into_split();
    Ok(Upstream {
        reader: Reader::new(read),
        pipe: Pipe::spawn(shared.clone(), Dir::Up, write, tasks),
    })
}

async fn tunnel(
    req: &Head,
    client: &mut Reader<ClientRead>,
    mut down: Pipe,
    shared: &Arc<Shared>,
    tasks: &mut JoinSet<()>,
) -> io::Result<()> {
    let Some((host, port)) = connect_target(&req.target) else {
        let msg = format!(
            "rumcheck proxy: CONNECT needs host:port, got {:?}\n",
            req.target
        );
        return down
            .send_now(&wire::own_response(400, "Bad Request", &msg, true))
            .await;
    };
    let established = b"HTTP/1.1 200 Connection Established\r\n\r\n";
    match shared.config().rule(&host) {
        Rule::Pass => {}
        Rule::Block => {
            shared.stats.blocked.fetch_add(1, Ordering::Relaxed);
            let msg = format!("rumcheck proxy: {host} is blocked by the profile\n");
            return down
                .send_now(&wire::own_response(502, "Bad Gateway", &msg, true))
                .await;
        }
        Rule::Hang => {
            // The TCP connection "succeeds"; the TLS handshake is never answered.
            shared.stats.hung.fetch_add(1, Ordering::Relaxed);
            sleep_until(Instant::now() + shared.config().shaping.rtt).await;
            down.send_now(established).await?;
            return hang(client).await;
        }
    }
    let up = match connect(&host, port, shared, tasks).await {
        Ok(up) => up,
        Err(e) => {
            let msg = format!(
                "rumcheck proxy: cannot connect to {}: {e}\n",
                authority(&host, port)
            );
            return down
                .send_now(&wire::own_response(502, "Bad Gateway", &msg, true))
                .await;
        }
    };
    down.send_now(established).await?;
    pump_both(client, up.pipe, up.reader, down).await
}

/// Copies both directions until each side has closed; each pipe is dropped
/// (half-closing its destination) when its source ends.
async fn pump_both(
    client: &mut Reader<ClientRead>,
    mut up: Pipe,
    mut origin: Reader<OwnedReadHalf>,
    mut down: Pipe,
) -> io::Result<()> {
    let upward = async move {
        let r = pump(client, &mut up).await;
        drop(up);
        r
    };
    let downward = async move {
        let r = pump(&mut origin, &mut down).await;
        drop(down);
        r
    };
    let (a, b) = tokio::join!(upward, downward);
    a.and(b)
}

async fn pump<R: AsyncRead + Unpin>(src: &mut Reader<R>, pipe: &mut Pipe) -> io::Result<()> {
    loop {
        let chunk = src.take_upto(READ_CHUNK).await?;
        if chunk.is_empty() {
            return Ok(());
        }
        pipe.send(&chunk).await?;
    }
}

/// Never answers: swallows what the browser sends until it gives up.
async fn hang(client: &mut Reader<ClientRead>) -> io::Result<()> {
    while !client.take_upto(READ_CHUNK).await?.is_empty() {}
    Ok(())
}

/// `http://host[:port]/path?query` → (host, port, `/path?query`).
fn absolute_target(target: &str) -> Option<(String, u16, String)> {
    let url = url::Url::parse(target).ok()?;
    if url.scheme() != "http" {
        return None;
    }
    let host = match url.host()? {
        url::Host::Domain(d) => d.to_string(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    let port = url.port_or_known_default()?;
    let mut origin_form = url.path().to_string();
    if let Some(q) = url.query() {
        origin_form.push('?');
        origin_form.push_str(q);
    }
    Some((host, port, origin_form))
}

/// `host:port` or `[v6]:port` → (host, port).
fn connect_target(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some((host.to_string(), port.parse().ok()?))
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            absolute_target("http://127.0.0.1:8080/a/b?c=1"),
            Some(("127.0.0.1".into(), 8080, "/a/b?c=1".into()))
        );
        assert_eq!(
            absolute_target("http://Example.COM"),
            Some(("example.com".into(), 80, "/".into()))
        );
        assert_eq!(absolute_target("/relative"), None);
        assert_eq!(absolute_target("https://a.test/"), None);
        assert_eq!(connect_target("a.test:443"), Some(("a.test".into(), 443)));
        assert_eq!(connect_target("[::1]:8443"), Some(("::1".into(), 8443)));
        assert_eq!(connect_target("a.test"), None);
        assert_eq!(authority("::1", 80), "[::1]:80");
    }
}
