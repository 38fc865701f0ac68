//! Scan slots: at most N pre-receive scans run at once; the others wait in
//! line, and a scan's deadline only starts when it gets its slot.
//!
//! Why: a deadline measured from the moment git starts the hook counts the
//! time spent waiting for the CPU behind every other push. With 60 pushes
//! arriving together on 2 cores, every hook shared the CPU with 59 others and
//! almost all of them hit the 4 s deadline, clean ones included (issue 11,
//! item 15). Waiting in line instead keeps each scan's own work fast and its
//! deadline meaningful, and the wait itself has its own, longer limit.
//!
//! A slot is an advisory lock (`flock`, through std's `File::try_lock`) on one
//! of N files `slot-<i>.lock` in a directory: by default the repository's
//! `gitops-guard-slots/`, so the limit is per repository; point
//! `gitops-guard.slotDir` (e.g. in the system git config) at one shared
//! directory to make it server-wide. The kernel drops the lock when the hook
//! process exits, however it exits, so a killed hook never leaks a slot.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A held slot; dropping it (or the process ending) frees it.
#[derive(Debug)]
pub struct Slot {
    _file: File,
    /// Which of the N slots.
    pub index: usize,
    /// How long the hook waited for it.
    pub waited: Duration,
}

/// Why no slot was had.
#[derive(Debug)]
pub enum SlotError {
    /// Every slot stayed busy for the whole queue timeout.
    QueueTimeout { waited: Duration, slots: usize },
    /// The lock files could not be created or locked.
    Io { dir: PathBuf, error: io::Error },
}

/// Wait for one of `slots` slots in `dir` (created if missing), at most
/// `queue_timeout` (`Duration::ZERO`: wait as long as it takes).
/// `on_wait` is called once if no slot was free at first, so the pusher can be
/// told why nothing happens.
pub fn acquire(
    dir: &Path,
    slots: usize,
    queue_timeout: Duration,
    mut on_wait: impl FnMut(),
) -> Result<Slot, SlotError> {
    let io_err = |error| SlotError::Io {
        dir: dir.to_path_buf(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(io_err)?;
    let files: Vec<File> = (0..slots.max(1))
        .map(|i| {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(dir.join(format!("slot-{i}.lock")))
        })
        .collect::<io::Result<_>>()
        .map_err(io_err)?;
    let started = Instant::now();
    // Start at a slot chosen by process id so that waiting hooks do not all
    // probe slot 0 first.
    let first = std::process::id() as usize % files.len();
    let mut pause = Duration::from_millis(5);
    let mut told = false;
    let mut files: Vec<Option<File>> = files.into_iter().map(Some).collect();
    loop {
        for k in 0..files.len() {
            let i = (first + k) % files.len();
            let f = files[i].as_ref().expect("each file is taken once");
            match f.try_lock() {
                Ok(()) => {
                    return Ok(Slot {
                        _file: files[i].take().expect("present"),
                        index: i,
                        waited: started.elapsed(),
                    });
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(io_err(e)),
            }
        }
        let waited = started.elapsed();
        if !queue_timeout.is_zero() && waited >= queue_timeout {
            return Err(SlotError::QueueTimeout {
                waited,
                slots: files.len(),
            });
        }
        if !told {
            told = true;
            on_wait();
        }
        let mut sleep = pause;
        if !queue_timeout.is_zero() {
            sleep = sleep.min(queue_timeout.saturating_sub(waited));
        }
        std::thread::sleep(sleep.max(Duration::from_millis(1)));
        // Back off to 100 ms: a scan takes far longer than that, and many
        // waiting hooks should not keep the CPU busy probing.
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// CPU time used by this process so far (all threads), where the platform
/// tells it.
pub fn process_cpu_time() -> Option<Duration> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        if rc == 0 && ts.tv_sec >= 0 && ts.tv_nsec >= 0 {
            return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
        }
        None
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_exclusive_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let a = acquire(dir.path(), 2, Duration::from_millis(50), || {}).unwrap();
        let b = acquire(dir.path(), 2, Duration::from_millis(50), || {}).unwrap();
        assert_ne!(a.index, b.index);
        let mut waited = false;
        match acquire(dir.path(), 2, Duration::from_millis(50), || waited = true) {
            Err(SlotError::QueueTimeout { slots: 2, .. }) => {}
            other => panic!("all slots busy must time out: {other:?}"),
        }
        assert!(waited, "the waiting pusher is told");
        let freed = a.index;
        drop(a);
        let c = acquire(dir.path(), 2, Duration::from_millis(50), || {}).unwrap();
        assert_eq!(c.index, freed);
        drop((b, c));
    }

    #[test]
    fn an_unusable_slot_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        assert!(matches!(
            acquire(&file, 1, Duration::from_millis(10), || {}),
            Err(SlotError::Io { .. })
        ));
    }

    #[test]
    fn cpu_time_moves_with_work() {
        let Some(before) = process_cpu_time() else {
            return;
        };
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(process_cpu_time().unwrap() > before);
    }
}
