//! See DESIGN.md, module `scenario`.
