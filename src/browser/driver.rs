//! Finding binaries and running chromedriver on a free loopback port.

use super::BrowserError;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Where Debian's chromium package keeps the real binary; `/usr/bin/chromium`
/// is a shell wrapper that chromedriver cannot always drive.
const DEBIAN_CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// Finds a program by name on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The browser binary: the one given, else Debian's, else the usual names on PATH.
pub fn find_browser(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    if let Some(p) = given {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(BrowserError::NoBrowser {
                looked: p.display().to_string(),
            })
        };
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    if Path::new(DEBIAN_CHROMIUM).is_file() {
        return Ok(PathBuf::from(DEBIAN_CHROMIUM));
    }
    names
        .iter()
        .find_map(|n| which(n))
        .ok_or_else(|| BrowserError::NoBrowser {
            looked: format!("{DEBIAN_CHROMIUM} and {} on PATH", names.join(", ")),
        })
}

/// The chromedriver binary: the one given, else `chromedriver` on PATH.
pub fn find_chromedriver(given: Option<&Path>) -> Result<PathBuf, BrowserError> {
    match given {
        Some(p) if p.is_file() => Ok(p.to_path_buf()),
        Some(p) => Err(BrowserError::NoChromedriver {
            looked: p.display().to_string(),
        }),
        None => which("chromedriver").ok_or_else(|| BrowserError::NoChromedriver {
            looked: "chromedriver on PATH".into(),
        }),
    }
}

/// A chromedriver child process, listening on 127.0.0.1, with every
/// browser it starts.
///
/// chromedriver runs in its own process group, and the browsers it starts
/// stay in that group: stopping it kills the group, so no Chromium is left
/// behind when the driver itself is gone. On Linux it also gets a
/// parent-death signal, and a guard process (`sh`, reading a pipe only this
/// process holds) kills the group when rumcheck ends in any way, SIGKILL
/// included.
pub struct ChromeDriver {
    child: Child,
    port: u16,
    group: Option<u32>,
    guard: Option<std::process::Child>,
}

impl ChromeDriver {
    /// Spawns chromedriver with `--port=0` and reads the port it chose.
    pub async fn spawn(path: &Path) -> Result<Self, BrowserError> {
        let fail = |reason: String| BrowserError::DriverStart {
            path: path.to_path_buf(),
            reason,
        };
        let mut command = Command::new(path);
        command
            .args(["--port=0", "--allowed-ips=127.0.0.1", "--log-level=SEVERE"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        die_with_parent(&mut command);
        let mut child = command.spawn().map_err(|e| fail(e.to_string()))?;
        let group = child.id();
        let guard = group.and_then(spawn_guard);
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| fail("no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        // "ChromeDriver was started successfully on port 36789."
        let port = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    return digits.parse::<u16>().ok();
                }
            }
            None
        })
        .await
        .map_err(|_| fail("it did not report a port within 20 s".into()))?
        .ok_or_else(|| fail("it exited without reporting a port".into()))?;
        // Keep draining stdout so chromedriver never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ChromeDriver {
            child,
            port,
            group,
            guard,
        })
    }

    /// The WebDriver URL of this chromedriver.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Whether chromedriver still runs and answers (false once it exited or
    /// was killed). It must answer `/status`: a killed process is not reaped
    /// at once, and a visit that failed in that moment must not find the
    /// driver "alive" and fail again on the dead endpoint.
    pub async fn alive(&mut self) -> bool {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return false;
        }
        // An HTTP answer, not just a connection: the kernel completes a TCP
        // handshake on a listening socket whose process is being killed.
        tokio::time::timeout(Duration::from_secs(2), status_ok(self.port))
            .await
            .unwrap_or(false)
    }

    /// Stops chromedriver and every process still in its group (browsers
    /// it started, also those orphaned when chromedriver died).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        // Taken, so `Drop` does not signal the group again once chromedriver
        // is reaped and its pid (the group id) may belong to someone else.
        kill_group(self.group.take());
        let _ = self.child.wait().await;
        if let Some(mut guard) = self.guard.take() {
            let _ = guard.kill();
            let _ = guard.wait();
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        kill_group(self.group.take());
        if let Some(mut guard) = self.guard.take() {
            let _ = guard.kill();
            let _ = guard.wait();
        }
    }
}

/// Whether chromedriver on `port` answers `GET /status` with 200.
async fn status_ok(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let request = "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// SIGKILL to every process in group `group` (chromedriver's).
fn kill_group(group: Option<u32>) {
    #[cfg(unix)]
    if let Some(pgid) = group.and_then(|g| i32::try_from(g).ok()).filter(|&g| g > 1) {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = group;
}

/// Own process group (a terminal's Ctrl-C reaches rumcheck only, which then
/// closes its sessions) and, on Linux, SIGKILL when rumcheck dies.
///
/// The kernel sends the parent-death signal when the *thread* that spawned
/// the child ends, not the process: rumcheck spawns from the thread that
/// drives the run (or a runtime worker), which lives as long as the run.
/// The guard ([`spawn_guard`]) does not depend on threads at all.
fn die_with_parent(command: &mut Command) {
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe calls (prctl, getppid) between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // rumcheck died before the prctl: do not outlive it.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other("rumcheck exited"));
                }
                Ok(())
            });
        }
    }
}

/// A `sh` that waits for end-of-file on a pipe only this process holds,
/// then kills process group `group`: chromedriver's browsers die with
/// rumcheck even on SIGKILL (chromedriver's own parent-death signal does
/// not reach the browsers it started). None when `sh` cannot start; the
/// parent-death signal and [`ChromeDriver::stop`] still apply.
fn spawn_guard(group: u32) -> Option<std::process::Child> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        std::process::Command::new("/bin/sh")
            .args([
                "-c",
                "read _ignored; kill -s KILL -- \"-$0\" 2>/dev/null",
                &group.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Not in the terminal's group: Ctrl-C must not end the guard first.
            .process_group(0)
            .spawn()
            .ok()
    }
    #[cfg(not(unix))]
    {
        let _ = group;
        None
    }
}

/// The browser's version, from `--version` (e.g. `Chromium 156.0.8078.73`).
pub fn browser_version(binary: &Path) -> Option<String> {
    let out = std::process::Command::new(binary)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// True when this process runs as root (Chromium then needs `--no-sandbox`).
pub fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}
