//! See DESIGN.md, module `report`.
