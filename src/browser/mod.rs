//! See DESIGN.md, module `browser`.
