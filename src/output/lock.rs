//! One run per output directory: an advisory `flock` on `DIR/.rumcheck.lock`,
//! which holds the owner's PID for the message a second run prints. The
//! kernel releases the lock when the process exits, however it exits, so a
//! stale lock file (left after a crash) never blocks a later run.

use super::OutputError;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

/// Holds an output directory for this process until dropped.
#[derive(Debug, Clone)]
pub struct DirLock {
    _held: Arc<Held>,
}

#[derive(Debug)]
struct Held {
    dir: PathBuf,
    _file: File,
}

/// Locks held by this process: a calibration and a gate in one process
/// (the demo) share the directory instead of locking each other out, since
/// `flock` conflicts between two opens even within one process.
static HELD: Mutex<Vec<Weak<Held>>> = Mutex::new(Vec::new());

impl DirLock {
    /// The lock file's name inside the directory.
    pub const FILE_NAME: &'static str = ".rumcheck.lock";

    /// Locks `dir` (which must exist) or says which process holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock, OutputError> {
        let not_writable = |source| OutputError::NotWritable {
            flag: "--out".into(),
            path: dir.display().to_string(),
            source,
        };
        let canonical = std::fs::canonicalize(dir).map_err(not_writable)?;
        let mut held = HELD.lock().unwrap_or_else(|p| p.into_inner());
        held.retain(|w| w.strong_count() > 0);
        if let Some(h) = held
            .iter()
            .filter_map(Weak::upgrade)
            .find(|h| h.dir == canonical)
        {
            return Ok(DirLock { _held: h });
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(canonical.join(Self::FILE_NAME))
            .map_err(not_writable)?;
        if !try_lock(&file).map_err(not_writable)? {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = match text.trim().parse::<u32>() {
                Ok(pid) => format!("pid {pid}"),
                Err(_) => "pid unknown".into(),
            };
            return Err(OutputError::Locked {
                dir: dir.display().to_string(),
                holder,
            });
        }
        // Ours now: record the PID for the message another run would print.
        let record = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.rewind()?;
            writeln!(f, "{}", std::process::id())?;
            f.flush()
        };
        record(&mut file).map_err(not_writable)?;
        let h = Arc::new(Held {
            dir: canonical,
            _file: file,
        });
        held.push(Arc::downgrade(&h));
        Ok(DirLock { _held: h })
    }
}

/// Takes an exclusive lock without waiting; `false` when another holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function borrows for the call; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.kind() == std::io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(e)
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
pub(super) fn try_lock_for_tests(file: &File) -> bool {
    try_lock(file).unwrap()
}
