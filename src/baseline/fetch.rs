//! `baseline fetch-crux`: query the CrUX API (`records:queryRecord`) or the
//! CrUX History API (`records:queryHistoryRecord`) and turn the answers into
//! a baseline exactly as `baseline import --format crux` (`crux-history`)
//! turns the saved response bodies: the bodies go through the same
//! [`Importer`].
//!
//! One query per form factor (phone, desktop, tablet and all form factors
//! unless one is chosen). A form factor CrUX has no data for (404
//! `NOT_FOUND`) is skipped; when every one is, the fetch fails with
//! [`FetchError::NoData`]. 429, 5xx and transport failures are retried with
//! exponential backoff, honouring `Retry-After`, a bounded number of times.
//! The API key travels only in the request's query string: it is never part
//! of an error, a message, a file name or a `Debug` output.

mod error;
mod http;
#[cfg(test)]
mod tests;

pub use error::FetchError;
use error::api_detail;

use super::{Baseline, Format, ImportOptions, Importer};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, SystemTime};
use url::Url;

/// The CrUX API base URL the methods are appended to.
pub const DEFAULT_ENDPOINT: &str = "https://chromeuxreport.googleapis.com/v1";

/// What to query: every page of an origin, or one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `scheme://host[:port]`: all pages of the origin aggregated.
    Origin(String),
    /// One page's URL.
    Url(String),
}

impl Target {
    /// An origin such as `https://example.com` (a trailing `/` is dropped;
    /// a path, query or fragment is refused).
    pub fn origin(given: &str) -> Result<Target, FetchError> {
        let url = web_url("--origin", given)?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(FetchError::BadTarget {
                flag: "--origin",
                value: given.to_string(),
                reason: "an origin has no path, query or fragment".into(),
                hint: "give scheme://host (e.g. https://example.com), or use --url for one page",
            });
        }
        Ok(Target::Origin(url.origin().ascii_serialization()))
    }

    /// A page URL such as `https://example.com/product/1`.
    pub fn url(given: &str) -> Result<Target, FetchError> {
        web_url("--url", given)?;
        Ok(Target::Url(given.trim().to_string()))
    }

    /// The origin or URL as sent to the API.
    pub fn as_str(&self) -> &str {
        match self {
            Target::Origin(s) | Target::Url(s) => s,
        }
    }

    /// The request field (`origin` or `url`).
    pub fn field(&self) -> &'static str {
        match self {
            Target::Origin(_) => "origin",
            Target::Url(_) => "url",
        }
    }

    fn flag(&self) -> &'static str {
        match self {
            Target::Origin(_) => "--origin",
            Target::Url(_) => "--url",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn web_url(flag: &'static str, given: &str) -> Result<Url, FetchError> {
    let bad = |reason: String| FetchError::BadTarget {
        flag,
        value: given.to_string(),
        reason,
        hint: "give a full http:// or https:// address, e.g. https://example.com",
    };
    let url = Url::parse(given.trim()).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("scheme '{}' is not http(s)", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    Ok(url)
}

/// A CrUX form factor; [`FormFactor::All`] sends none (all devices together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormFactor {
    /// `PHONE`.
    Phone,
    /// `DESKTOP`.
    Desktop,
    /// `TABLET`.
    Tablet,
    /// No `formFactor` in the query: every device together.
    All,
}

impl FormFactor {
    /// What is fetched when no form factor is chosen.
    pub const EVERY: [FormFactor; 4] = [
        FormFactor::Phone,
        FormFactor::Desktop,
        FormFactor::Tablet,
        FormFactor::All,
    ];

    /// The API's name, `None` for all form factors.
    pub fn api_name(self) -> Option<&'static str> {
        match self {
            FormFactor::Phone => Some("PHONE"),
            FormFactor::Desktop => Some("DESKTOP"),
            FormFactor::Tablet => Some("TABLET"),
            FormFactor::All => None,
        }
    }

    /// The command-line name (`phone`, `desktop`, `tablet`, `all`).
    pub fn name(self) -> &'static str {
        match self {
            FormFactor::Phone => "phone",
            FormFactor::Desktop => "desktop",
            FormFactor::Tablet => "tablet",
            FormFactor::All => "all",
        }
    }
}

impl fmt::Display for FormFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name().unwrap_or("all form factors"))
    }
}

impl FromStr for FormFactor {
    type Err = FetchError;

    fn from_str(s: &str) -> Result<Self, FetchError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "phone" | "mobile" => Ok(FormFactor::Phone),
            "desktop" => Ok(FormFactor::Desktop),
            "tablet" => Ok(FormFactor::Tablet),
            "all" | "all_form_factors" => Ok(FormFactor::All),
            _ => Err(FetchError::BadFormFactor {
                value: s.to_string(),
            }),
        }
    }
}

/// A CrUX API key. Its `Debug` form hides it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// The key from `--key` or `CRUX_API_KEY`; missing or blank is
    /// [`FetchError::NoKey`].
    pub fn new(given: Option<&str>) -> Result<ApiKey, FetchError> {
        match given.map(str::trim) {
            Some(k) if !k.is_empty() => Ok(ApiKey(k.to_string())),
            _ => Err(FetchError::NoKey),
        }
    }

    /// Replaces every occurrence of the key in `text` (error details may echo
    /// a request).
    fn scrub(&self, text: &str) -> String {
        text.replace(&self.0, "[key]")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([hidden])")
    }
}

/// How failed queries are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Attempts per query, the first included (at least 1).
    pub attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub base: Duration,
    /// Longest computed wait.
    pub max: Duration,
    /// Longest wait a `Retry-After` header can ask for.
    pub max_retry_after: Duration,
}

impl Default for Retry {
    /// 5 attempts, waits of 1, 2, 4, 8 s (at most 30 s), `Retry-After` up to 2 min.
    fn default() -> Self {
        Retry {
            attempts: 5,
            base: Duration::from_secs(1),
            max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// Validated options of one `baseline fetch-crux`.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// What to query.
    pub target: Target,
    /// Form factors queried, in order.
    pub form_factors: Vec<FormFactor>,
    /// Query the History API (weekly periods) instead of the latest 28 days.
    pub history: bool,
    /// The API key.
    pub key: ApiKey,
    /// API base URL ([`DEFAULT_ENDPOINT`]).
    pub endpoint: Url,
    /// Retry policy.
    pub retry: Retry,
    /// Time limit of one request.
    pub timeout: Duration,
    /// Where to write each successful response body, byte for byte.
    pub save_responses: Option<PathBuf>,
}

impl FetchOptions {
    /// Options with the defaults: every form factor, the latest-28-days
    /// API, [`Retry::default`], 30 s per request, nothing saved.
    pub fn new(target: Target, key: ApiKey, endpoint: Url) -> Self {
        FetchOptions {
            target,
            form_factors: FormFactor::EVERY.to_vec(),
            history: false,
            key,
            endpoint,
            retry: Retry::default(),
            timeout: Duration::from_secs(30),
            save_responses: None,
        }
    }

    /// The import format the answers are read as.
    pub fn format(&self) -> Format {
        if self.history {
            Format::CruxHistory
        } else {
            Format::Crux
        }
    }
}

/// Checks an API base URL (`--endpoint`, `RUMCHECK_CRUX_ENDPOINT`): http(s) only.
pub fn parse_endpoint(given: &str) -> Result<Url, FetchError> {
    let bad = |reason: String| FetchError::BadEndpoint {
        value: given.to_string(),
        reason,
    };
    let url = Url::parse(given.trim()).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("scheme '{}' is not http(s)", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL has no query or fragment".into()));
    }
    Ok(url)
}

/// The API method: `queryRecord` or `queryHistoryRecord`.
pub fn method(history: bool) -> &'static str {
    if history {
        "queryHistoryRecord"
    } else {
        "queryRecord"
    }
}

/// `ENDPOINT/records:METHOD`, without the key (for messages and provenance).
pub fn method_url(endpoint: &Url, history: bool) -> String {
    format!(
        "{}/records:{}",
        endpoint.as_str().trim_end_matches('/'),
        method(history)
    )
}

/// The request URL: [`method_url`] with `?key=KEY`.
fn request_url(endpoint: &Url, history: bool, key: &ApiKey) -> Result<Url, FetchError> {
    let mut url =
        Url::parse(&method_url(endpoint, history)).map_err(|e| FetchError::BadEndpoint {
            value: endpoint.to_string(),
            reason: e.to_string(),
        })?;
    url.query_pairs_mut().append_pair("key", &key.0);
    Ok(url)
}

/// The JSON request body: `{"origin"|"url": …, "formFactor": …}`.
pub fn request_body(target: &Target, form_factor: FormFactor) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    body.insert(target.field().into(), target.as_str().into());
    if let Some(ff) = form_factor.api_name() {
        body.insert("formFactor".into(), ff.into());
    }
    serde_json::Value::Object(body)
}

/// How long a `Retry-After` value asks to wait: delay-seconds or an HTTP
/// date (a past date is no wait). `None` when it is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait after failed attempt number `failed` (1-based): what a valid
/// `Retry-After` asks for, at most `max_retry_after`; otherwise
/// `base × 2^(failed−1)`, at most `max`.
pub fn retry_delay(
    retry: &Retry,
    failed: u32,
    retry_after: Option<&str>,
    now: SystemTime,
) -> Duration {
    if let Some(d) = retry_after.and_then(|v| parse_retry_after(v, now)) {
        return d.min(retry.max_retry_after);
    }
    let factor = 1u32 << failed.saturating_sub(1).min(20);
    retry.base.saturating_mul(factor).min(retry.max)
}

/// What a fetch produced.
#[derive(Debug)]
pub struct Fetched {
    /// The baseline, as `baseline import` builds it from the bodies.
    pub baseline: Baseline,
    /// Form factors CrUX had data for.
    pub fetched: Vec<FormFactor>,
    /// Form factors CrUX has no data for (404 `NOT_FOUND`).
    pub skipped: Vec<FormFactor>,
    /// Response files written (`save_responses`).
    pub saved: Vec<PathBuf>,
}

/// A CrUX "no data" answer: 404 with `error.status` `NOT_FOUND`.
fn is_not_found(status: u16, body: &[u8]) -> bool {
    status == 404
        && serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("error")?.get("status")?.as_str().map(str::to_owned))
            .is_some_and(|s| s == "NOT_FOUND")
}

enum Answer {
    Data(bytes::Bytes),
    NotFound(String),
}

/// One query with retries.
async fn query(
    client: &http::Client,
    opts: &FetchOptions,
    form_factor: FormFactor,
    progress: &mut dyn FnMut(&str),
) -> Result<Answer, FetchError> {
    let url = request_url(&opts.endpoint, opts.history, &opts.key)?;
    let shown = method_url(&opts.endpoint, opts.history);
    let body = serde_json::to_vec(&request_body(&opts.target, form_factor))
        .expect("a JSON object serialises");
    let attempts = opts.retry.attempts.max(1);
    let mut last = FetchError::Network {
        url: shown.clone(),
        attempts,
        detail: "no attempt made".into(),
    };
    for attempt in 1..=attempts {
        let (retry_after, why) = match client.post_json(&url, body.clone(), opts.timeout).await {
            Ok(a) if a.status == 200 => return Ok(Answer::Data(a.body)),
            Ok(a) if is_not_found(a.status, &a.body) => {
                return Ok(Answer::NotFound(api_detail(&a.body, &opts.key)));
            }
            Ok(a) if a.status == 429 || a.status >= 500 => {
                let detail = api_detail(&a.body, &opts.key);
                last = FetchError::Unavailable {
                    url: shown.clone(),
                    attempts,
                    status: a.status,
                    detail,
                    hint: if a.status == 429 {
                        "the key's query quota is used up; wait a minute and run again"
                    } else {
                        "the API is failing; run again later"
                    },
                };
                (a.retry_after, format!("HTTP {}", a.status))
            }
            Ok(a) => {
                let detail = api_detail(&a.body, &opts.key);
                let about_key = detail.contains("API key")
                    || detail.contains("API_KEY")
                    || detail.contains("PERMISSION_DENIED");
                return Err(match a.status {
                    401 | 403 => FetchError::KeyRejected {
                        status: a.status,
                        detail,
                    },
                    400 if about_key => FetchError::KeyRejected {
                        status: a.status,
                        detail,
                    },
                    400 => FetchError::Rejected {
                        target: opts.target.to_string(),
                        flag: opts.target.flag(),
                        status: a.status,
                        detail,
                    },
                    status => FetchError::Unexpected {
                        url: shown,
                        status,
                        detail,
                    },
                });
            }
            Err(e) => {
                let detail = opts.key.scrub(&e);
                last = FetchError::Network {
                    url: shown.clone(),
                    attempts,
                    detail: detail.clone(),
                };
                (None, detail)
            }
        };
        if attempt == attempts {
            break;
        }
        let wait = retry_delay(
            &opts.retry,
            attempt,
            retry_after.as_deref(),
            SystemTime::now(),
        );
        progress(&format!(
            "CrUX {form_factor}: {why}; retrying in {} (attempt {} of {attempts})",
            shown_wait(wait),
            attempt + 1
        ));
        tokio::time::sleep(wait).await;
    }
    Err(last)
}

/// `250 ms`, `1.0 s`.
fn shown_wait(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Queries every form factor of `opts` and imports the answers into one
/// baseline. `progress` receives retry and skip messages.
pub async fn fetch_crux(
    opts: &FetchOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Fetched, FetchError> {
    let client = http::Client::new();
    let mut imp = Importer::new(ImportOptions::new(opts.format()));
    let (mut fetched, mut skipped, mut saved) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(dir) = &opts.save_responses {
        std::fs::create_dir_all(dir).map_err(|source| FetchError::Save {
            path: dir.display().to_string(),
            source,
        })?;
    }
    for &ff in &opts.form_factors {
        let body = match query(&client, opts, ff, progress).await? {
            Answer::Data(body) => body,
            Answer::NotFound(detail) => {
                progress(&format!(
                    "CrUX has no data for {} on {ff} (HTTP 404{detail}); skipped",
                    opts.target
                ));
                skipped.push(ff);
                continue;
            }
        };
        let name = match &opts.save_responses {
            Some(dir) => {
                let path = dir.join(format!("crux-{}-{}.json", method(opts.history), ff.name()));
                std::fs::write(&path, &body).map_err(|source| FetchError::Save {
                    path: path.display().to_string(),
                    source,
                })?;
                let name = path.display().to_string();
                saved.push(path);
                name
            }
            None => format!(
                "{} {}={} formFactor={}",
                method_url(&opts.endpoint, opts.history),
                opts.target.field(),
                opts.target,
                ff.api_name().unwrap_or("ALL")
            ),
        };
        imp.read(&name, &body[..])?;
        fetched.push(ff);
    }
    if fetched.is_empty() {
        return Err(FetchError::NoData {
            target: opts.target.to_string(),
        });
    }
    Ok(Fetched {
        baseline: imp.finish()?,
        fetched,
        skipped,
        saved,
    })
}
