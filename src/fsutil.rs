//! The only place miglint writes files. Every write is atomic (a temp file in the same directory,
//! then rename), so a crash or a kill mid-write leaves the old file intact.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Fatal;

/// Why a file in the repository was not read.
#[derive(Debug)]
pub enum ReadError {
    NotFound,
    /// The path (after symlinks) leads outside the repository; the target is never opened.
    Outside,
    /// Not a regular file: "a FIFO", "a directory", …; never opened (a FIFO would block).
    NotRegular(&'static str),
    /// Larger than the limit (the size is what `stat` said).
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => write!(f, "it does not exist"),
            ReadError::Outside => write!(f, "it is a symlink that leads outside the repository"),
            ReadError::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge(n) => write!(f, "it is {n} bytes, over the size limit"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Lexically normalises `a/./b/../c` to `a/c`, so set paths compare equal however they were typed.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// What kind of non-regular file `meta` describes, in words.
pub fn kind(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Whether `path`, with every symlink resolved, lies inside `root` (which must be canonical).
/// A path that does not exist yet is judged by its longest existing ancestor.
pub fn inside(root: &Path, path: &Path) -> bool {
    let mut probe = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        match probe.canonicalize() {
            Ok(c) => {
                let mut full = c;
                for part in rest.iter().rev() {
                    full.push(part);
                }
                return normalize(&full).starts_with(root);
            }
            Err(_) => match (probe.parent(), probe.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    probe = parent.to_path_buf();
                }
                _ => return false,
            },
        }
    }
}

/// Opens `root/rel` for reading if it is a regular file inside the repository; FIFOs, devices,
/// sockets and links leading outside are refused without being opened.
pub fn open_regular(root: &Path, rel: &str) -> Result<(fs::File, u64), ReadError> {
    let path = root.join(rel);
    match fs::symlink_metadata(&path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ReadError::NotFound),
        Err(e) => return Err(ReadError::Io(e)),
    }
    // Every component is resolved, so a linked parent directory cannot lead outside either.
    if !inside(root, &path) {
        return Err(ReadError::Outside);
    }

    let meta = fs::metadata(&path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(&meta)));
    }
    open_file(&path)
}

/// Opens a path whose directory entry said "regular file" (so opening cannot block on a FIFO),
/// and verifies with `fstat` that it still is one.
pub fn open_file(path: &Path) -> Result<(fs::File, u64), ReadError> {
    let file = fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Io(e),
    })?;
    // Swapped for something else since it was listed: refuse rather than read it.
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(&meta)));
    }
    Ok((file, meta.len()))
}

/// Reads `root/rel` (see [`open_regular`]) if it holds at most `limit` bytes.
pub fn read_regular(root: &Path, rel: &str, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, size) = open_regular(root, rel)?;
    read_limited(file, size, limit)
}

/// Reads an opened file of `size` bytes if it holds at most `limit` (it may grow meanwhile:
/// never more than `limit + 1` bytes are read).
pub fn read_limited(mut file: fs::File, size: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    if size > limit {
        return Err(ReadError::TooLarge(size));
    }
    // Ask for one byte more than fstat said: a regular file returns fewer bytes than asked only
    // at its end, so one read() usually holds the whole file and its end (a second call per file
    // was a tenth of a warm check). A file that grew is read on, to the limit.
    let mut bytes = vec![0u8; size as usize + 1];
    let mut filled = 0;
    loop {
        let n = match file.read(&mut bytes[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        filled += n;
        if n == 0 || filled < bytes.len() {
            break;
        }
        if filled as u64 > limit {
            return Err(ReadError::TooLarge(filled as u64));
        }
        let grow = (bytes.len()).min((limit + 1) as usize - filled).max(1);
        bytes.resize(filled + grow, 0);
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// Reads miglint's own state file (`.git/miglint/…`): a regular file of at most `limit` bytes,
/// or an error; its content is still untrusted and must be validated by the caller.
pub fn read_state(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = dir.canonicalize().map_err(|_| ReadError::NotFound)?;
    read_regular(&dir, &name, limit)
}

/// SHA-256 of a file read in fixed-size chunks: memory stays bounded whatever its size.
pub fn sha256_stream(mut file: fs::File) -> std::io::Result<(String, u64)> {
    use sha2::Digest;
    use std::io::Read;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((crate::ledger::hex(&hasher.finalize()), total))
}

/// Test hook: `MIGLINT_FAULT=<point>` kills the process at that point, the way a power cut or a
/// `kill -9` would, so tests can prove that an interrupted write loses nothing.
/// Compiled only into debug builds (what `cargo test` runs): the shipped release binary has no
/// fault injection at all.
#[cfg(debug_assertions)]
fn fault(point: &str) {
    if std::env::var("MIGLINT_FAULT").is_ok_and(|v| v == point) {
        std::process::abort();
    }
}

#[cfg(not(debug_assertions))]
fn fault(_point: &str) {}

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
    // The replacement keeps the file's permissions.
    let mode = fs::metadata(path).ok().map(|m| m.permissions());
    let result = write_temp(&tmp, bytes).and_then(|()| {
        if let Some(mode) = mode {
            fs::set_permissions(&tmp, mode)?;
        }
        fault("before-rename");
        fs::rename(&tmp, path)
    });
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Fatal::new(
            crate::registry::Rule::IoError,
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
    let _lock = LockGuard::acquire(path)?;
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
            crate::registry::Rule::IoError,
            format!("cannot create {}: {e}", path.display()),
            "check permissions and free space",
        )),
    }
}

/// An exclusive lock held while a read-modify-write of a file runs, so two `miglint record` runs
/// cannot interleave and lose a line. It is an OS advisory lock (`flock` on Unix) on the file's
/// directory: no lock file to leave behind or to commit, no PID to misjudge across containers
/// (PID namespaces), and the kernel releases it when a run is killed.
pub struct LockGuard {
    _dir: fs::File,
}

impl LockGuard {
    pub fn acquire(target: &Path) -> crate::Result<LockGuard> {
        let dir_path = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = lock_handle(dir_path)?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match dir.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Fatal::refused(
                        format!("{} is locked by another miglint run", target.display()),
                        "wait for it to finish and run the command again",
                    ))
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Fatal::new(
                        crate::registry::Rule::IoError,
                        format!("cannot lock {}: {e}", dir_path.display()),
                        "check that the file system supports locks (flock)",
                    ))
                }
            }
        }
        // Under the lock no other write is in progress: any temp file of ours is a leftover of
        // a killed run, and must not linger where `git add -A` would pick it up.
        remove_stale_temps(target);
        Ok(LockGuard { _dir: dir })
    }
}

/// What to lock for a directory: the directory itself where the OS allows it.
fn lock_handle(dir: &Path) -> crate::Result<fs::File> {
    #[cfg(unix)]
    let opened = fs::File::open(dir);
    #[cfg(not(unix))]
    let opened = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".miglint.lock"));
    opened.map_err(|e| {
        Fatal::new(
            crate::registry::Rule::IoError,
            format!("cannot open {} to lock it: {e}", dir.display()),
            "check permissions on the directory",
        )
    })
}

/// Removes `.<name>.miglint-tmp-*` / `.<name>.miglint-new-*` left next to `target` by a killed run.
pub fn remove_stale_temps(target: &Path) {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefixes = [
        format!(".{}.miglint-tmp-", name.to_string_lossy()),
        format!(".{}.miglint-new-", name.to_string_lossy()),
    ];
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| n.starts_with(p.as_str())) {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, fs::File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, bytes).unwrap();
        let f = fs::File::open(&path).unwrap();
        (dir, f)
    }

    /// The size fstat gave is a hint: the bytes read are the file's, whether it grew or shrank
    /// since, and the limit holds either way.
    #[test]
    fn read_limited_reads_the_whole_file_whatever_the_size_hint() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        for hint in [0, 1, 4_999, 9_999, 10_000, 10_001, 20_000] {
            let (_d, f) = file_with(&data);
            assert_eq!(read_limited(f, hint, 1 << 20).unwrap(), data, "hint {hint}");
        }
        let (_d, f) = file_with(&data);
        assert!(matches!(
            read_limited(f, 10, 9_999),
            Err(ReadError::TooLarge(_))
        ));
        let (_d, f) = file_with(&data);
        assert_eq!(read_limited(f, 10, 10_000).unwrap(), data);
        let (_d, f) = file_with(b"");
        assert_eq!(read_limited(f, 0, 0).unwrap(), b"");
    }
}
