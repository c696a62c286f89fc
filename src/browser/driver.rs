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

/// A chromedriver child process, listening on 127.0.0.1. Killed on drop
/// (by its own PID), which also ends any browser it still owns.
pub struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    /// Spawns chromedriver with `--port=0` and reads the port it chose.
    pub async fn spawn(path: &Path) -> Result<Self, BrowserError> {
        let fail = |reason: String| BrowserError::DriverStart {
            path: path.to_path_buf(),
            reason,
        };
        let mut child = Command::new(path)
            .args(["--port=0", "--allowed-ips=127.0.0.1", "--log-level=SEVERE"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| fail(e.to_string()))?;
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
        Ok(ChromeDriver { child, port })
    }

    /// The WebDriver URL of this chromedriver.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops chromedriver now.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
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
