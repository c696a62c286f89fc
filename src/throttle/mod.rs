//! See DESIGN.md, module `throttle`.
