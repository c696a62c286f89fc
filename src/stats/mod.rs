//! See DESIGN.md, module `stats`.
