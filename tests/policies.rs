//! `pal test policies/` is part of `cargo test`: every scenario in the shipped policies passes.

#[test]
fn every_policy_test_passes() {
    let pal_engine::services::test_run::TestRun { ran, checked, .. } =
        pal_engine::services::test_run::run_tests(
            &[std::path::PathBuf::from("policies")],
            &[],
            None,
        );
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "policy errors: {errors:?}");
    assert!(!ran.is_empty(), "no tests found in policies/");
    let failed: Vec<String> = ran
        .iter()
        .filter(|r| !r.failures.is_empty())
        .map(pal_engine::services::test_run::Ran::failure_summary)
        .collect();
    assert!(failed.is_empty(), "failed:\n{}", failed.join("\n"));
}

#[test]
fn the_policies_check_clean_with_warnings_denied() {
    let run = pal_engine::services::project::check_paths(&[std::path::PathBuf::from("policies")]);
    let found: Vec<String> = run
        .diagnostics
        .iter()
        .map(|d| {
            let (f, l, c) = d
                .primary_span()
                .map(|s| run.sources.location(s))
                .unwrap_or(("", 0, 0));
            format!("{f}:{l}:{c}: {} {}", d.code, d.message)
        })
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}
