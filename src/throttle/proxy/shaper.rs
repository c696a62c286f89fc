//! The shaping core: a shared bottleneck link per direction and a delay line
//! per connection direction.
//!
//! Model (what a user's access network does to a TCP stream):
//! - bandwidth: every connection of the page shares ONE link per direction.
//!   A segment occupies the link for `len / rate`; segments from different
//!   connections take turns, so N busy connections each get ~1/N of it.
//! - latency: a segment arrives `RTT/2` after it left the link (each
//!   direction), so a request/response exchange costs one RTT.
//! - jitter: each flight (a burst sent onto an idle line) draws an offset
//!   uniform in ±jitter; the stream stays in order, as TCP delivers it.
//! - loss: a lost segment is sent again (using the link twice) and arrives one
//!   RTT later (fast retransmit); later bytes wait for it (head-of-line).
//!
//! Not modelled: TCP slow start, DNS, TLS record overhead beyond its round
//! trips (TLS handshakes do pay their RTTs, since their bytes go through here).

use super::Shared;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

/// A TCP maximum segment size on Ethernet: the unit of link scheduling and loss.
pub(crate) const MSS: usize = 1460;

/// Direction of travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Browser to origin.
    Up,
    /// Origin to browser.
    Down,
}

/// One direction of the bottleneck: a FIFO transmitter in virtual time.
#[derive(Debug)]
pub(crate) struct Link {
    next_free: std::sync::Mutex<Instant>,
}

impl Link {
    pub(crate) fn new() -> Self {
        Link {
            next_free: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// Books the link for `bytes` at `bytes_per_sec` and returns when the last
    /// bit has left. An idle link starts now: no burst credit accumulates.
    pub(crate) fn reserve(&self, bytes: usize, bytes_per_sec: Option<f64>) -> Instant {
        let now = Instant::now();
        let Some(rate) = bytes_per_sec else {
            return now;
        };
        let mut next = self
            .next_free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = (*next).max(now);
        let end = start + Duration::from_secs_f64(bytes as f64 / rate);
        *next = end;
        end
    }
}

type Chunk = (Instant, Vec<u8>);

/// One direction of one connection: bytes go in shaped, come out delayed.
pub(crate) struct Pipe {
    tx: mpsc::Sender<Chunk>,
    shared: Arc<Shared>,
    dir: Dir,
    last_release: Instant,
    offset: f64,
    rng: SmallRng,
}

impl Pipe {
    /// Creates a pipe whose output is written to `dst` by a task in `tasks`.
    /// Dropping the pipe shuts `dst` down once everything queued is delivered.
    pub(crate) fn spawn<W>(shared: Arc<Shared>, dir: Dir, dst: W, tasks: &mut JoinSet<()>) -> Pipe
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(256);
        tasks.spawn(deliver(rx, dst));
        let seq = shared.seq.fetch_add(1, Ordering::Relaxed);
        let seed = shared.config().seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Pipe {
            tx,
            shared,
            dir,
            last_release: Instant::now(),
            offset: 0.0,
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// Sends `data` through the link and the delay line. Returns once the
    /// data has left the link (so callers are paced at the link's rate).
    pub(crate) async fn send(&mut self, data: &[u8]) -> io::Result<()> {
        let shaping = self.shared.config().shaping;
        let (rate, link) = match self.dir {
            Dir::Up => (shaping.up_bytes_per_sec, &self.shared.up),
            Dir::Down => (shaping.down_bytes_per_sec, &self.shared.down),
        };
        let segment = if rate.is_some() || shaping.loss > 0.0 {
            MSS
        } else {
            data.len().max(1)
        };
        let rtt = shaping.rtt.as_secs_f64();
        let jitter = shaping.jitter.as_secs_f64();
        for piece in data.chunks(segment) {
            let mut left = link.reserve(piece.len(), rate);
            let mut extra = 0.0;
            if shaping.loss > 0.0 && self.rng.random_bool(shaping.loss) {
                left = link.reserve(piece.len(), rate);
                extra = rtt;
                self.shared.stats.lost.fetch_add(1, Ordering::Relaxed);
            }
            if left > Instant::now() {
                sleep_until(left).await;
            }
            if self.last_release <= left {
                // The line was idle: this segment starts a new flight.
                self.offset = if jitter > 0.0 {
                    self.rng.random_range(-jitter..=jitter)
                } else {
                    0.0
                };
            }
            let delay = (rtt / 2.0 + self.offset).max(0.0) + extra;
            let release = self.last_release.max(left + Duration::from_secs_f64(delay));
            self.last_release = release;
            let counter = match self.dir {
                Dir::Up => &self.shared.stats.bytes_up,
                Dir::Down => &self.shared.stats.bytes_down,
            };
            counter.fetch_add(piece.len() as u64, Ordering::Relaxed);
            self.tx
                .send((release, piece.to_vec()))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "peer closed"))?;
        }
        Ok(())
    }

    /// Queues `data` without shaping (after anything already queued): for
    /// answers the proxy gives itself, whose delay was already paid.
    pub(crate) async fn send_now(&mut self, data: &[u8]) -> io::Result<()> {
        let release = self.last_release.max(Instant::now());
        self.last_release = release;
        self.tx
            .send((release, data.to_vec()))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "peer closed"))
    }
}

/// Writes each chunk at its release time; shuts the writer down at the end.
async fn deliver<W: AsyncWrite + Unpin>(mut rx: mpsc::Receiver<Chunk>, mut dst: W) {
    while let Some((at, data)) = rx.recv().await {
        sleep_until(at).await;
        if dst.write_all(&data).await.is_err() {
            return;
        }
    }
    let _ = dst.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_books_back_to_back_and_never_banks_idle_time() {
        let link = Link::new();
        let t0 = Instant::now();
        let a = link.reserve(1000, Some(1000.0));
        let b = link.reserve(500, Some(1000.0));
        assert!(a - t0 >= Duration::from_secs(1) && a - t0 < Duration::from_millis(1010));
        // Booked behind `a`, exactly its own transmission time later.
        assert_eq!(b - a, Duration::from_millis(500));
        let idle = Link::new();
        let _ = idle.reserve(1, Some(1e6));
        std::thread::sleep(Duration::from_millis(20));
        let before = Instant::now();
        let c = idle.reserve(100, Some(1000.0));
        // An idle link starts now: the 20 ms of idleness bought no credit.
        assert!(c - before >= Duration::from_millis(100));
        assert!(idle.reserve(10, None) <= Instant::now());
    }
}
