//! See DESIGN.md, module `run`.
