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

/// Timers wake a little late; a sender that was due at `next_free` and asks
/// within this much time continues back to back, so lateness does not add up
/// over hundreds of segments. Equivalent to a token bucket 10 ms deep.
const SLACK: Duration = Duration::from_millis(10);

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

    /// Books the link for `bytes` at `bytes_per_sec` and returns when the
    /// last bit leaves in link time (the sender paces itself on this; it may
    /// lie in the past when the sender is catching up), and the earliest real
    /// time it can have left (now plus its own transmission time), which is
    /// where its propagation delay starts.
    ///
    /// A link idle for longer than [`SLACK`] starts now, so no burst credit
    /// accumulates; `continuing` (more pieces of a buffer already being sent)
    /// books back to back regardless, so a sender's late wake-ups are not
    /// counted as idle link time.
    pub(crate) fn reserve(
        &self,
        bytes: usize,
        bytes_per_sec: Option<f64>,
        continuing: bool,
    ) -> (Instant, Instant) {
        let now = Instant::now();
        let Some(rate) = bytes_per_sec else {
            return (now, now);
        };
        let tx = Duration::from_secs_f64(bytes as f64 / rate);
        let mut next = self
            .next_free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = if continuing || *next + SLACK >= now {
            *next
        } else {
            now
        };
        *next = start + tx;
        (*next, now + tx)
    }
}

type Chunk = (Instant, Vec<u8>);

enum Msg {
    Shaped(Vec<u8>),
    Now(Vec<u8>),
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "peer closed")
}

/// One direction of one connection: bytes go in shaped, come out delayed.
///
/// Two tasks per pipe: a shaper that books the link and stamps each segment
/// with its arrival time, and a writer that delivers at those times. The
/// shaper reads ahead up to four buffers, so a sender that always has data
/// queued is booked back to back even when its timer wakes late.
pub(crate) struct Pipe {
    tx: mpsc::Sender<Msg>,
}

impl Pipe {
    /// Creates a pipe whose output is written to `dst` by tasks in `tasks`.
    /// Dropping the pipe shuts `dst` down once everything queued is delivered.
    pub(crate) fn spawn<W>(shared: Arc<Shared>, dir: Dir, dst: W, tasks: &mut JoinSet<()>) -> Pipe
    where
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(4);
        let (out_tx, out_rx) = mpsc::channel(256);
        let seq = shared.seq.fetch_add(1, Ordering::Relaxed);
        let seed = shared.config().seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let shaper = Shaper {
            shared,
            dir,
            out: out_tx,
            last_release: Instant::now(),
            offset: 0.0,
            rng: SmallRng::seed_from_u64(seed),
        };
        tasks.spawn(shaper.run(rx));
        tasks.spawn(deliver(out_rx, dst));
        Pipe { tx }
    }

    /// Queues `data` to go through the link and the delay line. Waits only
    /// when the read-ahead is full, which paces callers at the link's rate.
    pub(crate) async fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.tx
            .send(Msg::Shaped(data.to_vec()))
            .await
            .map_err(|_| closed())
    }

    /// Queues `data` without shaping (after anything already queued): for
    /// answers the proxy gives itself, whose delay was already paid.
    pub(crate) async fn send_now(&mut self, data: &[u8]) -> io::Result<()> {
        self.tx
            .send(Msg::Now(data.to_vec()))
            .await
            .map_err(|_| closed())
    }
}

struct Shaper {
    shared: Arc<Shared>,
    dir: Dir,
    out: mpsc::Sender<Chunk>,
    last_release: Instant,
    offset: f64,
    rng: SmallRng,
}

impl Shaper {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        let mut busy = false;
        loop {
            // Data already waiting when the previous segment left the link
            // means this pipe never went idle.
            let (msg, continuing) = match rx.try_recv() {
                Ok(m) => (m, busy),
                Err(mpsc::error::TryRecvError::Empty) => match rx.recv().await {
                    Some(m) => (m, false),
                    None => return,
                },
                Err(mpsc::error::TryRecvError::Disconnected) => return,
            };
            let ok = match msg {
                Msg::Now(data) => {
                    busy = false;
                    let release = self.last_release.max(Instant::now());
                    self.last_release = release;
                    self.out.send((release, data)).await.is_ok()
                }
                Msg::Shaped(data) => {
                    busy = true;
                    self.shape(&data, continuing).await
                }
            };
            if !ok {
                return;
            }
        }
    }

    async fn shape(&mut self, data: &[u8], continuing: bool) -> bool {
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
        for (i, piece) in data.chunks(segment).enumerate() {
            let (mut paced, mut earliest) = link.reserve(piece.len(), rate, continuing || i > 0);
            let mut extra = 0.0;
            if shaping.loss > 0.0 && self.rng.random_bool(shaping.loss) {
                (paced, earliest) = link.reserve(piece.len(), rate, true);
                extra = rtt;
                self.shared.stats.lost.fetch_add(1, Ordering::Relaxed);
            }
            // Timers tick in whole ms: a sub-ms pacing sleep would only add a
            // tick of latency. Running ahead by less than that keeps the rate,
            // since bookings are in link time, and the arrival time below
            // never moves earlier.
            if paced > Instant::now() + Duration::from_millis(1) {
                sleep_until(paced).await;
            }
            let left = paced.max(earliest);
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
            if self.out.send((release, piece.to_vec())).await.is_err() {
                return false;
            }
        }
        true
    }
}

/// Writes each chunk at its release time; shuts the writer down at the end.
async fn deliver<W: AsyncWrite + Unpin>(mut rx: mpsc::Receiver<Chunk>, mut dst: W) {
    while let Some((at, data)) = rx.recv().await {
        // A timer, even an expired one, costs a tick of the 1 ms timer wheel.
        if at > Instant::now() {
            sleep_until(at).await;
        }
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
        let t0 = Instant::now();
        let link = Link::new();
        let (a, _) = link.reserve(1000, Some(1000.0), false);
        let (b, _) = link.reserve(500, Some(1000.0), false);
        assert!(a - t0 >= Duration::from_secs(1) && a - t0 < Duration::from_millis(1010));
        // Booked behind `a`, exactly its own transmission time later.
        assert_eq!(b - a, Duration::from_millis(500));
        let idle = Link::new();
        let _ = idle.reserve(1, Some(1e6), false);
        std::thread::sleep(Duration::from_millis(30));
        let before = Instant::now();
        let (c, _) = idle.reserve(100, Some(1000.0), false);
        // An idle link starts now: 30 ms of idleness bought no credit.
        assert!(c - before >= Duration::from_millis(100));
        assert!(idle.reserve(10, None, false).0 <= Instant::now());
        // A continuing sender books back to back even after a late wake-up.
        let (d, _) = idle.reserve(100, Some(1000.0), true);
        assert_eq!(d - c, Duration::from_millis(100));
    }
}
