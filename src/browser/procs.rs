//! Browser processes on Linux, found through `/proc`: which run, which use
//! a profile directory, and ending them.

/// The state letter and parent of process `pid`, from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (command) S ppid …": the command may hold spaces and parentheses.
    let mut rest = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    Some((state, rest.next()?.parse().ok()?))
}

/// Whether `pid` still runs (an exited process waiting to be reaped does not).
pub(super) fn running(pid: u32) -> bool {
    proc_stat(pid).is_some_and(|(state, _)| state != 'Z' && state != 'X')
}

/// The processes of the browser using profile `dir` and all their
/// descendants (Linux; elsewhere none, and the profile is deleted at once).
pub(super) fn browser_processes(dir: &std::path::Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let needle = dir.as_os_str().as_encoded_bytes();
    let pids: Vec<u32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    let mut found: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|cmd| cmd.windows(needle.len()).any(|w| w == needle))
        })
        .collect();
    let parents: Vec<(u32, u32)> = pids
        .iter()
        .filter_map(|&p| Some((p, proc_stat(p)?.1)))
        .collect();
    // Children of found processes, until none is new.
    loop {
        let more: Vec<u32> = parents
            .iter()
            .filter(|(p, parent)| found.contains(parent) && !found.contains(p))
            .map(|(p, _)| *p)
            .collect();
        if more.is_empty() {
            return found;
        }
        found.extend(more);
    }
}

/// SIGKILL to each of `pids` that still runs.
pub(super) fn kill_all(pids: &[u32]) {
    for &pid in pids {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            continue;
        };
        if pid > 1 && running(pid as u32) {
            // SAFETY: kill(2) on a process id; no memory is involved.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Memory of `pids` in bytes: the sum of their proportional set sizes
/// (`Pss` in `/proc/<pid>/smaps_rollup`), so pages Chromium's processes
/// share are counted once.
pub(super) fn resident_bytes(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok())
        .filter_map(|text| {
            let line = text.lines().find(|l| l.starts_with("Pss:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .sum()
}
