//! The embedded demo shop served by `rumcheck demo` (and used by tests and
//! benches): home, product, search and cart pages that together produce every
//! metric — a late hero image (LCP), a late promo banner (CLS), a slow "Add
//! to cart" handler (INP), an onload-heavy script (long task, TBT), a
//! third-party widget from another origin, a failing API call and an
//! uncaught JavaScript error. [`DemoKnobs`] make a slower build on purpose.

pub mod gate;
mod knobs;
mod pages;

pub use knobs::{DemoKnobs, KnobError};

use axum::Router;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The bundled demo scenario (TOML, scenario format of issue 2). Its
/// `base_url` is a placeholder: point it at [`DemoServer::base_url`].
pub const SCENARIO_TOML: &str = include_str!("../../scenarios/demo.toml");

/// The demo shop's pages, as paths for a scenario.
pub const PAGES: [(&str, &str); 4] = [
    ("home", "/"),
    ("product", "/product/1"),
    ("search", "/search"),
    ("cart", "/cart"),
];

/// The running demo: the shop and its "third-party" origin, both on
/// 127.0.0.1. Stops when dropped or [`DemoServer::stop`]ped.
pub struct DemoServer {
    shop: SocketAddr,
    third_party: SocketAddr,
    knobs: DemoKnobs,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts the shop and the third-party origin on free loopback ports.
pub async fn serve(knobs: DemoKnobs) -> std::io::Result<DemoServer> {
    let tp_listener = TcpListener::bind("127.0.0.1:0").await?;
    let third_party = tp_listener.local_addr()?;
    let shop_listener = TcpListener::bind("127.0.0.1:0").await?;
    let shop = shop_listener.local_addr()?;
    let ctx = pages::Ctx::new(knobs, format!("http://{third_party}"));
    let tasks = vec![
        spawn(shop_listener, pages::shop(ctx)),
        spawn(tp_listener, pages::third_party()),
    ];
    Ok(DemoServer {
        shop,
        third_party,
        knobs,
        tasks,
    })
}

fn spawn(listener: TcpListener, app: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

impl DemoServer {
    /// `http://127.0.0.1:PORT` (no trailing slash) of the shop.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.shop)
    }

    /// `http://127.0.0.1:PORT` of the third-party origin (serves `/widget.js`).
    pub fn third_party_url(&self) -> String {
        format!("http://{}", self.third_party)
    }

    /// The knobs this build was started with.
    pub fn knobs(&self) -> DemoKnobs {
        self.knobs
    }

    /// Stops both servers and waits until their ports are closed.
    pub async fn stop(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
