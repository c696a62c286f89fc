use super::*;

#[test]
fn a_new_file_is_written_whole_and_readable_by_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    write_file("--json", &path, b"{}\n").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"{}\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
    // No temporary file is left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn replacing_keeps_the_old_files_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json");
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    write_file("-o", &path, b"new").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn device_nodes_are_refused_and_left_alone() {
    let e = OutputTarget::check("--html", Path::new("/dev/null")).unwrap_err();
    assert!(
        matches!(
            e,
            OutputError::NotAFile {
                kind: "a character device",
                ..
            }
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("--html '/dev/null' is a character device"),
        "{msg}"
    );
    assert!(msg.contains("report.html"), "{msg}");
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(!meta.is_file());
}

#[test]
fn fifos_and_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = write_file("--json", &fifo, b"x").unwrap_err();
    assert!(e.to_string().contains("is a FIFO (named pipe)"), "{e}");
    let e = write_file("-o", dir.path(), b"x").unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
}

#[test]
fn a_symlink_stays_a_link_and_its_target_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("real");
    std::fs::create_dir(&sub).unwrap();
    let target = sub.join("report.md");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.md");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    write_file("--markdown", &link, b"new").unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
}

#[test]
fn a_link_to_a_device_or_nowhere_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("full");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    let e = write_file("--html", &link, b"x").unwrap_err();
    assert!(e.to_string().contains("character device"), "{e}");
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("gone/x"), &dangling).unwrap();
    let e = write_file("--html", &dangling, b"x").unwrap_err();
    assert!(matches!(e, OutputError::DanglingLink { .. }), "{e}");
}

#[test]
fn a_missing_directory_is_named() {
    let e =
        OutputTarget::check("--json", Path::new("/nonexistent-dir-rumcheck/r.json")).unwrap_err();
    assert!(
        e.to_string()
            .contains("the directory '/nonexistent-dir-rumcheck' does not exist"),
        "{e}"
    );
}

#[test]
fn an_output_that_is_an_input_is_refused_through_links_and_dots() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("c.ndjson");
    std::fs::write(&input, "{}\n").unwrap();
    let dotted = dir.path().join(".").join("c.ndjson");
    let e =
        refuse_overwriting_inputs(&[("--json", &dotted)], &[("CANDIDATE", &input)]).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("is also the input CANDIDATE"), "{msg}");
    let link = dir.path().join("l");
    std::os::unix::fs::symlink(&input, &link).unwrap();
    assert!(refuse_overwriting_inputs(&[("-o", &link)], &[("FILE", &input)]).is_err());
    let other = dir.path().join("new.json");
    refuse_overwriting_inputs(&[("--json", &other)], &[("CANDIDATE", &input)]).unwrap();
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "{}\n");
}

#[test]
fn a_second_lock_on_a_directory_names_the_holder_and_the_first_is_shared_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let first = DirLock::acquire(dir.path()).unwrap();
    // The same process shares its lock (demo: calibration, then the gate).
    let again = DirLock::acquire(dir.path()).unwrap();
    drop(again);
    // Another open of the lock file (what another process does) is refused.
    let other = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.path().join(DirLock::FILE_NAME))
        .unwrap();
    assert!(!lock::try_lock_for_tests(&other));
    let pid = std::fs::read_to_string(dir.path().join(DirLock::FILE_NAME)).unwrap();
    assert_eq!(pid.trim(), std::process::id().to_string());
    drop(first);
    assert!(lock::try_lock_for_tests(&other));
}

#[test]
fn two_outputs_naming_one_file_are_refused_even_before_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("r.json");
    let b = dir.path().join(".").join("r.json");
    let e = refuse_same_outputs(&[("--json", &a), ("--html", &b)]).unwrap_err();
    assert!(
        e.to_string().contains("--html '") && e.to_string().contains("are the same file"),
        "{e}"
    );
    let c = dir.path().join("r.html");
    refuse_same_outputs(&[("--json", &a), ("--html", &c)]).unwrap();
}
