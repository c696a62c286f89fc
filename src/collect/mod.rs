//! See DESIGN.md, module `collect`.
