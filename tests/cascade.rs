//! One root cause, one error: a policy file that does not parse, or an `extends` that names no
//! file, is reported once — not again as every name the broken file would have declared, in
//! every file that builds on it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn pal(args: &[&str]) -> (i32, String) {
    let o = match Command::new(env!("CARGO_BIN_EXE_pal"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run pal: {e}"),
    };
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::create_dir_all(to);
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let p = entry.path();
        let target = to.join(entry.file_name());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else if let Err(e) = std::fs::copy(&p, &target) {
            panic!("copy {}: {e}", p.display());
        }
    }
}

/// A copy of `policies/` with `edit` applied to `rde.pal`.
fn broken_policies(name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pal-cascade-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(Path::new("policies"), &dir);
    let rde = dir.join("rde.pal");
    let text = std::fs::read_to_string(&rde).unwrap_or_default();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changed nothing");
    if let Err(e) = std::fs::write(&rde, edited) {
        panic!("write {}: {e}", rde.display());
    }
    dir
}

fn errors(short: &str) -> Vec<&str> {
    short.lines().filter(|l| l.contains(": error[")).collect()
}

#[test]
fn an_unterminated_string_in_the_trust_policy_is_one_error() {
    let dir = broken_policies("string", |t| {
        t.replacen("cite \"10.2.5\"\n", "cite \"10.2.5\n", 1)
    });
    let (code, out) = pal(&["check", &dir.display().to_string(), "--format", "short"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(errors(&out).len(), 1, "{out}");
    assert!(out.contains("unterminated string"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_misspelt_extends_is_one_error_with_a_suggestion_and_exit_1() {
    let dir = broken_policies("extends", |t| {
        t.replacen("extends national", "extends nationl", 1)
    });
    let (code, out) = pal(&["check", &dir.display().to_string()]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("error[").count(), 1, "{out}");
    assert!(out.contains("did you mean `national`?"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_cascade_fixtures() {
    let (code, out) = pal(&["check", "tests/cascade/", "--format", "short"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
    let (code, out) = pal(&["check", "tests/cascade/no-such-file.pal"]);
    assert_eq!(
        code, 3,
        "a path on the command line that is not there is unreadable input: {out}"
    );
}
