//! Reports of a verdict: the terminal table here; JSON, JUnit XML, Markdown
//! and HTML writers serialize the same [`crate::verdict::GateResult`].

pub mod terminal;
