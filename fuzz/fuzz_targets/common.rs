//! Shared by the targets: the readers take paths, so each input is written
//! to one temporary file first.

use std::path::PathBuf;
use std::sync::OnceLock;

/// A per-process scratch file holding the current input.
pub fn with_file(data: &[u8], ext: &str, read: impl FnOnce(&std::path::Path)) {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("a scratch directory"));
    let path: PathBuf = dir.path().join(format!("input.{ext}"));
    std::fs::write(&path, data).expect("the scratch file is writable");
    read(&path);
}

/// Imports the input in `format` on one thread; errors are fine, panics not.
#[allow(dead_code)] // not every target imports
pub fn import(data: &[u8], format: rumcheck::baseline::Format, ext: &str) {
    with_file(data, ext, |p| {
        let mut opts = rumcheck::baseline::ImportOptions::new(format);
        opts.threads = 1;
        let _ = rumcheck::baseline::import_files(&[p], &opts);
    });
}
