//! HTTP/1.1 wire handling: a buffered reader, message heads and body framing
//! (RFC 9112 §6), forwarding bodies chunk by chunk through a shaped pipe.

use super::shaper::Pipe;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest message head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Largest read forwarded at once.
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// A read half with a buffer of bytes read but not yet consumed.
pub(crate) struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl<R: AsyncRead + Unpin> Reader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Reader {
            inner,
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; READ_CHUNK];
        let n = self.inner.read(&mut tmp).await?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// Reads a head up to and including the blank line. `None` on a clean
    /// end of stream before any byte.
    pub(crate) async fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut searched: usize = 0;
        loop {
            if let Some(pos) = find(&self.buf[searched.saturating_sub(3)..], b"\r\n\r\n") {
                let end = searched.saturating_sub(3) + pos + 4;
                return Ok(Some(self.buf.drain(..end).collect()));
            }
            searched = self.buf.len();
            if searched > MAX_HEAD {
                return Err(bad("message head larger than 64 KiB"));
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    /// Reads one line including its `\n`.
    async fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                return Ok(self.buf.drain(..=pos).collect());
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad("line longer than 64 KiB"));
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Up to `max` bytes (buffered first); empty at end of stream.
    pub(crate) async fn take_upto(&mut self, max: usize) -> io::Result<Vec<u8>> {
        if self.buf.is_empty() && self.fill().await? == 0 {
            return Ok(Vec::new());
        }
        let n = max.min(self.buf.len());
        Ok(self.buf.drain(..n).collect())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// How a message body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
}

/// A parsed head: what the proxy needs to route and frame it.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    /// Method (requests).
    pub method: String,
    /// Request target (requests).
    pub target: String,
    /// Status code (responses).
    pub status: u16,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// Header names and values as received.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .any(|(_, v)| {
                String::from_utf8_lossy(v)
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case(token))
            })
    }

    fn body_framing(&self) -> io::Result<Framing> {
        if self.has_token("transfer-encoding", "chunked") {
            return Ok(Framing::Chunked);
        }
        match self.header("content-length") {
            Some(v) => std::str::from_utf8(v)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .map(Framing::Length)
                .ok_or_else(|| bad("invalid Content-Length")),
            None => Ok(Framing::Empty),
        }
    }

    /// Framing of a request body.
    pub(crate) fn request_framing(&self) -> io::Result<Framing> {
        self.body_framing()
    }

    /// Framing of a response body to a request with `method`.
    pub(crate) fn response_framing(&self, method: &str) -> io::Result<Framing> {
        if method.eq_ignore_ascii_case("HEAD")
            || (100..200).contains(&self.status)
            || self.status == 204
            || self.status == 304
        {
            return Ok(Framing::Empty);
        }
        match self.body_framing()? {
            Framing::Empty => Ok(Framing::UntilClose),
            f => Ok(f),
        }
    }

    /// Whether the connection ends after this message.
    pub(crate) fn wants_close(&self) -> bool {
        self.has_token("connection", "close")
            || (self.minor == 0 && !self.has_token("connection", "keep-alive"))
    }

    /// The request head re-targeted to `origin_form` for the origin server,
    /// without hop-by-hop proxy headers.
    pub(crate) fn origin_request(&self, origin_form: &str, host: &str) -> Vec<u8> {
        let mut out =
            format!("{} {} HTTP/1.{}\r\n", self.method, origin_form, self.minor).into_bytes();
        let mut has_host = false;
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("proxy-connection")
                || name.eq_ignore_ascii_case("proxy-authorization")
            {
                continue;
            }
            has_host |= name.eq_ignore_ascii_case("host");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        if !has_host {
            out.extend_from_slice(format!("Host: {host}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

fn headers_of(raw: &[httparse::Header<'_>]) -> Vec<(String, Vec<u8>)> {
    raw.iter()
        .map(|h| (h.name.to_string(), h.value.to_vec()))
        .collect()
}

/// Parses a request head.
pub(crate) fn parse_request(raw: &[u8]) -> io::Result<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(raw) {
        Ok(httparse::Status::Complete(_)) => Ok(Head {
            method: req.method.unwrap_or("").to_string(),
            target: req.path.unwrap_or("").to_string(),
            status: 0,
            minor: req.version.unwrap_or(1),
            headers: headers_of(req.headers),
        }),
        Ok(httparse::Status::Partial) => Err(bad("incomplete request head")),
        Err(e) => Err(bad(format!("malformed request head: {e}"))),
    }
}

/// Parses a response head.
pub(crate) fn parse_response(raw: &[u8]) -> io::Result<Head> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(raw) {
        Ok(httparse::Status::Complete(_)) => Ok(Head {
            method: String::new(),
            target: String::new(),
            status: resp.code.unwrap_or(0),
            minor: resp.version.unwrap_or(1),
            headers: headers_of(resp.headers),
        }),
        Ok(httparse::Status::Partial) => Err(bad("incomplete response head")),
        Err(e) => Err(bad(format!("malformed response head: {e}"))),
    }
}

/// Where a forwarded body goes.
pub(crate) enum Sink<'a> {
    /// Through a shaped pipe.
    Pipe(&'a mut Pipe),
    /// Nowhere (a refused request's body).
    Discard,
}

impl Sink<'_> {
    async fn put(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Sink::Pipe(p) => p.send(data).await,
            Sink::Discard => Ok(()),
        }
    }
}

/// Copies one body with `framing` from `src` to `sink`, bytes unchanged.
pub(crate) async fn forward_body<R: AsyncRead + Unpin>(
    src: &mut Reader<R>,
    framing: Framing,
    mut sink: Sink<'_>,
) -> io::Result<()> {
    match framing {
        Framing::Empty => Ok(()),
        Framing::Length(n) => copy_exact(src, n, &mut sink).await,
        Framing::UntilClose => loop {
            let chunk = src.take_upto(READ_CHUNK).await?;
            if chunk.is_empty() {
                return Ok(());
            }
            sink.put(&chunk).await?;
        },
        Framing::Chunked => loop {
            let line = src.read_line().await?;
            sink.put(&line).await?;
            let text = String::from_utf8_lossy(&line);
            let size_text = text.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| bad(format!("invalid chunk size {size_text:?}")))?;
            if size == 0 {
                // Trailer fields, then the final blank line.
                loop {
                    let line = src.read_line().await?;
                    sink.put(&line).await?;
                    if line == b"\r\n" || line == b"\n" {
                        return Ok(());
                    }
                }
            }
            copy_exact(src, size + 2, &mut sink).await?;
        },
    }
}

async fn copy_exact<R: AsyncRead + Unpin>(
    src: &mut Reader<R>,
    mut n: u64,
    sink: &mut Sink<'_>,
) -> io::Result<()> {
    while n > 0 {
        let want = usize::try_from(n.min(READ_CHUNK as u64)).unwrap_or(READ_CHUNK);
        let chunk = src.take_upto(want).await?;
        if chunk.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        n -= chunk.len() as u64;
        sink.put(&chunk).await?;
    }
    Ok(())
}

/// A response the proxy writes itself.
pub(crate) fn own_response(status: u16, reason: &str, body: &str, close: bool) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: {}\r\nX-Rumcheck-Proxy: 1\r\n\r\n{body}",
        body.len(),
        if close { "close" } else { "keep-alive" }
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_heads_and_chunked_bodies_across_reads() {
        let data: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: v\r\n\r\nNEXT";
        let mut r = Reader::new(data);
        let head = r.read_head().await.unwrap().unwrap();
        let h = parse_response(&head).unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(h.response_framing("GET").unwrap(), Framing::Chunked);
        forward_body(&mut r, Framing::Chunked, Sink::Discard)
            .await
            .unwrap();
        assert_eq!(r.take_upto(100).await.unwrap(), b"NEXT");
        assert!(r.read_head().await.unwrap().is_none());
    }

    #[test]
    fn framing_and_rewrite() {
        let h = parse_request(
            b"GET http://a.test:81/x?y HTTP/1.1\r\nHost: a.test:81\r\nProxy-Connection: keep-alive\r\nContent-Length: 3\r\n\r\n",
        )
        .unwrap();
        assert_eq!(h.request_framing().unwrap(), Framing::Length(3));
        assert!(!h.wants_close());
        let out = String::from_utf8(h.origin_request("/x?y", "a.test:81")).unwrap();
        assert_eq!(
            out,
            "GET /x?y HTTP/1.1\r\nHost: a.test:81\r\nContent-Length: 3\r\n\r\n"
        );
        let r = parse_response(b"HTTP/1.0 200 OK\r\n\r\n").unwrap();
        assert_eq!(r.response_framing("GET").unwrap(), Framing::UntilClose);
        assert!(r.wants_close());
        assert_eq!(r.response_framing("HEAD").unwrap(), Framing::Empty);
    }
}
