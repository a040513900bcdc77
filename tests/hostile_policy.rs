//! Hostile policy-side input through the real `pal` binary (issue 19): deep nesting, costly
//! evaluation, non-regular and out-of-folder files, directory cycles, huge declaration counts,
//! a REPL with a closed stdout or non-UTF-8 input. Inputs are generated into a temporary folder.
//! Each run has a memory limit (`ulimit -v`) and a hang guard: a run that uses more than
//! [`HANG_GUARD`] of CPU time (or blocks for [`WALL_GUARD`]) is killed and the test fails. CPU
//! time, not wall time, so that a machine shared with other builds does not fail a linear run. Each case asserts the exit code and that the
//! message names the problem.
//!
//! `PAL_BIN=/path/to/pal cargo test --test hostile_policy` runs the cases against another build
//! (how they were checked to fail before the fixes).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Far more CPU time than any case takes (a few seconds in a debug build).
const HANG_GUARD: Duration = Duration::from_secs(60);

/// A run blocked without using CPU (a deadlock) is stopped after this much wall time.
const WALL_GUARD: Duration = Duration::from_secs(300);

/// The CPU time (user + system, all threads) process `pid` has used so far, from
/// `/proc/PID/stat` (fields 14 and 15, in clock ticks of 1/100 s).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Virtual memory limit for each run, in KiB (mimalloc and the thread pool reserve address
/// space generously; a runaway read or evaluation still hits it quickly).
const MEMORY_KIB: u64 = 4 * 1024 * 1024;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn bin() -> String {
    std::env::var("PAL_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pal").to_string())
}

/// A fresh temporary folder for one case, removed when the case ends.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("pal-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    Scratch(dir)
}

fn write(path: &Path, text: impl AsRef<[u8]>) {
    if let Err(e) = std::fs::write(path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
}

/// Runs `pal ARGS` in `dir` under the memory limit, feeding `stdin`, killing it after
/// [`HANG_GUARD`]. `close_stdout` closes the read end of its stdout pipe at once.
fn pal_with(dir: &Path, args: &[&str], stdin: &[u8], close_stdout: bool) -> Out {
    let script = format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\"");
    let mut child = match Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot start pal: {e}"),
    };
    let input = stdin.to_vec();
    let mut child_in = child.stdin.take();
    let feeder = std::thread::spawn(move || {
        if let Some(w) = child_in.as_mut() {
            let _ = w.write_all(&input);
        }
    });
    let mut child_out = child.stdout.take();
    if close_stdout {
        child_out = None;
    }
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut r) = child_out {
            let _ = r.read_to_string(&mut s);
        }
        s
    });
    let mut child_err = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(r) = child_err.as_mut() {
            let _ = r.read_to_end(&mut s);
        }
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None)
                if start.elapsed() > WALL_GUARD
                    || cpu_time(child.id()).is_some_and(|t| t > HANG_GUARD) =>
            {
                let used = cpu_time(child.id());
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`pal {}` still running after {:?} ({used:?} of CPU time)",
                    args.join(" "),
                    start.elapsed(),
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for pal: {e}"),
        }
    };
    let _ = feeder.join();
    let stdout = reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Out {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

fn pal(dir: &Path, args: &[&str]) -> Out {
    pal_with(dir, args, b"", false)
}

fn assert_names(o: &Out, code: i32, needles: &[&str]) {
    let all = format!("{}{}", o.stdout, o.stderr);
    assert_eq!(
        o.code, code,
        "exit code {} (wanted {code}); output:\n{all}",
        o.code
    );
    for n in needles {
        assert!(all.contains(n), "output does not mention `{n}`:\n{all}");
    }
}

/// A small schema, enough for rules and tests.
const SCHEMA: &str = "event seen { kind: Int = 0 }\nevent gone\n";

// ---------------------------------------------------------------- item 1: nesting

#[test]
fn deep_within_chains_are_rejected_not_overflowed() {
    let dir = scratch("within");
    let n = 3000;
    let chain = format!(
        "def x = now{}{}\n",
        " within now".repeat(n),
        " of now".repeat(n)
    );
    write(&dir.join("w.pal"), &chain);
    let left = format!("def y = now{}\n", " within now of now".repeat(n));
    write(&dir.join("l.pal"), &left);
    for f in ["w.pal", "l.pal"] {
        assert_names(&pal(&dir, &["check", f]), 1, &["E0004", "nest"]);
        assert_names(&pal(&dir, &["test", f]), 1, &["E0004"]);
    }
    let o = pal_with(&dir, &["repl", "w.pal"], b":state\n", false);
    assert!(o.stdout.contains("E0004"), "{}{}", o.stdout, o.stderr);
    assert!(o.code == 0 || o.code == 1, "exit {}: {}", o.code, o.stderr);
}

#[test]
fn brackets_after_a_quote_in_a_block_comment_are_counted() {
    let dir = scratch("comment");
    let deep = format!(
        "def x = /* \" */ {}1{}\n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    write(&dir.join("c.pal"), deep);
    assert_names(
        &pal(&dir, &["check", "c.pal"]),
        1,
        &["E0004", "deeper than 64"],
    );
}

#[test]
fn long_definition_chains_are_bounded_at_check_time() {
    let dir = scratch("defchain");
    let mut text = String::from("def d0 = 1\n");
    for i in 1..20_000 {
        text.push_str(&format!("def d{i} = d{} + 1\n", i - 1));
    }
    write(&dir.join("d.pal"), text);
    assert_names(&pal(&dir, &["check", "d.pal"]), 1, &["E0209", "`d256`"]);
}

// ---------------------------------------------------------------- item 3: files

#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let dir = scratch("fifo");
    let made = Command::new("mkfifo").arg(dir.join("pipe.pal")).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    write(&dir.join("a.pal"), "import \"pipe.pal\"\n");
    // A file a policy names is a finding (exit 1); a path on the command line is input (3).
    assert_names(
        &pal(&dir, &["check", "a.pal"]),
        1,
        &["pipe.pal", "not a regular file"],
    );
    // A FIFO named on the command line too.
    assert_names(
        &pal(&dir, &["check", "pipe.pal"]),
        3,
        &["not a regular file"],
    );
    // /dev/zero, when its folder is allowed: refused, not read until memory runs out.
    write(&dir.join("z.pal"), "import \"/dev/zero\"\n");
    assert_names(
        &pal(&dir, &["check", "z.pal", "--policy-path", "/dev"]),
        1,
        &["/dev/zero", "not a regular file"],
    );
    write(&dir.join("h.pal"), "calendar { holidays \"hol.json\" }\n");
    let made = Command::new("mkfifo").arg(dir.join("hol.json")).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    assert_names(
        &pal(&dir, &["check", "h.pal"]),
        1,
        &["hol.json", "not a regular file"],
    );
}

#[test]
fn long_import_chains_are_bounded() {
    let dir = scratch("chain");
    for i in 0..3000 {
        write(
            &dir.join(format!("f{i}.pal")),
            format!("import \"f{}.pal\"\n", i + 1),
        );
    }
    write(&dir.join("f3000.pal"), SCHEMA);
    assert_names(
        &pal(&dir, &["check", "f0.pal"]),
        1,
        &["E0004", "128 files deep"],
    );
}

#[test]
fn directory_walks_survive_cycles_and_empty_pal_folders() {
    let dir = scratch("walk");
    let tree = dir.join("tree");
    let sub = tree.join("sub");
    if let Err(e) = std::fs::create_dir_all(&sub) {
        panic!("{e}");
    }
    write(&tree.join("a.pal"), SCHEMA);
    write(&sub.join("b.pal"), SCHEMA);
    if let Err(e) = std::os::unix::fs::symlink("..", sub.join("up")) {
        panic!("{e}");
    }
    if let Err(e) = std::os::unix::fs::symlink(".", tree.join("here")) {
        panic!("{e}");
    }
    let o = pal(&dir, &["check", "tree"]);
    assert_names(&o, 0, &["checked 2 policies"]);
    // An empty folder named like a policy file is not "0 policies, no problems".
    if let Err(e) = std::fs::create_dir_all(dir.join("x.pal")) {
        panic!("{e}");
    }
    assert_names(
        &pal(&dir, &["check", "x.pal"]),
        3,
        &["x.pal", "no `.pal` files"],
    );
}

#[test]
fn an_unreadable_subfolder_is_named_and_the_rest_is_checked() {
    let dir = scratch("unreadable");
    let tree = dir.join("tree");
    let locked = tree.join("a_locked");
    if let Err(e) = std::fs::create_dir_all(&locked) {
        panic!("{e}");
    }
    write(&locked.join("hidden.pal"), SCHEMA);
    write(&tree.join("z.pal"), SCHEMA);
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000));
    if std::fs::read_dir(&locked).is_ok() {
        // Running as root: permissions do not stop reading, so there is nothing to test.
        let _ = std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755));
        eprintln!("skipped: the folder is readable anyway (root?)");
        return;
    }
    let o = pal(&dir, &["check", "tree"]);
    let _ = std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755));
    assert_names(&o, 3, &["a_locked"]);
    assert!(!o.stderr.contains("`.`"), "{}", o.stderr);
}

// ---------------------------------------------------------------- item 4: evaluation cost

#[test]
fn nested_queries_are_rejected_at_check_time() {
    let dir = scratch("nested");
    // Five levels: rejected (E0206, or E0209 for the correlated levels).
    let text = format!(
        "{SCHEMA}def n = count(seen where count(gone where count(seen where count(gone where count(seen) > 0) > 0) > 0) > 0)\n"
    );
    write(&dir.join("q.pal"), text);
    assert_names(&pal(&dir, &["check", "q.pal"]), 1, &["nest"]);
    // Three levels of queries reading the enclosing query's event: each is once per candidate.
    let text = format!(
        "{SCHEMA}def n = count(seen where exists(gone where gone.date > seen.date and exists(seen where seen.date > gone.date and exists(gone where gone.date > seen.date))))\n"
    );
    write(&dir.join("c.pal"), text);
    assert_names(
        &pal(&dir, &["check", "c.pal"]),
        1,
        &["E0209", "enclosing query"],
    );
}

#[test]
fn three_nested_queries_on_a_long_test_pathway_are_quick() {
    let dir = scratch("nested3");
    let mut text = format!(
        "{SCHEMA}def n = count(seen where count(gone where count(seen where seen.kind == 1) > 0) > 0)\n\
         rule r on seen when n > 1 cite \"x\" {{ warn \"many\" }}\n\
         test \"long\" {{\n"
    );
    for i in 0..400 {
        let ev = if i % 2 == 0 {
            "seen { kind: 1 }"
        } else {
            "gone"
        };
        text.push_str(&format!("  2025-01-{:02} {ev}\n", 1 + i % 28));
    }
    text.push_str("  expect n > 0\n}\n");
    write(&dir.join("q.pal"), text);
    let o = pal(&dir, &["test", "q.pal"]);
    assert_names(&o, 0, &["1 passed"]);
}

#[test]
fn definition_chains_are_memoised_in_tests() {
    let dir = scratch("doubling");
    let mut text = format!("{SCHEMA}def d0 = 1\n");
    for i in 1..=40 {
        text.push_str(&format!("def d{i} = max(d{0}, d{0})\n", i - 1));
    }
    text.push_str("rule r on seen when d40 > 0 cite \"x\" { warn \"w\" }\n");
    // A query whose `where` names the chain is planned once, not by walking 2^40 nodes.
    text.push_str(
        "rule q on gone when count(seen where seen.kind == d40) > 0 cite \"x\" { warn \"q\" }\n",
    );
    text.push_str(
        "test \"t\" {\n  2025-01-01 seen { kind: 1 }\n  2025-01-02 gone\n  expect d40 == 1\n  expect warning\n}\n",
    );
    write(&dir.join("c.pal"), text);
    assert_names(&pal(&dir, &["check", "c.pal"]), 0, &["checked 1 policy"]);
    assert_names(&pal(&dir, &["test", "c.pal"]), 0, &["1 passed"]);
}

#[test]
fn huge_working_day_offsets_do_not_walk_day_by_day() {
    let dir = scratch("workdays");
    let mut text = String::from(SCHEMA);
    for i in 0..20 {
        text.push_str(&format!(
            "def far{i} = now + {} working days\n",
            100_000_000 - i
        ));
    }
    text.push_str("rule r on seen when far0 > now cite \"x\" { warn \"w\" }\ntest \"t\" {\n  2025-01-01 seen\n");
    for i in 0..20 {
        text.push_str(&format!("  expect far{i} is set\n"));
    }
    text.push_str("}\n");
    write(&dir.join("w.pal"), text);
    let o = pal(&dir, &["test", "w.pal"]);
    assert!(o.code == 0 || o.code == 1, "exit {}: {}", o.code, o.stderr);
}

// ---------------------------------------------------------------- item 5: long pathways

#[test]
fn a_pathway_of_100k_events_runs_in_linear_time() {
    let dir = scratch("long");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut csv = String::from(
        "pathway_id,date,event,priority,appointment,appointment_date,offered_date,communicated\n",
    );
    csv.push_str("P1,2025-01-06,referral_received,routine,,,,\n");
    let cycle = [
        "appointment_booked,,first,{d},,true",
        "offer_made,,first,,{d},",
        "dna,,first,,,true",
        "patient_cancelled,,first,{d},,",
        "hospital_cancelled,,first,{d},,",
        "offer_declined,,first,,{d},",
        "attended,,first,,,",
    ];
    let start = chrono_like_day(2025, 1, 6);
    for i in 1..100_000usize {
        let day = start + (i / 40) as i64;
        let d = day_text(day + 7);
        let row = cycle[i % cycle.len()].replace("{d}", &d);
        csv.push_str(&format!("P1,{},{row}\n", day_text(day)));
    }
    write(&dir.join("long.csv"), csv);
    let policy = root.join("rde.pal");
    let policy = policy.to_string_lossy();
    let t = Instant::now();
    let o = pal(
        &dir,
        &[
            "run",
            &policy,
            "--events",
            "long.csv",
            "--as-at",
            "2035-01-01",
            "-o",
            "out.jsonl",
        ],
    );
    assert_names(&o, 0, &["100000 rows read, 100000 evaluated, 0 rejected"]);
    eprintln!("100,000 events: {:?}", t.elapsed());
}

/// Days since 0000-03-01 (a proleptic Gregorian day number), enough to write dates.
fn chrono_like_day(y: i64, m: i64, d: i64) -> i64 {
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + d - 1
}

fn day_text(n: i64) -> String {
    let y = (10000 * n + 14780) / 3652425;
    let mut doy = n - (365 * y + y / 4 - y / 100 + y / 400);
    let mut y = y;
    if doy < 0 {
        y -= 1;
        doy = n - (365 * y + y / 4 - y / 100 + y / 400);
    }
    let mi = (100 * doy + 52) / 3060;
    let mm = (mi + 2) % 12 + 1;
    let y = y + (mi + 2) / 12;
    let dd = doy - (mi * 306 + 5) / 10 + 1;
    format!("{y:04}-{mm:02}-{dd:02}")
}

// ---------------------------------------------------------------- item 9: the REPL

#[test]
fn the_repl_survives_a_closed_stdout() {
    let dir = scratch("repl-stdout");
    write(&dir.join("p.pal"), SCHEMA);
    let input = ":state\n".repeat(2000);
    let o = pal_with(&dir, &["repl", "p.pal"], input.as_bytes(), true);
    assert_ne!(o.code, 101, "panicked: {}", o.stderr);
    assert_names(&o, 1, &["cannot write to standard output"]);
}

#[test]
fn the_piped_repl_reports_non_utf8_lines() {
    let dir = scratch("repl-utf8");
    write(&dir.join("p.pal"), SCHEMA);
    let o = pal_with(
        &dir,
        &["repl", "p.pal"],
        b"2025-01-01 seen\n\xff\xfe oops\n:state\n",
        false,
    );
    assert_names(&o, 3, &["line 2", "not UTF-8"]);
    // The line after it was still handled.
    assert!(
        o.stdout.contains("1 events") || o.stdout.contains("1 event"),
        "{}",
        o.stdout
    );
}

// ---------------------------------------------------------------- item 10: file access

#[test]
fn policies_cannot_read_files_outside_their_folder() {
    let dir = scratch("access");
    let outside = dir.join("secret.txt");
    write(&outside, "root:$6$hash-of-a-password:19000:0:99999:7:::\n");
    let pol = dir.join("pol");
    if let Err(e) = std::fs::create_dir_all(&pol) {
        panic!("{e}");
    }
    write(
        &pol.join("abs.pal"),
        format!("import \"{}\"\n", outside.display()),
    );
    write(&pol.join("up.pal"), "import \"../secret.txt\"\n");
    write(&pol.join("ext.pal"), "policy p extends \"../secret.txt\"\n");
    write(
        &pol.join("hol.pal"),
        "calendar { holidays \"../secret.txt\" }\n",
    );
    if let Err(e) = std::os::unix::fs::symlink(&outside, pol.join("link.pal")) {
        panic!("{e}");
    }
    write(&pol.join("via_link.pal"), "import \"link.pal\"\n");
    for f in ["abs.pal", "up.pal", "ext.pal", "hol.pal", "via_link.pal"] {
        let o = pal(&dir, &["check", &format!("pol/{f}")]);
        assert_names(&o, 1, &["--policy-path"]);
        assert!(
            !o.stdout.contains("hash-of"),
            "{f} disclosed:\n{}",
            o.stdout
        );
        assert!(
            !o.stderr.contains("hash-of"),
            "{f} disclosed:\n{}",
            o.stderr
        );
        if f != "hol.pal" {
            assert!(o.stdout.contains("E0005"), "{f}: {}", o.stdout);
        }
    }
    // Inside the folder, a file that is not policy text is reported without its content.
    write(&pol.join("notes.txt"), "password = hunter2-hash-of\n");
    write(&pol.join("notes.pal"), "import \"notes.txt\"\n");
    let o = pal(&dir, &["check", "pol/notes.pal"]);
    assert_names(&o, 1, &["not valid policy text"]);
    assert!(!o.stdout.contains("hunter2"), "{}", o.stdout);
    // --policy-path allows a folder; then the file is read (and still not shown).
    write(&dir.join("lib.pal"), SCHEMA);
    write(&pol.join("uses_lib.pal"), "import \"../lib.pal\"\n");
    assert_names(&pal(&dir, &["check", "pol/uses_lib.pal"]), 1, &["E0005"]);
    assert_names(
        &pal(&dir, &["check", "pol/uses_lib.pal", "--policy-path", "."]),
        0,
        &["checked 1 policy"],
    );
}

// ---------------------------------------------------------------- item 11: scale

#[test]
fn a_hundred_and_fifty_thousand_definitions_check_in_linear_time() {
    let dir = scratch("defs");
    let mut text = String::with_capacity(150_000 * 20);
    for i in 0..150_000 {
        text.push_str(&format!("def d{i} = {i}\n"));
    }
    write(&dir.join("many.pal"), text);
    let t = Instant::now();
    let o = pal(&dir, &["check", "many.pal"]);
    assert!(o.code == 0 || o.code == 1, "exit {}: {}", o.code, o.stderr);
    eprintln!("100,000 events: {:?}", t.elapsed());
}
