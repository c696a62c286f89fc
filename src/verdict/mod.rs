//! See DESIGN.md, module `verdict`.
