//! A shaping proxy open to the network (browsers on Selenium Grid nodes)
//! that is not an open relay: each proxy — one per browser session — has its
//! own credentials, and connections without them are refused before a byte
//! of HTTP is read.
//!
//! Why TLS and a name: Chromium ignores `user:pass@` in `--proxy-server`,
//! never sends `Proxy-Authorization` set through CDP on a CONNECT, and a PAC
//! file cannot send loopback pages through a proxy. What it does send is the
//! proxy's host name, in TLS's server name indication, when the proxy is an
//! `https://` proxy. So the browser gets
//! `--proxy-server=https://TOKEN.rumcheck-proxy.invalid:PORT`, a
//! `--host-resolver-rules` entry that maps that name to the advertised host,
//! and `--ignore-certificate-errors-spki-list` pinning this proxy's own
//! freshly generated key. The proxy accepts a connection only when its server
//! name carries the session's random 128-bit token.

use super::super::error::ProxyError;
use super::{Shared, http};
use base64::Engine;
use rcgen::PublicKeyData;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// The made-up domain of proxy names (`.invalid` never resolves in DNS).
pub const PROXY_DOMAIN: &str = "rumcheck-proxy.invalid";

/// A browser that does not finish its TLS handshake in this time is dropped.
const HANDSHAKE_WITHIN: Duration = Duration::from_secs(10);

/// One proxy's credentials: the token browsers must name, and the TLS
/// identity that proves the proxy to them.
pub(crate) struct Credentials {
    token: String,
    /// base64 SHA-256 of the key's SubjectPublicKeyInfo (Chromium's pin format).
    spki_pin: String,
    acceptor: TlsAcceptor,
}

impl Credentials {
    /// A random token and a fresh self-signed P-256 key and certificate.
    pub(crate) fn generate() -> Result<Credentials, ProxyError> {
        let bytes: [u8; 16] = rand::random();
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let tls = |e: String| ProxyError::Tls(e);
        let certified = rcgen::generate_simple_self_signed(vec![format!("*.{PROXY_DOMAIN}")])
            .map_err(|e| tls(e.to_string()))?;
        let spki = certified.signing_key.subject_public_key_info();
        let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
        let spki_pin = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
        let key = pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        // The crate's one provider (ring), as the CrUX client uses.
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .map_err(|e| tls(e.to_string()))?;
        Ok(Credentials {
            token,
            spki_pin,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The proxy's name for this session, `TOKEN.rumcheck-proxy.invalid`.
    pub(crate) fn server_name(&self) -> String {
        format!("{}.{PROXY_DOMAIN}", self.token)
    }

    /// Chrome switches that send all traffic, loopback included, to this
    /// proxy at `advertise:port`, trusting only its key.
    pub(crate) fn chrome_args(&self, advertise: &str, port: u16) -> Vec<String> {
        let name = self.server_name();
        // An IPv6 literal is bracketed in the resolver rule, as in a URL.
        let target = if advertise.contains(':') && !advertise.starts_with('[') {
            format!("[{advertise}]")
        } else {
            advertise.to_string()
        };
        vec![
            format!("--proxy-server=https://{name}:{port}"),
            "--proxy-bypass-list=<-loopback>".to_string(),
            format!("--host-resolver-rules=MAP {name} {target}"),
            format!("--ignore-certificate-errors-spki-list={}", self.spki_pin),
        ]
    }

    /// Serves one connection if it completes a TLS handshake naming this
    /// proxy's token; refuses (closes) it otherwise.
    pub(crate) async fn serve(self: Arc<Self>, stream: TcpStream, shared: Arc<Shared>) {
        let accepted = tokio::time::timeout(HANDSHAKE_WITHIN, self.acceptor.accept(stream)).await;
        let tls = match accepted {
            Ok(Ok(tls)) if tls.get_ref().1.server_name() == Some(&self.server_name()) => tls,
            _ => {
                shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let (read, write) = tokio::io::split(tls);
        http::serve(Box::new(read), write, shared).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_proxy_gets_its_own_token_and_key() {
        let (a, b) = (
            Credentials::generate().unwrap(),
            Credentials::generate().unwrap(),
        );
        assert_ne!(a.token, b.token);
        assert_ne!(a.spki_pin, b.spki_pin);
        assert_eq!(a.token.len(), 32);
        let args = a.chrome_args("10.1.2.3", 4000);
        let name = a.server_name();
        assert_eq!(args[0], format!("--proxy-server=https://{name}:4000"));
        assert_eq!(
            args[2],
            format!("--host-resolver-rules=MAP {name} 10.1.2.3")
        );
        assert!(a.chrome_args("fd00::1", 1)[2].ends_with(" [fd00::1]"));
    }
}
