//! Where a value is in the scenario file. Validation runs on the typed
//! model, which has no positions, so the text is parsed a second time into
//! TOML's spanned tree and walked by key path (`page`, 2, `steps`, 0, …):
//! the position is the value's own, whatever its quoting or escapes.

use toml::de::{DeTable, DeValue};

/// One step of a key path.
#[derive(Debug, Clone, Copy)]
pub(super) enum Seg<'k> {
    /// A key of a table.
    Key(&'k str),
    /// An element of an array (or of an array of tables).
    Index(usize),
}

/// The spanned tree of a scenario's text.
pub(super) struct Spans<'t> {
    text: &'t str,
    root: Option<toml::Spanned<DeTable<'t>>>,
}

impl<'t> Spans<'t> {
    /// Parses `text` (already known to be valid TOML).
    pub(super) fn new(text: &'t str) -> Spans<'t> {
        Spans {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// 1-based line and column of the value at `path`, or of its deepest
    /// ancestor found; `(1, 1)` when not even the first key is there.
    pub(super) fn at(&self, path: &[Seg<'_>]) -> (usize, usize) {
        let Some(root) = &self.root else {
            return (1, 1);
        };
        let mut table = Some(root.get_ref());
        let mut array: Option<&[toml::Spanned<DeValue<'t>>]> = None;
        let mut found = None;
        for seg in path {
            let next = match (seg, table, array) {
                (Seg::Key(k), Some(t), _) => {
                    t.iter().find(|(key, _)| key.get_ref() == k).map(|(_, v)| v)
                }
                (Seg::Index(i), _, Some(a)) => a.get(*i),
                _ => None,
            };
            let Some(value) = next else { break };
            found = Some(value.span().start);
            (table, array) = match value.get_ref() {
                DeValue::Table(t) => (Some(t), None),
                DeValue::Array(a) => (None, Some(a.as_ref())),
                _ => (None, None),
            };
        }
        found.map_or((1, 1), |offset| super::line_col(self.text, offset))
    }

    /// The position of step `step` of page `page`: its value (for
    /// `{ type = { selector = … } }` or `{ navigate = { path = … } }`, the
    /// `sub` key inside it when given).
    pub(super) fn step(&self, page: usize, step: usize, sub: Option<&str>) -> (usize, usize) {
        let base = [
            Seg::Key("page"),
            Seg::Index(page),
            Seg::Key("steps"),
            Seg::Index(step),
        ];
        let key = self.step_key(page, step);
        let mut path = base.to_vec();
        if let Some(k) = key.as_deref() {
            path.push(Seg::Key(k));
            if let Some(s) = sub {
                path.push(Seg::Key(s));
            }
        }
        self.at(&path)
    }

    /// The single key of a step's inline table (`click`, `type`, …).
    fn step_key(&self, page: usize, step: usize) -> Option<String> {
        let root = self.root.as_ref()?;
        let pages = root
            .get_ref()
            .iter()
            .find(|(k, _)| k.get_ref() == "page")?
            .1;
        let DeValue::Array(pages) = pages.get_ref() else {
            return None;
        };
        let DeValue::Table(p) = pages.get(page)?.get_ref() else {
            return None;
        };
        let steps = p.iter().find(|(k, _)| k.get_ref() == "steps")?.1;
        let DeValue::Array(steps) = steps.get_ref() else {
            return None;
        };
        let DeValue::Table(s) = steps.get(step)?.get_ref() else {
            return None;
        };
        s.iter().next().map(|(k, _)| k.get_ref().to_string())
    }
}
