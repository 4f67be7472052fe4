//! The sandbox's connections fitted to the file descriptors the process may
//! open. Past that limit `accept` fails and the accept loop pauses for
//! everyone; under the cap, the admission desk refuses or makes room and
//! says so. Many systems start a process with a soft limit of 1,024, so the
//! soft limit is first raised to the hard one, as servers commonly do.

use vizochok_sandbox::ConnectionLimits;

/// Descriptors kept for everything but counted connections: the listener,
/// the runtime's own, state and image files, webhook calls, and sockets
/// ended to make room that are still finishing their close. (A flood that
/// outruns even these meets `accept`'s failure path, a pause of 50 ms.)
const KEPT: u64 = 64;

/// Raises the soft limit on open files to the hard one, then lowers
/// `max_connections` to what fits under it. The limit in force, if known.
pub fn fit(limits: &mut ConnectionLimits) -> Option<u64> {
    let open_files = raise()?;
    let room = usize::try_from(open_files.saturating_sub(KEPT).max(1)).unwrap_or(usize::MAX);
    limits.max_connections = limits.max_connections.min(room);
    Some(open_files)
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn raise() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `getrlimit` and `setrlimit` only read and write the struct
    // passed, which lives for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    // `rlim_t` is 32 bits on some targets.
    #[allow(clippy::useless_conversion)]
    Some(u64::try_from(limit.rlim_cur).unwrap_or(u64::MAX))
}

#[cfg(not(unix))]
fn raise() -> Option<u64> {
    None
}
