//! The only place miglint writes files. Every write is atomic (a temp file in the same directory,
//! then rename), so a crash or a kill mid-write leaves the old file intact.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Fatal;

/// Test hook: `MIGLINT_FAULT=<point>` kills the process at that point, the way a power cut or a
/// `kill -9` would, so tests can prove that an interrupted write loses nothing.
fn fault(point: &str) {
    if std::env::var("MIGLINT_FAULT").is_ok_and(|v| v == point) {
        std::process::abort();
    }
}

/// A hidden file next to `path`: `.<name><suffix>` in the same directory (so a rename onto
/// `path` stays on one file system and is atomic).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}{suffix}"))
}

/// Writes `bytes` to a fresh temp file and flushes it to disk.
fn write_temp(tmp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::File::create(tmp)?;
    let half = bytes.len() / 2;
    f.write_all(&bytes[..half])?;
    fault("mid-write");
    f.write_all(&bytes[half..])?;
    f.sync_all()
}

/// Replaces (or creates) `path` with `bytes` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> crate::Result<()> {
    let tmp = sibling(path, &format!(".miglint-tmp-{}", std::process::id()));
    let result = write_temp(&tmp, bytes).and_then(|()| {
        fault("before-rename");
        fs::rename(&tmp, path)
    });
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Fatal::new(
            crate::rules::Rule::IoError,
            format!("cannot write {}: {e}", path.display()),
            "the previous content is unchanged; check permissions and free space",
        ));
    }
    Ok(())
}

/// Creates `path` with `bytes`, refusing to replace anything that exists (even one created by a
/// concurrent run between our check and our write: `hard_link` fails if the target exists).
pub fn create_new_atomic(path: &Path, bytes: &[u8]) -> crate::Result<()> {
    if path.symlink_metadata().is_ok() {
        return Err(Fatal::refused(
            format!("{} already exists", path.display()),
            "miglint never overwrites; remove or rename the existing file first",
        ));
    }
    let tmp = sibling(path, &format!(".miglint-new-{}", std::process::id()));
    // `hard_link` fails if the target appeared meanwhile: never overwrite a concurrent creation.
    let result = write_temp(&tmp, bytes).and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Fatal::refused(
            format!("{} already exists", path.display()),
            "miglint never overwrites; remove or rename the existing file first",
        )),
        Err(e) => Err(Fatal::new(
            crate::rules::Rule::IoError,
            format!("cannot create {}: {e}", path.display()),
            "check permissions and free space",
        )),
    }
}

/// An exclusive lock held while a read-modify-write of `path` runs, so two `miglint record`
/// runs cannot interleave. The lock is a sibling file created with `create_new`; it is removed
/// when the guard drops. A lock older than ten minutes is considered abandoned by a killed run.
pub struct LockGuard {
    path: PathBuf,
}

impl LockGuard {
    pub fn acquire(target: &Path) -> crate::Result<LockGuard> {
        let path = sibling(target, ".lock");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(LockGuard { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = holder_is_gone(&path)
                        || fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .ok()
                            .and_then(|t| t.elapsed().ok())
                            .is_some_and(|age| age.as_secs() > 600);
                    if stale {
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    if std::time::Instant::now() > deadline {
                        return Err(Fatal::refused(
                            format!("{} is locked by another miglint run", target.display()),
                            format!(
                                "wait for it to finish; if none is running, delete {}",
                                path.display()
                            ),
                        ));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => {
                    return Err(Fatal::new(
                        crate::rules::Rule::IoError,
                        format!("cannot create lock {}: {e}", path.display()),
                        "check permissions on the directory",
                    ))
                }
            }
        }
    }
}

/// Whether the process that wrote the lock file is known to be dead (a killed run). Only
/// answerable where /proc exists; elsewhere the age limit applies.
fn holder_is_gone(lock: &Path) -> bool {
    let Ok(text) = fs::read_to_string(lock) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return false;
    };
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
