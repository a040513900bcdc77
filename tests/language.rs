//! The language's own scenario tests (`tests/language/*.pal`): each feature of the language
//! in use, run by `pal test`'s machinery; the directory also checks clean with warnings denied.

use std::path::PathBuf;

#[test]
fn every_language_scenario_passes() {
    let run =
        pal_engine::services::test_run::run_tests(&[PathBuf::from("tests/language")], &[], None);
    let errors: Vec<String> = run
        .checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(errors.is_empty(), "errors: {errors:#?}");
    assert!(run.ran.len() >= 20, "only {} tests ran", run.ran.len());
    let failed: Vec<String> = run
        .ran
        .iter()
        .filter(|r| !r.failures.is_empty())
        .map(pal_engine::services::test_run::Ran::failure_summary)
        .collect();
    assert!(failed.is_empty(), "failed:\n{}", failed.join("\n"));
}

#[test]
fn the_language_scenarios_check_clean() {
    let run = pal_engine::services::project::check_paths(&[PathBuf::from("tests/language")]);
    let found: Vec<String> = run
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}
