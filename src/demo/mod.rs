//! See DESIGN.md, module `demo`.
