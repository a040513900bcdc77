//! Hostile data through the CLI (issue 19): inputs that swallowed rows, ate memory, hung,
//! gave the wrong line, destroyed files or panicked. Each is generated here (big ones in a
//! temporary folder, never committed) and run through the `pal` binary under a memory limit
//! (`ulimit -v`) and a hang guard, asserting the exit code, that the message names the problem,
//! and that the row account adds up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space each run may use (KiB): a normal run of the examples needs under 300 MiB.
const MEMORY_KB: u64 = 1 << 20;
/// A run still going after this is a hang.
const HANG_GUARD: Duration = Duration::from_secs(60);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The closing account `N rows read, N evaluated, N rejected, N after the as-at date`,
    /// checked to add up (and to match the rejections printed).
    fn account(&self) -> (u64, u64, u64, u64) {
        let line = self
            .stderr
            .lines()
            .find(|l| l.contains(" rows read, "))
            .unwrap_or_else(|| panic!("no row account in:\n{}", self.stderr));
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .filter_map(|w| w.parse().ok())
            .collect();
        // as at YYYY-MM-DD: read, evaluated, rejected, after; pathways
        let [_, _, _, read, evaluated, rejected, after, ..] = numbers[..] else {
            panic!("unexpected account: {line}");
        };
        assert_eq!(read, evaluated + rejected + after, "{line}");
        assert_eq!(
            self.stderr.matches(": rejected: ").count() as u64,
            rejected,
            "{}",
            self.stderr
        );
        (read, evaluated, rejected, after)
    }
}

/// A scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pal-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Runs `pal ARGS` under the memory limit and hang guard; `shell` is appended to the `exec`
/// line (redirections such as `2>&-` or `< /dev/zero`).
fn pal_in(dir: &Path, args: &[&str], shell: &str) -> Run {
    let out = dir.join("stdout.txt");
    let err = dir.join("stderr.txt");
    let (Ok(o), Ok(e)) = (std::fs::File::create(&out), std::fs::File::create(&err)) else {
        panic!("cannot create output files in {}", dir.display());
    };
    let script = format!("ulimit -v {MEMORY_KB}; exec \"$0\" \"$@\" {shell}");
    let mut child = match Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_pal"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(o)
        .stderr(e)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot run pal: {e}"),
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > HANG_GUARD => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("pal {args:?} {shell} still running after {HANG_GUARD:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("{e}"),
        }
    };
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
    };
    assert_ne!(run.code, 101, "pal panicked:\n{}", run.stderr);
    assert!(
        !run.stderr.contains("panicked"),
        "pal panicked:\n{}",
        run.stderr
    );
    run
}

fn write(path: &Path, text: impl AsRef<[u8]>) {
    if let Err(e) = std::fs::write(path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn run_args<'a>(events: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "policies/rde.pal",
        "--events",
        events,
        "--as-at",
        "2025-03-31",
    ];
    args.extend_from_slice(extra);
    args
}

const HEADER: &str = "pathway_id,date,event,priority,appointment,notes\n";

#[test]
fn an_unclosed_quote_rejects_its_row_and_names_the_lines() {
    // Item 2: "2 rows read, 2 evaluated, 0 rejected", exit 0 even with --strict.
    let dir = scratch("quote");
    let mut text = format!("{HEADER}P1,2025-01-06,referral_received,routine,,\"unclosed note\n");
    for i in 0..1005 {
        text.push_str(&format!("P{i},2025-01-07,referral_received,routine,,\n"));
    }
    let events = dir.join("quote.csv");
    write(&events, &text);
    let e = s(&events);
    let r = pal_in(&dir, &run_args(&e, &["--summary"]), "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("quote.csv:2: rejected: a quoted cell opened on line 2 is never closed: lines 2 to 1007"),
        "{}",
        r.stderr
    );
    assert_eq!(r.account(), (1, 0, 1, 0));
    let r = pal_in(&dir, &run_args(&e, &["--summary", "--strict"]), "");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("never closed"), "{}", r.stderr);
    // A quote closed a thousand lines later: the row has the wrong shape, and is too long.
    write(
        &events,
        format!(
            "{}\",x\nP9,2025-01-08,referral_received,routine,,\n",
            text.trim_end()
        ),
    );
    let r = pal_in(&dir, &run_args(&e, &["--summary"]), "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("is a closing `\"` missing?"),
        "{}",
        r.stderr
    );
    assert_eq!(r.account(), (2, 1, 1, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn endless_inputs_end_with_an_error_not_out_of_memory() {
    // Item 3: `--events /dev/zero` aborted on a 2.4 GB allocation.
    let dir = scratch("zero");
    let r = pal_in(&dir, &run_args("/dev/zero", &["--input-format", "csv"]), "");
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("is a device"), "{}", r.stderr);
    for format in ["csv", "jsonl"] {
        for streaming in [&[][..], &["--streaming"][..]] {
            let mut extra = vec!["--input-format", format];
            extra.extend_from_slice(streaming);
            let r = pal_in(&dir, &run_args("-", &extra), "< /dev/zero");
            assert_eq!(r.code, 3, "{}", r.stderr);
            assert!(
                r.stderr
                    .contains("`<stdin>` line 1: a row longer than 16 MiB"),
                "{}",
                r.stderr
            );
        }
    }
    // A folder is not an events file either.
    let r = pal_in(&dir, &run_args(&s(&dir), &["--input-format", "csv"]), "");
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("folder"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fifo_and_stdin_are_streamed() {
    let dir = scratch("fifo");
    let text = format!("{HEADER}P1,2025-01-06,referral_received,routine,,\n");
    let file = dir.join("small.csv");
    write(&file, &text);
    let fifo = dir.join("pipe.csv");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let writer = std::thread::spawn({
            let fifo = fifo.clone();
            let text = text.clone();
            move || {
                if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&fifo) {
                    let _ = f.write_all(text.as_bytes());
                }
            }
        });
        let r = pal_in(&dir, &run_args(&s(&fifo), &["--summary"]), "");
        let _ = writer.join();
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("(1 pathway)"), "{}", r.stdout);
        assert_eq!(r.account(), (1, 1, 0, 0));
    }
    let r = pal_in(
        &dir,
        &run_args("-", &["--summary"]),
        &format!("< {}", s(&file)),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.account(), (1, 1, 0, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wide_headers_and_huge_cells_are_quick_and_not_echoed() {
    // Item 5: a million columns took minutes; a 100 MB event cell took 187 s and was echoed.
    let dir = scratch("wide");
    let mut header = String::from("pathway_id,date,event");
    for i in 0..1_000_000 {
        header.push_str(&format!(",c{i}"));
    }
    let events = dir.join("wide.csv");
    write(
        &events,
        format!("{header},c17\nP1,2025-01-06,referral_received\n"),
    );
    let started = Instant::now();
    let r = pal_in(&dir, &run_args(&s(&events), &["--summary"]), "");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("names column `c17` twice"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.len() < 2000, "{} bytes of stderr", r.stderr.len());
    // 10 MB cells (under the row limit): rejected quickly, quoted in 60 characters.
    let cell = "x".repeat(10 << 20);
    write(
        &events,
        format!("{HEADER}P1,2025-01-06,{cell},,,\nP1,2025-01-06,referral_received,{cell},,\n"),
    );
    let r = pal_in(&dir, &run_args(&s(&events), &["--summary"]), "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("unknown event type `xxxx"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("(10485760 bytes)"), "{}", r.stderr);
    assert!(r.stderr.len() < 2000, "{} bytes of stderr", r.stderr.len());
    assert_eq!(r.account(), (2, 0, 2, 0));
    // 100 MB: past the row limit, an error naming the line.
    let mut big = std::fs::File::create(&events).unwrap_or_else(|e| panic!("{e}"));
    let _ = big.write_all(
        format!("{HEADER}P1,2025-01-06,referral_received,,,\nP1,2025-01-06,").as_bytes(),
    );
    let chunk = vec![b'y'; 1 << 20];
    for _ in 0..100 {
        let _ = big.write_all(&chunk);
    }
    let _ = big.write_all(b",,,\n");
    drop(big);
    let started = Instant::now();
    let r = pal_in(&dir, &run_args(&s(&events), &["--summary"]), "");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 3: a row longer than 16 MiB"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.len() < 2000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn messages_are_the_same_every_run() {
    // Item 7: the undeclared key named depended on hash-map order.
    let dir = scratch("keys");
    let events = dir.join("keys.jsonl");
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!(
            "{{\"pathway_id\":\"P{i}\",\"date\":\"2025-01-06\",\"event\":\"referral_received\",\"priority\":\"routine\",\"k{i}\":1,\"zeta\":2,\"alpha\":3,\"mid\":4}}\n"
        ));
    }
    write(&events, text);
    let e = s(&events);
    let first = pal_in(&dir, &run_args(&e, &["--summary"]), "");
    assert_eq!(first.code, 0);
    assert_eq!(first.account(), (50, 0, 50, 0));
    assert!(
        first
            .stderr
            .contains("keys.jsonl:1: rejected: columns `k0`, `zeta`, `alpha`, `mid` are not fields of `referral_received`"),
        "{}",
        first.stderr
    );
    let strict = pal_in(&dir, &run_args(&e, &["--summary", "--strict"]), "");
    for _ in 0..4 {
        assert_eq!(
            pal_in(&dir, &run_args(&e, &["--summary"]), "").stderr,
            first.stderr
        );
        let again = pal_in(&dir, &run_args(&e, &["--summary", "--strict"]), "");
        assert_eq!((again.code, &again.stderr), (1, &strict.stderr));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bare_cr_files_and_wide_headers_after_blank_lines_keep_their_lines() {
    // Item 8: every rejection of a bare-CR file was on line 1; a header over 1 MiB after a
    // blank line was not found.
    let dir = scratch("lines");
    let events = dir.join("cr.csv");
    write(
        &events,
        "pathway_id,date,event\rP1,2025-01-06,referral_received\rP1,2025-02-30,attended\r\rP1,2025-01-07,dnaa\r",
    );
    let r = pal_in(&dir, &run_args(&s(&events), &["--summary"]), "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("cr.csv:3: rejected: `date`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("cr.csv:5: rejected: unknown event"),
        "{}",
        r.stderr
    );
    assert_eq!(r.account(), (3, 1, 2, 0));
    let mut header = String::from("\npathway_id,date,event");
    for i in 0..150_000 {
        header.push_str(&format!(",extra_{i}"));
    }
    write(
        &events,
        format!("{header}\nP1,2025-01-06,referral_received\n"),
    );
    let r = pal_in(&dir, &run_args(&s(&events), &["--summary"]), "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.account(), (1, 1, 0, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn outputs_never_destroy_inputs_or_each_other() {
    // Item 6: --ptl naming the input replaced it; -o naming it truncated it before it was
    // read; -o X --ptl X lost the results.
    let dir = scratch("outputs");
    let events = dir.join("events.csv");
    let text = format!("{HEADER}P1,2025-01-06,referral_received,routine,,\n");
    write(&events, &text);
    let e = s(&events);
    let out = s(&dir.join("out.jsonl"));
    let link = dir.join("link.csv");
    let _ = std::fs::hard_link(&events, &link);
    let dotted = format!("{}/./events.csv", s(&dir));
    let link_s = s(&link);
    for (extra, names) in [
        (vec!["--ptl", e.as_str()], "--ptl"),
        (vec!["-o", e.as_str()], "-o"),
        (vec!["-o", dotted.as_str()], "-o"),
        (vec!["-o", link_s.as_str()], "-o"),
        (vec!["--ptl", "policies/rde.pal"], "--ptl"),
        (vec!["--ptl", "policies/national/schema.pal"], "--ptl"),
        (
            vec!["-o", out.as_str(), "--ptl", out.as_str()],
            "--ptl and -o",
        ),
    ] {
        let r = pal_in(&dir, &run_args(&e, &extra), "");
        assert_eq!(r.code, 2, "{extra:?}: {}", r.stderr);
        assert!(r.stderr.contains(names), "{}", r.stderr);
        assert!(
            !r.stderr.contains("rows read"),
            "read before refusing: {}",
            r.stderr
        );
        assert_eq!(
            std::fs::read_to_string(&events).ok().as_deref(),
            Some(text.as_str())
        );
    }
    assert!(!Path::new(&out).exists());
    // `pal check --sarif` never writes over a policy it checked.
    let policy = dir.join("p.pal");
    write(&policy, "policy p\n");
    let r = pal_in(&dir, &["check", &s(&policy), "--sarif", &s(&policy)], "");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&policy).ok().as_deref(),
        Some("policy p\n")
    );
    // A failed run leaves the previous output as it was, and no temporary file.
    write(Path::new(&out), "previous\n");
    let bad = dir.join("bad.csv");
    write(
        &bad,
        format!("{HEADER}P1,2025-01-06,referral_received,routine,,\nP1,2025-02-30,attended,,,\n"),
    );
    let ptl = s(&dir.join("ptl.csv"));
    let r = pal_in(
        &dir,
        &run_args(&s(&bad), &["-o", &out, "--ptl", &ptl, "--strict"]),
        "",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&out).ok().as_deref(),
        Some("previous\n")
    );
    assert!(!Path::new(&ptl).exists());
    let names: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
    // Killed mid-write (a file-size limit: the disk is "full"): the target keeps its old text.
    let killed = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -f 8; exec \"$0\" run policies/rde.pal --events examples/events.csv --as-at 2025-03-31 -o {out} --ptl {ptl}"
        ))
        .arg(env!("CARGO_BIN_EXE_pal"))
        .stderr(Stdio::null())
        .status();
    assert!(killed.is_ok_and(|s| !s.success()));
    let now = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        now == "previous\n" || now.lines().count() == 300,
        "a torn results file: {} lines",
        now.lines().count()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn closed_streams_and_absurd_thread_counts_do_not_panic() {
    // Item 9: a closed stderr panicked (exit 101); --threads 18446744073709551615 aborted.
    let dir = scratch("edges");
    let r = pal_in(
        &dir,
        &run_args("examples/events.csv", &["--summary"]),
        "2>&-",
    );
    assert_eq!(r.code, 0);
    // Rust's runtime puts /dev/null on a closed stdout: the results go nowhere, as with
    // `> /dev/null`, and nothing panics.
    let r = pal_in(&dir, &run_args("examples/events.csv", &[]), ">&-");
    assert_eq!(r.code, 0, "{}", r.stderr);
    // With stdout closed, the results file must not receive what was meant for stdout.
    let out = s(&dir.join("out.jsonl"));
    let r = pal_in(
        &dir,
        &run_args("examples/events.csv", &["-o", &out, "--summary"]),
        ">&-",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let results = std::fs::read_to_string(&out).unwrap_or_default();
    assert_eq!(results.lines().count(), 300);
    assert!(results.lines().all(|l| l.starts_with("{\"pathway_id\"")));
    let r = pal_in(
        &dir,
        &run_args("examples/events.csv", &["--summary"]),
        ">&- 2>&-",
    );
    assert_ne!(r.code, 101);
    for threads in ["18446744073709551615", "100000", "0", "x"] {
        let r = pal_in(
            &dir,
            &run_args("examples/events.csv", &["--summary", "--threads", threads]),
            "",
        );
        assert_eq!(r.code, 2, "--threads {threads}: {}", r.stderr);
        assert!(r.stderr.contains("threads from 1 to 1024"), "{}", r.stderr);
    }
    let r = pal_in(
        &dir,
        &run_args("examples/events.csv", &["--summary", "--threads", "8"]),
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 1024 threads of 2 MiB stacks do not fit in the 1 GiB limit: a clear error, no panic.
    let r = pal_in(
        &dir,
        &run_args("examples/events.csv", &["--summary", "--threads", "1024"]),
        "",
    );
    assert!(
        r.code == 0 || (r.code == 2 && r.stderr.contains("cannot start 1024 worker threads")),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn smaller_losses_are_gone() {
    // Item 11: duplicate JSON keys (the last won), ids trimmed into one pathway, years past
    // 9999 written with five digits, spreadsheet formulas in PTL cells.
    let dir = scratch("small");
    let events = dir.join("dup.jsonl");
    write(
        &events,
        "{\"pathway_id\":\"P1\",\"date\":\"2025-01-06\",\"event\":\"referral_received\",\"priority\":\"routine\",\"priority\":\"urgent\"}\n\
         {\"pathway_id\":\" P2\",\"date\":\"2025-01-06\",\"event\":\"referral_received\"}\n\
         {\"pathway_id\":\"P2\",\"date\":\"2025-01-06\",\"event\":\"referral_received\"}\n",
    );
    let r = pal_in(&dir, &run_args(&s(&events), &["--summary"]), "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("dup.jsonl:1: rejected: key `priority` appears more than once"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("dup.jsonl:2: rejected: `pathway_id` ` P2` has spaces"),
        "{}",
        r.stderr
    );
    assert_eq!(r.account(), (3, 1, 2, 0));
    let events = dir.join("far.csv");
    write(
        &events,
        "pathway_id,date,event,priority\n=HYPERLINK(\"x\"),2025-01-06,referral_received,routine\n@SUM(A1),9999-12-01,referral_received,routine\n",
    );
    let ptl = dir.join("ptl.csv");
    let out = dir.join("out.csv");
    let r = pal_in(
        &dir,
        &[
            "run",
            "policies/rde.pal",
            "--events",
            &s(&events),
            "--as-at",
            "9999-12-31",
            "--ptl",
            &s(&ptl),
            "-o",
            &s(&out),
            "--format",
            "csv",
            "--summary",
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ptl = std::fs::read_to_string(&ptl).unwrap_or_default();
    let out = std::fs::read_to_string(&out).unwrap_or_default();
    for text in [&ptl, &out] {
        assert!(!text.contains("+10000"), "{text}");
        assert!(text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{text}");
        assert!(text.contains("'@SUM(A1)"), "{text}");
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with('=') || l.starts_with('@')),
            "{text}"
        );
    }
    assert!(ptl.contains(",9999-12-31,"), "{ptl}");
    let _ = std::fs::remove_dir_all(&dir);
}
