//! Output files that lose nothing: every file rumcheck writes (reports,
//! results JSON, baselines, calibrations, starter scenarios) goes through
//! [`OutputTarget::write`], and every run's output directory through
//! [`DirLock`].
//!
//! - Only regular files are replaced. Device nodes, FIFOs, sockets and
//!   directories are refused before any work starts: replacing `/dev/full`
//!   by a regular file (what a plain temp-file-and-rename does) is never
//!   what the user meant.
//! - A symbolic link is followed: the file it points to is replaced (in its
//!   own directory) and the link stays a link. A dangling link is refused.
//! - Bytes go to a temporary file beside the target, are synced, and only a
//!   complete file is renamed over the old one: a full disk, a crash or a
//!   kill leaves the previous version whole and no partial file under the
//!   final name.
//! - An output that is one of the command's inputs is refused
//!   ([`refuse_overwriting_inputs`]).

pub mod inert;
mod lock;

pub use lock::DirLock;

use std::io::Write;
use std::path::{Path, PathBuf};

/// Why an output file cannot be (or was not) written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The path names something that is not a regular file.
    #[error(
        "{flag} '{path}' is {kind}, not a regular file; rumcheck only replaces regular files\n  hint: {hint}"
    )]
    NotAFile {
        /// The flag that named it (`--html`, `-o`).
        flag: String,
        /// The path as given.
        path: String,
        /// What it is (`a character device`, `a directory`…).
        kind: &'static str,
        /// What to do instead.
        hint: String,
    },
    /// A symbolic link whose target does not exist.
    #[error(
        "{flag} '{path}' is a symbolic link to '{target}', which does not exist\n  hint: create the link's target directory, remove the link, or pass another path"
    )]
    DanglingLink {
        /// The flag.
        flag: String,
        /// The link.
        path: String,
        /// Where it points.
        target: String,
    },
    /// The directory the file would go into does not exist.
    #[error(
        "{flag} '{path}': the directory '{dir}' does not exist\n  hint: create it first (mkdir -p '{dir}') or choose another path"
    )]
    MissingDirectory {
        /// The flag.
        flag: String,
        /// The path as given.
        path: String,
        /// Its parent directory.
        dir: String,
    },
    /// The file or its directory cannot be written.
    #[error(
        "{flag} '{path}': cannot write this file: {source}\n  hint: choose a writable location"
    )]
    NotWritable {
        /// The flag.
        flag: String,
        /// The path as given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Writing failed after validation (disk full…); the previous file is intact.
    #[error(
        "could not write '{path}': {source}\n  hint: the previous version of the file, if any, is unchanged; free some space or choose another location"
    )]
    Write {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// An output path is also one of the command's inputs.
    #[error(
        "{flag} '{path}' is also the input {input_flag} '{input}'; writing it would destroy the input\n  hint: {}",
        if flag == "--out" { "pass another --out directory, or copy the input elsewhere first" } else { "write the output to another file" }
    )]
    OverwritesInput {
        /// The output flag.
        flag: String,
        /// The output path.
        path: String,
        /// The input's flag or argument name.
        input_flag: String,
        /// The input path.
        input: String,
    },
    /// Two outputs of one command name the same file.
    #[error(
        "{flag} '{path}' and {other_flag} '{other}' are the same file; one would overwrite the other\n  hint: give each output its own file"
    )]
    SameOutput {
        /// The later flag.
        flag: String,
        /// Its path.
        path: String,
        /// The earlier flag.
        other_flag: String,
        /// Its path.
        other: String,
    },
    /// Another rumcheck process holds the output directory.
    #[error(
        "--out '{dir}' is in use by another rumcheck process ({holder}); two runs into one directory would mix their samples\n  hint: wait for it to finish, or pass another --out directory"
    )]
    Locked {
        /// The directory.
        dir: String,
        /// `pid 1234` or `pid unknown`.
        holder: String,
    },
}

/// A validated output path: checked before the work, written after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputTarget {
    flag: String,
    shown: PathBuf,
    /// The file actually replaced (a symlink's target).
    file: PathBuf,
}

impl OutputTarget {
    /// Checks that `path` (named by `flag` in messages) can be replaced by a
    /// complete new file: it is a regular file, a link to one, or does not
    /// exist; its directory exists and accepts a temporary file. Nothing is
    /// created or changed.
    pub fn check(flag: &str, path: &Path) -> Result<OutputTarget, OutputError> {
        let file = resolve(flag, path)?;
        let dir = parent_of(&file);
        if !dir.is_dir() {
            return Err(OutputError::MissingDirectory {
                flag: flag.into(),
                path: path.display().to_string(),
                dir: dir.display().to_string(),
            });
        }
        let not_writable = |source| OutputError::NotWritable {
            flag: flag.into(),
            path: path.display().to_string(),
            source,
        };
        if file.exists() {
            // A read-only file is a request not to replace it: honour it,
            // although the rename would only need the directory's permission.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&file)
                .map_err(not_writable)?;
        }
        // The replacement is a temporary file renamed in the same directory.
        temp_in(&file).map_err(not_writable)?;
        Ok(OutputTarget {
            flag: flag.into(),
            shown: path.to_path_buf(),
            file,
        })
    }

    /// The path as the user gave it.
    pub fn path(&self) -> &Path {
        &self.shown
    }

    /// Replaces the file with `bytes`: temporary file, fsync, rename. The
    /// target is checked again, since it may have changed since [`check`](Self::check).
    pub fn write(&self, bytes: &[u8]) -> Result<(), OutputError> {
        let file = resolve(&self.flag, &self.shown)?;
        let err = |source| OutputError::Write {
            path: self.shown.display().to_string(),
            source,
        };
        let mut tmp = temp_in(&file).map_err(err)?;
        set_mode(tmp.as_file(), &file).map_err(err)?;
        tmp.as_file_mut().write_all(bytes).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(&file).map_err(|e| err(e.error))?;
        // The rename is durable only once the directory is synced; best effort.
        if let Ok(d) = std::fs::File::open(parent_of(&file)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Checks and writes in one go (for outputs produced without a long wait).
pub fn write_file(flag: &str, path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    OutputTarget::check(flag, path)?.write(bytes)
}

/// Refuses any output that is the same file as an input (same device and
/// inode, so hard links, symlinks and `./x` vs `x` are all caught). Outputs
/// that do not exist yet cannot be an input. Each pair is `(flag, path)`.
pub fn refuse_overwriting_inputs(
    outputs: &[(&str, &Path)],
    inputs: &[(&str, &Path)],
) -> Result<(), OutputError> {
    for (flag, out) in outputs {
        let Some(out_id) = file_id(out) else { continue };
        for (input_flag, input) in inputs {
            if file_id(input) == Some(out_id) {
                return Err(OutputError::OverwritesInput {
                    flag: flag.to_string(),
                    path: out.display().to_string(),
                    input_flag: input_flag.to_string(),
                    input: input.display().to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Refuses two outputs that are the same file, whether or not it exists
/// yet (same directory, after resolving links, and same name).
pub fn refuse_same_outputs(outputs: &[(&str, &Path)]) -> Result<(), OutputError> {
    let key = |p: &Path| {
        let file = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let dir =
            std::fs::canonicalize(parent_of(&file)).unwrap_or_else(|_| parent_of(&file).into());
        (dir, file.file_name().map(|n| n.to_os_string()))
    };
    for (i, (flag, path)) in outputs.iter().enumerate() {
        if let Some((other_flag, other)) = outputs[..i].iter().find(|(_, o)| key(o) == key(path)) {
            return Err(OutputError::SameOutput {
                flag: flag.to_string(),
                path: path.display().to_string(),
                other_flag: other_flag.to_string(),
                other: other.display().to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

/// The directory a path's file lives in (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The regular file to replace: `path` itself, or the file a symlink
/// points to. Refuses anything that is not a regular file.
fn resolve(flag: &str, path: &Path) -> Result<PathBuf, OutputError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(source) => {
            return Err(OutputError::NotWritable {
                flag: flag.into(),
                path: path.display().to_string(),
                source,
            });
        }
    };
    let file = if meta.file_type().is_symlink() {
        match std::fs::canonicalize(path) {
            Ok(target) => target,
            Err(_) => {
                let target = std::fs::read_link(path).unwrap_or_default();
                return Err(OutputError::DanglingLink {
                    flag: flag.into(),
                    path: path.display().to_string(),
                    target: target.display().to_string(),
                });
            }
        }
    } else {
        path.to_path_buf()
    };
    let meta = std::fs::metadata(&file).map_err(|source| OutputError::NotWritable {
        flag: flag.into(),
        path: path.display().to_string(),
        source,
    })?;
    if meta.is_file() {
        return Ok(file);
    }
    Err(OutputError::NotAFile {
        flag: flag.into(),
        path: path.display().to_string(),
        kind: kind_of(&meta),
        hint: hint_for(flag),
    })
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

fn hint_for(flag: &str) -> String {
    let example = match flag {
        // The samples file inside the output directory.
        "--out" => return "move it away, or pass another --out directory".into(),
        "--html" => "report.html",
        "--markdown" => "report.md",
        "--junit" => "junit.xml",
        "--json" => "results.json",
        "--output" => "rumcheck.toml",
        _ => "output.json",
    };
    format!("pass a file path such as 'rumcheck-out/{example}'")
}

/// A temporary file beside `file`, named after it so a leftover is recognisable.
fn temp_in(file: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let name = file
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(parent_of(file))
}

/// Temporary files are private (0600); the new file keeps the old one's
/// permissions, and a new file is readable by everyone who can read the directory.
fn set_mode(tmp: &std::fs::File, file: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).map_or(0o644, |m| m.permissions().mode() & 0o7777);
        tmp.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (tmp, file);
    Ok(())
}

#[cfg(test)]
mod tests;
