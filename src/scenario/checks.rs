//! Checks of a parsed scenario that serde cannot express: names that are
//! safe to print, bounds on sizes and factors, and URLs that stay on the
//! base URL's origin. Every error points at the offending value's line.

use super::locate::{Seg, Spans};
use super::{Navigate, Scenario, ScenarioError, Step};
use std::path::Path;

/// Largest viewport side (CSS px), as for a profile's `device`: beyond it
/// Chromium allocates a compositor surface the machine may not have.
pub const MAX_VIEWPORT: u32 = 10_000;
/// Largest `cpu_slowdown`: DevTools offers up to 20×; beyond it a visit
/// measures the throttler, not the page, and hits every timeout.
pub const MAX_CPU_SLOWDOWN: f64 = 20.0;

/// Builds errors pointing into one scenario file.
pub(super) struct Checker<'a> {
    pub(super) path: &'a Path,
    pub(super) spans: Spans<'a>,
}

impl Checker<'_> {
    /// An error at `(line, column)`.
    pub(super) fn error(
        &self,
        (line, column): (usize, usize),
        message: String,
        hint: &str,
    ) -> ScenarioError {
        ScenarioError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message,
            hint: hint.to_string(),
        }
    }

    /// Names end up in samples, reports and terminal tables: no control
    /// characters (newline, CR, ESC…) or bidi overrides.
    pub(super) fn names(&self, s: &Scenario) -> Result<(), ScenarioError> {
        let hint = "names are shown in tables and reports; use letters, digits, spaces and - _ . /";
        let bad = |at: (usize, usize), what: String, name: &str| {
            self.error(
                at,
                format!("{what} {name:?} contains a control character"),
                hint,
            )
        };
        if crate::output::inert::has_control(&s.name) {
            return Err(bad(
                self.spans.at(&[Seg::Key("name")]),
                "scenario name".into(),
                &s.name,
            ));
        }
        for (i, page) in s.pages.iter().enumerate() {
            if crate::output::inert::has_control(&page.name) {
                let at = self
                    .spans
                    .at(&[Seg::Key("page"), Seg::Index(i), Seg::Key("name")]);
                return Err(bad(at, "page name".into(), &page.name));
            }
            if let Some(f) = page
                .field_page
                .as_deref()
                .filter(|f| crate::output::inert::has_control(f))
            {
                let at = self
                    .spans
                    .at(&[Seg::Key("page"), Seg::Index(i), Seg::Key("field_page")]);
                return Err(bad(at, format!("page {:?}: field_page", page.name), f));
            }
            for (j, step) in page.steps.iter().enumerate() {
                if let Step::Navigate(Navigate::Named { name, .. }) = step
                    && crate::output::inert::has_control(name)
                {
                    let at = self.spans.step(i, j, Some("name"));
                    return Err(bad(at, format!("page {:?}: step name", page.name), name));
                }
            }
        }
        for (k, p) in s.profiles.iter().enumerate() {
            let profile = [Seg::Key("profile"), Seg::Index(k)];
            if crate::output::inert::has_control(&p.name) {
                let at = self.spans.at(&[profile[0], profile[1], Seg::Key("name")]);
                return Err(bad(at, "profile name".into(), &p.name));
            }
            let seg = &p.segment;
            for (field, value) in [
                ("country", &seg.country),
                ("browser", &seg.browser),
                ("form_factor", &seg.form_factor),
                ("connection", &seg.connection),
            ] {
                if let Some(v) = value
                    .as_deref()
                    .filter(|v| crate::output::inert::has_control(v))
                {
                    let at = self.spans.at(&[
                        profile[0],
                        profile[1],
                        Seg::Key("segment"),
                        Seg::Key(field),
                    ]);
                    return Err(bad(at, format!("profile {:?}: segment.{field}", p.name), v));
                }
            }
        }
        Ok(())
    }

    /// Sizes and factors a CI machine can honour.
    pub(super) fn bounds(&self, s: &Scenario) -> Result<(), ScenarioError> {
        for (field, v) in [("width", s.viewport.width), ("height", s.viewport.height)] {
            if !(1..=MAX_VIEWPORT).contains(&v) {
                return Err(self.error(
                    self.spans.at(&[Seg::Key("viewport"), Seg::Key(field)]),
                    format!("viewport {field} = {v} is outside 1 to {MAX_VIEWPORT} CSS px"),
                    "use e.g. viewport = { width = 1280, height = 800 }",
                ));
            }
        }
        if s.recycle_after == 0 {
            return Err(self.error(
                self.spans.at(&[Seg::Key("recycle_after")]),
                "recycle_after = 0: a browser must serve at least one visit".into(),
                "use e.g. recycle_after = 100, or isolation = \"browser\" for a fresh browser per visit",
            ));
        }
        for (k, p) in s.profiles.iter().enumerate() {
            if p.cpu_slowdown > MAX_CPU_SLOWDOWN {
                return Err(self.error(
                    self.spans
                        .at(&[Seg::Key("profile"), Seg::Index(k), Seg::Key("cpu_slowdown")]),
                    format!(
                        "profile {:?}: cpu_slowdown = {} is above {MAX_CPU_SLOWDOWN}",
                        p.name, p.cpu_slowdown
                    ),
                    "use 1 (none) to 20; Lighthouse's mobile preset uses 4",
                ));
            }
        }
        Ok(())
    }

    /// Page paths and `navigate` targets resolve to http(s) URLs on the
    /// base URL's origin or on an origin listed in `allow_origins` (the
    /// scenario's or the page's). `file:`, `javascript:` and `data:` never pass.
    pub(super) fn origins(&self, s: &Scenario, base: &url::Url) -> Result<(), ScenarioError> {
        let hint = "use a path such as \"/cart\", or list the origin in allow_origins = [\"https://cdn.example\"] (scenario-wide or in the [[page]])";
        let mut allowed = vec![base.origin()];
        allowed.extend(self.allow_list(&s.allow_origins, &[Seg::Key("allow_origins")])?);
        for (i, page) in s.pages.iter().enumerate() {
            let mut allowed = allowed.clone();
            allowed.extend(self.allow_list(
                &page.allow_origins,
                &[Seg::Key("page"), Seg::Index(i), Seg::Key("allow_origins")],
            )?);
            let check = |target: &str, at: (usize, usize), what: &str| {
                let reason = match base.join(target) {
                    Err(e) => format!("is not a path or URL: {e}"),
                    Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                        format!("is a {}: URL; only http(s) pages are measured", u.scheme())
                    }
                    Ok(u) if !allowed.contains(&u.origin()) => format!(
                        "leaves the base URL's origin {} for {}",
                        base.origin().ascii_serialization(),
                        u.origin().ascii_serialization()
                    ),
                    Ok(_) => return Ok(()),
                };
                Err(self.error(
                    at,
                    format!("page {:?}: {what} {target:?} {reason}", page.name),
                    hint,
                ))
            };
            let at = self
                .spans
                .at(&[Seg::Key("page"), Seg::Index(i), Seg::Key("path")]);
            check(&page.path, at, "path")?;
            for (j, step) in page.steps.iter().enumerate() {
                if let Step::Navigate(n) = step {
                    check(n.path(), self.spans.step(i, j, Some("path")), "navigate")?;
                }
            }
        }
        Ok(())
    }

    /// `browser_args` are switches (`--name` or `--name=value`); anything
    /// else would reach the browser as a URL to open.
    pub(super) fn browser_args(&self, s: &Scenario) -> Result<(), ScenarioError> {
        for (i, arg) in s.browser_args.iter().enumerate() {
            if !arg.starts_with("--") || crate::output::inert::has_control(arg) {
                return Err(self.error(
                    self.spans.at(&[Seg::Key("browser_args"), Seg::Index(i)]),
                    format!("browser_args entry {arg:?} is not a browser switch"),
                    "write switches starting with --, e.g. browser_args = [\"--no-sandbox\"]",
                ));
            }
        }
        Ok(())
    }

    fn allow_list(
        &self,
        entries: &[String],
        at: &[Seg<'_>],
    ) -> Result<Vec<url::Origin>, ScenarioError> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let parsed = url::Url::parse(entry).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.fragment().is_none()
            });
            let Some(u) = parsed else {
                let mut path = at.to_vec();
                path.push(Seg::Index(i));
                return Err(self.error(
                    self.spans.at(&path),
                    format!("allow_origins entry {entry:?} is not an http(s) origin"),
                    "write an origin without a path, e.g. \"https://cdn.example\" or \"http://127.0.0.1:9000\"",
                ));
            };
            out.push(u.origin());
        }
        Ok(out)
    }
}
