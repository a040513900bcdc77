//! `pal fmt` as a user runs it: in place, `--check`, standard input, and files it must not
//! touch. The layout itself is tested in the engine (`syntax::format`), with the ugly fixture
//! `tests/fmt/ugly.pal` and its formatted form `tests/fmt/ugly.formatted.pal`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn pal(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pal"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("cannot run pal: {e}"),
    };
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.unwrap_or("").as_bytes());
    }
    match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("pal did not finish: {e}"),
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// A scratch folder of its own for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pal-fmt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
}

#[test]
fn fmt_rewrites_in_place_and_then_has_nothing_to_do() {
    let dir = scratch("in-place");
    let file = dir.join("ugly.pal");
    let _ = std::fs::copy("tests/fmt/ugly.pal", &file);
    let path = file.display().to_string();

    let o = pal(&["fmt", "--check", &path], None);
    assert_eq!(code(&o), 1, "{}{}", out(&o), err(&o));
    assert_eq!(out(&o).trim(), path);
    assert_eq!(
        read(&file),
        read(Path::new("tests/fmt/ugly.pal")),
        "--check wrote"
    );

    let o = pal(&["fmt", &path], None);
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    assert_eq!(read(&file), read(Path::new("tests/fmt/ugly.formatted.pal")));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");

    let o = pal(&["fmt", "--check", dir.to_str().unwrap_or_default()], None);
    assert_eq!(code(&o), 0, "{}{}", out(&o), err(&o));
    assert_eq!(out(&o), "");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fmt_dash_formats_standard_input_to_standard_output() {
    let ugly = read(Path::new("tests/fmt/ugly.pal"));
    let o = pal(&["fmt", "-"], Some(&ugly));
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert_eq!(out(&o), read(Path::new("tests/fmt/ugly.formatted.pal")));

    let o = pal(&["fmt", "--check", "-"], Some(&ugly));
    assert_eq!((code(&o), out(&o).trim()), (1, "<stdin>"));

    let o = pal(&["fmt", "-", "policies/"], None);
    assert_eq!(code(&o), 2, "{}", err(&o));
}

#[test]
fn fmt_never_rewrites_a_file_it_cannot_parse_or_read() {
    let dir = scratch("broken");
    let broken = dir.join("broken.pal");
    let text = "rule r on dna {\n  stop rtt\n}\n";
    let _ = std::fs::write(&broken, text);
    let o = pal(&["fmt", broken.to_str().unwrap_or_default()], None);
    assert_eq!(code(&o), 1, "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("error[E0001]"), "{}", err(&o));
    assert_eq!(read(&broken), text);

    let missing = dir.join("missing.pal");
    let o = pal(&["fmt", missing.to_str().unwrap_or_default()], None);
    assert_eq!(code(&o), 3, "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("error[E0003]"), "{}", err(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
