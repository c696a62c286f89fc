//! The shaping proxy open to the network (`--proxy-listen`,
//! `--proxy-advertise`) is no open relay: a browser given the session's
//! credentials is shaped as on loopback; plain HTTP and a browser naming
//! another token are refused before anything reaches the origin. (Bound to
//! 127.0.0.1 with an advertised name, which turns the credentials on.)

use crate::support::{Fixtures, browser_lock};
use rumcheck::browser::{Browser, BrowserOptions, SessionSpec};
use rumcheck::throttle::proxy::{self, Listen, ProxyConfig, Shaping};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn open() -> Listen {
    Listen {
        bind: Some("127.0.0.1".parse().unwrap()),
        advertise: Some("127.0.0.1".into()),
    }
}

fn rtt(ms: u64) -> ProxyConfig {
    ProxyConfig::shaping(Shaping {
        rtt: Duration::from_millis(ms),
        ..Shaping::NONE
    })
}

#[tokio::test]
async fn plain_http_to_an_open_proxy_is_refused_and_never_reaches_the_origin() {
    let fixtures = Fixtures::start().await;
    let proxy = proxy::start_with(&open(), 0, rtt(0)).await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        fixtures.url("plain.html")
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1"),
        "the open proxy answered plain HTTP"
    );
    assert_eq!(fixtures.requests_to("/plain.html"), 0);
    assert_eq!(proxy.stats().refused, 1);
    // Without --proxy-advertise a wildcard bind names no host to reach it by.
    let wildcard = Listen {
        bind: Some("0.0.0.0".parse().unwrap()),
        advertise: None,
    };
    let e = wildcard.validate().unwrap_err().to_string();
    assert!(e.contains("--proxy-advertise HOST"), "{e}");
}

#[tokio::test]
async fn a_browser_with_the_sessions_token_is_shaped_and_one_with_another_token_is_refused() {
    let _lock = browser_lock().await;
    let fixtures = Fixtures::start().await;
    let proxy = proxy::start_with(&open(), 0, rtt(150)).await.unwrap();
    let args = proxy.chrome_args();
    assert!(args[0].starts_with("--proxy-server=https://"), "{args:?}");
    let browser = Browser::start(&BrowserOptions::default())
        .await
        .unwrap_or_else(|e| panic!("this test needs Chromium and chromedriver: {e}"));

    // Another session's credentials: a different token in the proxy's name.
    let token = args[0]
        .trim_start_matches("--proxy-server=https://")
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let forged: Vec<String> = args
        .iter()
        .map(|a| a.replace(&token, &"0".repeat(token.len())))
        .collect();
    let spec = |extra_args| SessionSpec {
        extra_args,
        ..SessionSpec::default()
    };
    let session = browser.session(&spec(forged)).await.unwrap();
    let _ = session.goto(&fixtures.url("plain.html")).await;
    let _ = session.close().await;
    assert_eq!(
        fixtures.requests_to("/plain.html"),
        0,
        "a forged token got through"
    );
    assert!(proxy.stats().refused >= 1, "{:?}", proxy.stats());

    let session = browser.session(&spec(args)).await.unwrap();
    let loaded = session.goto(&fixtures.url("plain.html")).await;
    let ttfb = session
        .eval("const n = performance.getEntriesByType('navigation')[0]; return n.responseStart - n.startTime;")
        .await;
    let _ = session.close().await;
    browser.shutdown().await;
    loaded.unwrap();
    assert_eq!(fixtures.requests_to("/plain.html"), 1);
    let ttfb = ttfb.unwrap().as_f64().unwrap();
    // A new connection pays one RTT, the request another.
    assert!(
        ttfb >= 290.0,
        "TTFB {ttfb} ms through the open proxy at 150 ms RTT"
    );
}
