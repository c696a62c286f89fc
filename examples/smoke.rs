use rumcheck::browser::*;
#[tokio::main]
async fn main() {
    let t = std::time::Instant::now();
    let b = Browser::start(&BrowserOptions::default()).await.unwrap();
    let s = b.session(&SessionSpec::default()).await.unwrap();
    println!("session {:?} version {}", t.elapsed(), b.version());
    let v = s
        .eval("return [innerWidth, innerHeight, document.visibilityState]")
        .await
        .unwrap();
    println!("{v}");
    s.close().await.unwrap();
    b.shutdown().await;
    println!("done {:?}", t.elapsed());
}
