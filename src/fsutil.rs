//! The only place miglint writes files. Every write is atomic (a temp file in the same directory,
//! then rename), so a crash or a kill mid-write leaves the old file intact.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Fatal;

/// Replaces (or creates) `path` with `bytes` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> crate::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.miglint-tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
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
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".miglint-new-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
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
        let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let path = dir.join(format!(".{name}.lock"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(LockGuard { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(&path)
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
                            format!("wait for it to finish; if none is running, delete {}", path.display()),
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

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
