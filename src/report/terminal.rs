//! The coloured terminal verdict table. Placeholder in this branch: the real
//! module comes from the terminal-report branch at merge.
