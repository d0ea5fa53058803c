//! Issue 13: safe on any checkout. A cache that cannot lie, nothing read outside the repository,
//! only regular files opened, bounded memory, terminal-safe output, lossless ledger writes, and
//! the output contract on every exit. Each test is one row of the table.

mod common;
use common::*;

use std::process::Command;

/// A repository with 0000–0001 applied (recorded).
fn applied() -> Dir {
    let d = Dir::new();
    d.init_repo();
    let mut ledger = String::new();
    for (i, name) in ["init", "users"].iter().enumerate() {
        let body = format!("CREATE TABLE {name} (id bigint PRIMARY KEY);\n");
        let file = format!("{i:04}_{name}.sql");
        d.write(&format!("migrations/{file}"), &body);
        ledger.push_str(&format!("{}  {file}\n", sha256(body.as_bytes())));
    }
    d.write("migrations/applied.sha256", ledger);
    d.commit_all("applied");
    d
}

#[test]
fn a_same_size_rewrite_with_its_mtime_restored_is_still_caught() {
    let d = applied();
    let path = d.join("migrations/0001_users.sql");
    let before = std::fs::metadata(&path).unwrap();
    // Old enough that the cache keeps it (nothing racy about it).
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    // Same size, same mtime: only the bytes differ.
    let body = std::fs::read(&path).unwrap();
    let evil = String::from_utf8(body.clone())
        .unwrap()
        .replace("users", "userz");
    assert_eq!(evil.len(), body.len());
    std::fs::write(&path, &evil).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), before.len());
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.codes().contains(&"checksum-mismatch".to_string()));
}

#[test]
fn a_corrupt_or_hostile_cache_is_ignored_never_a_crash() {
    let d = applied();
    d.write(
        "migrations/0002_bad.sql",
        "DROP TABLE users CASCADE; SELEC oops;\n",
    );
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 1);
    let dir = d.join(".git/miglint");
    let cache = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("analysis-"))
        .unwrap()
        .path();
    let bytes = std::fs::read(&cache).unwrap();
    // Absurd lengths and counts anywhere in the file (a run of 0xff bytes is the largest
    // varint postcard can hold): validated before anything is allocated, never a crash.
    for at in (0..bytes.len()).step_by(bytes.len().div_ceil(8).max(1)) {
        let mut forged = bytes.clone();
        let end = (at + 10).min(forged.len());
        forged[at..end].fill(0xff);
        std::fs::write(&cache, forged).unwrap();
        let r = d.run(&["check", "migrations", "--format", "json"]);
        assert_eq!(r.code, 1, "forged at {at}: {}{}", r.stdout, r.stderr);
        assert!(r.codes().contains(&"sql-parse-error".to_string()));
    }
    for junk in ["", "{", "[1,2,3]", "{\"fingerprint\":1}"] {
        std::fs::write(&cache, junk).unwrap();
        let r = d.run(&["check", "migrations", "--format", "json"]);
        assert_eq!(r.code, 1, "{junk}: {}", r.stderr);
    }
    // The history state is untrusted input too.
    d.commit_all("bad");
    let r = d.run(&["check", "migrations", "--history", "--format", "json"]);
    assert_eq!(r.code, 1);
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("history-") {
            std::fs::write(e.path(), "{\"commit\": [[[[").unwrap();
        }
    }
    let r = d.run(&["check", "migrations", "--history", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[cfg(unix)]
#[test]
fn a_migration_linked_outside_the_repository_is_never_read_or_printed() {
    let d = applied();
    let secret = Dir::new();
    secret.write("env", "GITHUB_TOKEN=ghp_supersecret\nSELEC 1;\n");
    std::os::unix::fs::symlink(secret.join("env"), d.join("migrations/0002_evil.sql")).unwrap();
    for format in ["human", "json", "github", "sarif"] {
        let r = d.run(&["check", "migrations", "--format", format]);
        assert_eq!(r.code, 1, "{format}");
        let all = r.stdout.clone() + &r.stderr;
        assert!(!all.contains("supersecret"), "{format}: {all}");
        assert!(
            !all.contains(secret.path().to_str().unwrap()),
            "{format}: {all}"
        );
        assert!(all.contains("unsafe-path"), "{format}: {all}");
    }
    // The same through a linked parent directory.
    std::fs::remove_file(d.join("migrations/0002_evil.sql")).unwrap();
    std::os::unix::fs::symlink(secret.path(), d.join("linked")).unwrap();
    d.write("miglint.toml", "[[set]]\ndir = \"linked\"\n");
    let r = d.run(&["check", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(!r.stdout.contains("supersecret"));
}

#[test]
fn config_paths_outside_the_repository_are_refused() {
    let outer = Dir::new();
    outer.write("secret.txt", "password=hunter2\n");
    std::fs::create_dir(outer.join("repo")).unwrap();
    let run_in = |args: &[&str]| outer.run_in("repo", args);
    Command::new("git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(outer.join("repo"))
        .status()
        .unwrap();
    outer.write(
        "repo/migrations/0000_init.sql",
        "CREATE TABLE t (id int);\n",
    );
    for (key, value) in [("lock", "../secret.txt"), ("lock", "/etc/passwd")] {
        outer.write(
            "repo/miglint.toml",
            format!("[[set]]\ndir = \"migrations\"\n{key} = \"{value}\"\n"),
        );
        let r = run_in(&["check", "--format", "json"]);
        assert_eq!(r.code, 2, "{key}={value}: {}", r.stdout);
        assert!(r.stdout.contains("config-invalid"), "{}", r.stdout);
        assert!(
            !r.stdout.contains("hunter2") && !r.stdout.contains("root:"),
            "{}",
            r.stdout
        );
        let r = run_in(&["record", "0000"]);
        assert_eq!(r.code, 2);
    }
    assert_eq!(
        outer.read("secret.txt"),
        "password=hunter2\n",
        "record wrote outside"
    );
    outer.write(
        "repo/miglint.toml",
        "[[set]]\ndir = \"migrations\"\n[set.alembic]\nini = \"../secret.txt\"\n",
    );
    let r = run_in(&["check", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(!r.stdout.contains("hunter2"));
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_without_being_opened() {
    let d = applied();
    let fifo = |p: &std::path::Path| {
        assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
    };
    fifo(&d.join("migrations/0002_pipe.sql"));
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.find("unreadable-file")["message"]
        .as_str()
        .unwrap()
        .contains("FIFO"));
    std::fs::remove_file(d.join("migrations/0002_pipe.sql")).unwrap();
    // The ledger as a FIFO, then as a link to /dev/zero (outside the repository).
    std::fs::remove_file(d.join("migrations/applied.sha256")).unwrap();
    fifo(&d.join("migrations/applied.sha256"));
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("FIFO"), "{}", r.stdout);
    std::fs::remove_file(d.join("migrations/applied.sha256")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("migrations/applied.sha256")).unwrap();
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.codes().contains(&"unsafe-path".to_string()),
        "{}",
        r.stdout
    );
    // A revision file linked to /dev/zero.
    d.write("alembic.ini", "[alembic]\nscript_location = alembic\n");
    d.write(
        "alembic/versions/a1_init.py",
        "revision = 'a1'\ndown_revision = None\n",
    );
    std::os::unix::fs::symlink("/dev/zero", d.join("alembic/versions/b2_zero.py")).unwrap();
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert!(r.stdout.contains("b2_zero.py"), "{}", r.stdout);
}

#[test]
fn a_file_over_max_file_size_is_hashed_not_loaded() {
    let d = applied();
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\nmax_file_size = 1024\n",
    );
    // Sparse: 64 MiB of zeros that take no disk space.
    let big = d.join("migrations/0002_big.sql");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let r = d.run(&["check", "--format", "json"]);
    assert!(
        r.codes().contains(&"file-too-large".to_string()),
        "{}",
        r.stdout
    );
    // Pending and not checked: miglint cannot vouch for it, so it is an error and `record`
    // refuses it until the team says otherwise in miglint.toml.
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(d.run(&["record", "0002"]).code, 2);
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\nmax_file_size = 1024\n\n[rules]\nfile-too-large = \"warning\"\n",
    );
    // Its checksum is right: `record` writes what sha256sum computes.
    let r = d.run(&["record", "0002"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let zeros = vec![0u8; 64 << 20];
    assert!(d
        .read("migrations/applied.sha256")
        .contains(&sha256(&zeros)));
    // An in-place edit of the big applied file is caught.
    let f = std::fs::File::options().write(true).open(&big).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"x", 1 << 20).unwrap();
    let r = d.run(&["check", "--format", "json"]);
    assert!(
        r.codes().contains(&"checksum-mismatch".to_string()),
        "{}",
        r.stdout
    );
}

/// Padding a new migration past `max_file_size` must not smuggle a typo past the check: a file
/// that is not parsed is an error while it is pending; once recorded (the database ran it) it is
/// protected by its checksum and the size is only a warning.
#[test]
fn a_pending_file_too_large_to_check_fails_closed() {
    let d = applied();
    d.write(
        "miglint.toml",
        "[[set]]\ndir = \"migrations\"\nmax_file_size = 4096\n",
    );
    let padded = format!(
        "{}\nDROP TABLE users CASCADE; SELEC oops;\n",
        "-- padding\n".repeat(500)
    );
    d.write("migrations/0002_padded.sql", &padded);
    // (exit code, severity of file-too-large) of a check.
    let verdict = || {
        let r = d.run(&["check", "--format", "json"]);
        let severity = r.find("file-too-large")["severity"].to_string();
        (r.code, severity)
    };
    assert_eq!(verdict(), (1, "\"error\"".to_string()));
    // Recorded (the team applied it and said so): a warning, the checksum protects it.
    d.write(
        "migrations/0002_padded.sql",
        format!("{}\nSELECT 1;\n", "-- padding\n".repeat(500)),
    );
    let ledger = d.read("migrations/applied.sha256");
    let digest = sha256(d.read("migrations/0002_padded.sql").as_bytes());
    d.write(
        "migrations/applied.sha256",
        format!("{ledger}{digest}  0002_padded.sql\n"),
    );
    assert_eq!(verdict(), (0, "\"warning\"".to_string()));
}

#[test]
fn terminal_escapes_in_sql_never_reach_the_terminal() {
    let d = Dir::new();
    d.write(
        "migrations/0000_x.sql",
        "SELECT 1;\nSELEC \u{1b}]0;pwned\u{7} \u{1b}[2J 2;\n",
    );
    for format in ["human", "github"] {
        let r = d.run(&["check", "migrations", "--format", format]);
        assert_eq!(r.code, 1);
        assert!(!r.stdout.contains('\u{1b}'), "{format}: {:?}", r.stdout);
        assert!(!r.stdout.contains('\u{7}'), "{format}: {:?}", r.stdout);
    }
    // JSON carries it, escaped by JSON itself.
    let r = d.run(&["check", "migrations", "--format", "json"]);
    let _ = r.json();
}

#[test]
fn a_huge_message_is_summarised() {
    let d = Dir::new();
    let deep = format!("SELECT {}1{};\n", "(".repeat(100_000), ")".repeat(100_000));
    d.write("migrations/0000_deep.sql", &deep);
    // A parse error whose message quotes a 100,000-character literal.
    let long = format!("SELECT 1 '{}';\n", "x".repeat(100_000));
    d.write("migrations/0001_long.sql", &long);
    let r = d.run(&["check", "migrations", "--format", "json"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    for diag in r.json()["diagnostics"].as_array().unwrap() {
        assert!(
            diag["message"].as_str().unwrap().chars().count() < 2_100,
            "{diag}"
        );
    }
}

#[cfg(unix)]
#[test]
fn record_waits_for_the_os_lock_and_leaves_no_temp_file() {
    let d = Dir::new();
    d.init_repo();
    d.write("migrations/0000_a.sql", "SELECT 1;\n");
    // A leftover of a killed run is cleaned up by the next write.
    d.write("migrations/.applied.sha256.miglint-tmp-424242", "partial");
    // Another writer (any process, any PID namespace) holds the kernel lock on the directory.
    let held = std::fs::File::open(d.join("migrations")).unwrap();
    held.lock().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_miglint"))
        .args(["record", "0000"])
        .current_dir(d.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(
        child.try_wait().unwrap().is_none(),
        "record did not wait for the lock"
    );
    assert!(!d.join("migrations/applied.sha256").exists());
    held.unlock().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(d.read("migrations/applied.sha256").lines().count(), 1);
    let names: Vec<String> = std::fs::read_dir(d.join("migrations"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("miglint")), "{names:?}");
}

#[cfg(unix)]
#[test]
fn record_keeps_the_ledger_mode_and_refuses_a_linked_ledger() {
    use std::os::unix::fs::PermissionsExt;
    let d = Dir::new();
    d.init_repo();
    d.write("migrations/0000_a.sql", "SELECT 1;\n");
    d.write("migrations/0001_b.sql", "SELECT 2;\n");
    d.write("migrations/applied.sha256", "");
    let ledger = d.join("migrations/applied.sha256");
    std::fs::set_permissions(&ledger, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(d.run(&["record", "0000"]).code, 0);
    let mode = std::fs::metadata(&ledger).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    d.write("real.sha256", d.read("migrations/applied.sha256"));
    std::fs::remove_file(&ledger).unwrap();
    std::os::unix::fs::symlink("../real.sha256", &ledger).unwrap();
    let r = d.run(&["record", "0001"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("symlink"), "{}", r.stderr);
}

#[test]
fn a_bug_still_prints_one_json_document() {
    let d = Dir::new();
    d.write("migrations/0000_a.sql", "SELECT 1;\n");
    for format in ["json", "sarif"] {
        let r = d.run_env(
            ".",
            &["check", "migrations", "--format", format],
            &[("MIGLINT_FAULT", "panic")],
        );
        assert_eq!(r.code, 2);
        let doc = r.json();
        assert!(doc.to_string().contains("internal-error"), "{doc}");
    }
}

#[test]
fn the_shipped_binary_has_no_fault_injection() {
    // Release builds compile the hook out; this test binary is a debug build, so read the source
    // contract instead: every fault hook sits behind cfg(debug_assertions).
    for file in ["src/main.rs", "src/fsutil.rs"] {
        let text =
            std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.contains("MIGLINT_FAULT") && !line.trim_start().starts_with("//") {
                let before: Vec<&str> = text.lines().take(i).collect();
                let guarded = before
                    .iter()
                    .rev()
                    .take(8)
                    .any(|l| l.contains("cfg(debug_assertions)"));
                assert!(guarded, "{file}:{}: unguarded fault hook", i + 1);
            }
        }
    }
}
