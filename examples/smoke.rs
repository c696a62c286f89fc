use rumcheck::browser::*;
#[tokio::main]
async fn main() {
    let b = Browser::start(&BrowserOptions::default()).await.unwrap();
    let s = b.session(&SessionSpec::default()).await.unwrap();
    for u in ["http://127.0.0.1:9/", "http://127.0.0.1:8765/missing.html"] {
        let r = s.goto(u).await;
        println!("goto {r:?}");
        let v = s.eval("const n = performance.getEntriesByType('navigation')[0]; return [location.href, n ? n.responseStatus : null, (document.querySelector('.error-code')||{}).textContent || null]").await.unwrap();
        println!("{v}");
    }
    s.close().await.unwrap();
    b.shutdown().await;
}
