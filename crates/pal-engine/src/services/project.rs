//! Loading and checking policies from paths: the shared front door of `pal check`, `pal run`,
//! `pal test` and the REPL. Directories are searched for `*.pal`; a file that another file in
//! the set imports or extends is checked as part of that file, not on its own.

use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::SourceMap;
use crate::front::check::lints::suppress::Suppressions;
use crate::front::check::{check, Checked};
use crate::front::loader::{dependencies, load_with, read_source, LoadedPolicy, PolicyAccess};
use crate::model::ir::Policy;
use crate::model::ir::{RuleDef, RuleKind};
use crate::runtime::testing::{run_test, Coverage};
use crate::syntax::parse_file;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// One policy loaded and checked from its root file.
#[derive(Debug)]
pub struct LoadedRoot {
    /// The root file.
    pub path: PathBuf,
    /// The compiled policy, if it has no errors.
    pub policy: Option<Policy>,
    /// Its suppression comments (for `untested-rule`, decided after its tests run).
    pub suppressions: Suppressions,
}

/// Everything `pal check` found in a set of paths.
#[derive(Debug, Default)]
pub struct CheckRun {
    /// Every source file read.
    pub sources: SourceMap,
    /// Findings, de-duplicated and in file/line order.
    pub diagnostics: Vec<Diagnostic>,
    /// Each root policy.
    pub roots: Vec<LoadedRoot>,
    /// Paths that could not be read at all (missing files, unreadable directories).
    pub unreadable: Vec<PathBuf>,
}

impl CheckRun {
    /// Number of errors and warnings.
    pub fn counts(&self) -> (usize, usize) {
        let errors = self.diagnostics.iter().filter(|d| d.is_error()).count();
        (errors, self.diagnostics.len() - errors)
    }
}

/// What walking a directory found.
#[derive(Default)]
struct Walk {
    /// `*.pal` files, sorted within each directory.
    files: Vec<PathBuf>,
    /// Directories that could not be read, and why.
    unreadable: Vec<(PathBuf, String)>,
    /// Directories already walked (resolved through symbolic links): a link back to an
    /// ancestor is walked once, not forever.
    seen: HashSet<PathBuf>,
    /// Leave out hidden directories and build output (`target`, `node_modules`): set when
    /// looking for a rule's tests around its file, never for paths the user named.
    skip_tool_dirs: bool,
}

/// The `.pal` files under `dir`, recursively, in path order; each directory is walked once, so a
/// symbolic link back to an ancestor does not loop. An unreadable directory is an error (after
/// the rest has been walked).
pub fn pal_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut walk = Walk::default();
    walk_pal_files(dir, &mut walk);
    out.extend(walk.files);
    match walk.unreadable.into_iter().next() {
        Some((d, why)) => Err(std::io::Error::other(format!(
            "cannot read directory `{}`: {why}",
            d.display()
        ))),
        None => Ok(()),
    }
}

/// Collects `*.pal` files under `dir`, sorted, recursively. A directory that cannot be read is
/// recorded under its own name and the walk goes on with the rest.
fn walk_pal_files(dir: &Path, walk: &mut Walk) {
    if !walk.seen.insert(canonical(dir)) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            walk.unreadable.push((dir.to_path_buf(), e.to_string()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => paths.push(e.path()),
            Err(e) => walk.unreadable.push((dir.to_path_buf(), e.to_string())),
        }
    }
    paths.sort();
    for p in paths {
        if p.is_dir() {
            if walk.skip_tool_dirs && is_tool_dir(&p) {
                continue;
            }
            walk_pal_files(&p, walk);
        } else if p.extension().is_some_and(|x| x == "pal") {
            walk.files.push(p);
        }
    }
}

/// A directory that holds no policy of the project's own: hidden, or a build's output.
fn is_tool_dir(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n == "target" || n == "node_modules")
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Checks every policy named by `paths` (files or directories), then runs their tests to find
/// rules that no test exercises (`W0007`, only when there are tests).
pub fn check_paths(paths: &[PathBuf]) -> CheckRun {
    check_paths_with(paths, &[])
}

/// [`check_paths`], also letting policies read files under the `policy_path` folders.
pub fn check_paths_with(paths: &[PathBuf], policy_path: &[PathBuf]) -> CheckRun {
    let mut run = load_roots_with(paths, policy_path);
    lint_untested(&mut run, paths, policy_path);
    dedupe_and_sort(&mut run.diagnostics, &run.sources);
    run
}

/// [`check_paths_with`], and also each mapping file of `maps` against every policy that
/// compiled (`pal check POLICY --map FILE`).
pub fn check_paths_with_maps(
    paths: &[PathBuf],
    policy_path: &[PathBuf],
    maps: &[PathBuf],
) -> CheckRun {
    let mut run = check_paths_with(paths, policy_path);
    for map in maps {
        for root in &run.roots {
            let Some(policy) = &root.policy else { continue };
            match crate::services::mapping::load_file(map, policy, &mut run.sources) {
                Ok(_) => {}
                Err(crate::services::mapping::MappingError::Findings(d))
                | Err(crate::services::mapping::MappingError::Unreadable(d)) => {
                    run.diagnostics.extend(d)
                }
                Err(crate::services::mapping::MappingError::Usage(_)) => {}
            }
        }
    }
    dedupe_and_sort(&mut run.diagnostics, &run.sources);
    run
}

/// Whether `diags` say that input named on the command line could not be read (exit code 3):
/// a path with no file, a device, a file over its limit, or a file that is not text. A file
/// that a policy names in `extends`, `import` or `holidays` and that cannot be used — missing,
/// a FIFO, outside the policy path — is the author's finding (exit code 1), like any other
/// policy error: its diagnostic points at the line that names it.
pub fn unreadable_input(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| match d.code {
        Code::E0002 => true,
        Code::E0003 => d.labels.is_empty(),
        _ => false,
    })
}

/// Checks a loaded policy, unless loading it failed: an `extends`/`import` that could not be
/// followed is the one root cause, and checking what did load would report every name the
/// missing part declares (one unreadable `national.pal` used to give hundreds of "unknown
/// event type" errors over `policies/`).
///
/// A file with syntax errors is different: its broken items are left out and the rest is
/// checked, so a typo in one rule does not hide a type error in the next. Only errors are kept
/// (lints of a half-parsed policy are noise), none that names what a broken item would have
/// declared, and the policy does not run.
pub fn check_loaded(
    loaded: &LoadedPolicy,
    sources: &SourceMap,
    load_diags: &[Diagnostic],
) -> Checked {
    let nothing = || Checked {
        policy: None,
        diagnostics: Vec::new(),
        suppressions: Suppressions::default(),
    };
    let mut errors = load_diags.iter().filter(|d| d.is_error()).peekable();
    if errors.peek().is_none() {
        return check(loaded, sources);
    }
    let only_recovered_syntax = errors.all(|d| {
        d.code == Code::E0001
            && d.primary_span()
                .is_some_and(|s| loaded.recovered.contains(&s.file))
    });
    if !only_recovered_syntax {
        return nothing();
    }
    let mut checked = check(loaded, sources);
    checked.policy = None;
    checked.suppressions = Suppressions::default();
    checked
        .diagnostics
        .retain(|d| d.is_error() && !names_any(&d.message, &loaded.lost));
    checked
}

/// Whether `message` names (in backticks) any of `names`.
fn names_any(message: &str, names: &[String]) -> bool {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .any(|quoted| names.iter().any(|n| n == quoted))
}

/// Loads and checks the roots among `paths`: every file that no other file in the set imports
/// or extends, and every file that declares `test` blocks (so its tests run against the policy
/// *it* defines, not one that extends it).
pub fn load_roots(paths: &[PathBuf]) -> CheckRun {
    load_roots_with(paths, &[])
}

/// [`load_roots`] with the `--policy-path` folders. A policy's files may come from its root
/// folder — the directory named on the command line that it was found in (so `pal check
/// policies/` lets `policies/rde/tests_dna.pal` extend `../rde.pal`), or the folder of a file
/// named directly — and from the `policy_path` folders.
pub fn load_roots_with(paths: &[PathBuf], policy_path: &[PathBuf]) -> CheckRun {
    let mut walk = Walk::default();
    let mut run = CheckRun::default();
    let mut explicit = Vec::new();
    // Each file found in a directory, with the directory named on the command line.
    let mut found: Vec<(PathBuf, PathBuf)> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = walk.files.len();
            let unreadable_before = walk.unreadable.len();
            walk_pal_files(p, &mut walk);
            found.extend(walk.files[before..].iter().map(|f| (f.clone(), p.clone())));
            if walk.files.len() == before && walk.unreadable.len() == unreadable_before {
                run.diagnostics.push(
                    Diagnostic::new(
                        Code::E0003,
                        format!(
                            "`{}` is a directory with no `.pal` files in it",
                            p.display()
                        ),
                    )
                    .help("name a .pal file or a directory of them"),
                );
                run.unreadable.push(p.clone());
            }
        } else if p.exists() {
            explicit.push(p.clone());
        } else {
            run.diagnostics.push(
                Diagnostic::new(
                    Code::E0003,
                    format!("cannot read `{}`: no such file", p.display()),
                )
                .help("name a .pal file or a directory of them"),
            );
            run.unreadable.push(p.clone());
        }
    }
    for (dir, why) in std::mem::take(&mut walk.unreadable) {
        run.diagnostics.push(
            Diagnostic::new(
                Code::E0003,
                format!("cannot read directory `{}`: {why}", dir.display()),
            )
            .help("the other files were checked; make the directory readable, or move it out of the way"),
        );
        run.unreadable.push(dir);
    }
    // Files found in directories that another found file builds on are not roots.
    let mut referenced = HashSet::new();
    let mut has_tests = HashSet::new();
    for (f, _) in &found {
        let mut scratch = SourceMap::new();
        if let Ok(id) = read_source(f, None, &mut scratch) {
            if let Ok(ast) = parse_file(id, &scratch.get(id).text) {
                if ast
                    .items
                    .iter()
                    .any(|i| matches!(i, crate::syntax::ast::Item::Test(_)))
                {
                    has_tests.insert(canonical(f));
                }
                let dir = f.parent().unwrap_or(Path::new("."));
                for (dep, _) in dependencies(&ast, dir) {
                    referenced.insert(canonical(&dep));
                }
            }
        }
    }
    let mut roots: Vec<(PathBuf, PolicyAccess)> = explicit
        .into_iter()
        .map(|f| {
            let access = PolicyAccess::for_root(&f, policy_path);
            (f, access)
        })
        .collect();
    roots.extend(
        found
            .into_iter()
            .filter(|(f, _)| {
                let c = canonical(f);
                !referenced.contains(&c) || has_tests.contains(&c)
            })
            .map(|(f, dir)| (f, PolicyAccess::new(&dir, policy_path))),
    );
    let mut seen = HashSet::new();
    for (root, access) in roots {
        if !seen.insert(canonical(&root)) {
            continue;
        }
        let mut diags = Vec::new();
        let loaded = load_with(&root, &access, &mut run.sources, &mut diags);
        let Checked {
            policy,
            diagnostics,
            suppressions,
        } = check_loaded(&loaded, &run.sources, &diags);
        run.diagnostics.extend(diags);
        run.diagnostics.extend(diagnostics);
        run.roots.push(LoadedRoot {
            path: root,
            policy,
            suppressions,
        });
    }
    dedupe_and_sort(&mut run.diagnostics, &run.sources);
    run
}

/// Where a rule is declared: file name and byte offset (stable across roots, which each load
/// a shared file again).
/// The file a span is in, resolved, so that one file named two ways is one file.
fn canonical_file(sources: &SourceMap, span: crate::base::source::Span) -> PathBuf {
    canonical(Path::new(&sources.get(span.file).name))
}

fn rule_key(sources: &SourceMap, span: crate::base::source::Span) -> (String, u32) {
    (sources.get(span.file).name.clone(), span.start)
}

/// What the tests of one root file exercised.
pub struct RootCoverage<'r> {
    /// The root.
    pub root: &'r LoadedRoot,
    /// Its compiled policy.
    pub policy: &'r Policy,
    /// What its own tests exercised.
    pub coverage: Coverage,
}

/// Rule declarations over all roots (a file shared by several roots counts once): how many
/// there are, how many no test exercised, and per root its rules that no test anywhere made
/// fire (a shared declaration is listed under every root that has it).
pub struct Untested<'r> {
    /// Enabled rules, exceptions and timers declared across the roots.
    pub total: usize,
    /// Declarations no test in any root made fire.
    pub missing: usize,
    /// Per root: its rules that no test anywhere exercised.
    pub by_root: Vec<(&'r LoadedRoot, Vec<&'r RuleDef>)>,
}

impl Untested<'_> {
    /// Declarations some test exercised.
    pub fn exercised(&self) -> usize {
        self.total - self.missing
    }
}

/// Runs each root's own tests and gathers what they exercised.
pub fn coverage_by_root(run: &CheckRun) -> Vec<RootCoverage<'_>> {
    run.roots
        .iter()
        .filter_map(|root| {
            let policy = root.policy.as_ref()?;
            let root_name = root.path.display().to_string();
            let mut coverage = Coverage::default();
            for case in &policy.tests {
                if run.sources.get(case.span.file).name == root_name {
                    coverage.add(policy, &run_test(policy, case), case);
                }
            }
            Some(RootCoverage {
                root,
                policy,
                coverage,
            })
        })
        .collect()
}

/// The one computation behind `untested-rule` and `pal test --coverage`: a rule declaration is
/// exercised when a test of any root made it fire ([`Coverage::untested`] per root, joined by
/// where each rule is declared).
pub fn untested<'r>(sources: &SourceMap, per_root: &[RootCoverage<'r>]) -> Untested<'r> {
    let tested: HashSet<_> = per_root
        .iter()
        .flat_map(|c| {
            c.policy
                .rules
                .iter()
                .filter(|r| c.coverage.fired.contains(&r.name))
                .map(|r| rule_key(sources, r.span))
        })
        .collect();
    let mut declared = HashSet::new();
    let mut missing_keys = HashSet::new();
    let mut by_root = Vec::new();
    for c in per_root {
        let enabled = c.policy.rules.iter().filter(|r| r.disabled.is_none());
        declared.extend(enabled.map(|r| rule_key(sources, r.span)));
        let missing: Vec<&RuleDef> = c
            .coverage
            .untested(c.policy)
            .into_iter()
            .filter(|r| !tested.contains(&rule_key(sources, r.span)))
            .collect();
        missing_keys.extend(missing.iter().map(|r| rule_key(sources, r.span)));
        by_root.push((c.root, missing));
    }
    Untested {
        total: declared.len(),
        missing: missing_keys.len(),
        by_root,
    }
}

/// `untested-rule` (W0007): every enabled rule, exception and timer that no test makes fire.
///
/// The tests that count do not depend on which paths were checked: a rule's tests are those
/// in the `.pal` files under the folder of the file that declares it (recursively), so
/// `pal check policies/rde.pal` and `pal check policies/` agree about `rde.pal`'s rules. A rule
/// is reported only when some test there runs against its file (a policy nobody has started
/// testing is not nagged, nor is one that merely shares a folder with tested ones).
fn lint_untested(run: &mut CheckRun, paths: &[PathBuf], policy_path: &[PathBuf]) {
    let per_root = coverage_by_root(run);
    // The folders whose tests count: each declaring file's, nested ones folded into their
    // outermost ancestor, which is loaded whole (unless it was checked already).
    let mut folders: Vec<PathBuf> = per_root
        .iter()
        .flat_map(|c| c.policy.rules.iter())
        .filter_map(|r| {
            canonical_file(&run.sources, r.span)
                .parent()
                .map(Path::to_path_buf)
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    folders.sort();
    folders.dedup_by(|inner, outer| inner.starts_with(outer));
    let checked: HashSet<PathBuf> = paths.iter().map(|p| canonical(p)).collect();
    let loaded: HashSet<PathBuf> = run.roots.iter().map(|r| canonical(&r.path)).collect();
    let others: Vec<CheckRun> = folders
        .iter()
        .filter(|f| !checked.contains(*f))
        .map(|f| test_roots(f, &loaded, policy_path))
        .collect();
    let mut fired: HashSet<(PathBuf, u32)> = HashSet::new();
    // Files some test runs against: their rules are held to W0007.
    let mut tested_files: HashSet<PathBuf> = HashSet::new();
    for r in std::iter::once(&*run).chain(&others) {
        for c in coverage_by_root(r) {
            fired.extend(
                c.policy
                    .rules
                    .iter()
                    .filter(|rule| c.coverage.fired.contains(&rule.name))
                    .map(|rule| (canonical_file(&r.sources, rule.span), rule.span.start)),
            );
            if c.coverage.tests > 0 {
                tested_files.extend(
                    c.policy
                        .rules
                        .iter()
                        .map(|rule| canonical_file(&r.sources, rule.span)),
                );
            }
        }
    }
    let untested_here = |rule: &RuleDef| {
        let file = canonical_file(&run.sources, rule.span);
        tested_files.contains(&file) && !fired.contains(&(file, rule.span.start))
    };
    let found: Vec<(Suppressions, Vec<Diagnostic>)> = per_root
        .iter()
        .map(|c| {
            let diags = c
                .policy
                .rules
                .iter()
                .filter(|r| r.disabled.is_none() && untested_here(r))
                .map(|rule| {
                    let what = match rule.kind {
                        RuleKind::Exception { .. } => "exception",
                        RuleKind::Timer { .. } => "timer",
                        RuleKind::On(_) => "rule",
                    };
                    Diagnostic::new(
                        Code::W0007,
                        format!("{what} `{}` is not exercised by any test", rule.name),
                    )
                    .primary(rule.span, "no test makes this fire")
                    .help(
                        "add a `test` block whose events make it fire, so a change to it is caught",
                    )
                })
                .collect();
            (c.root.suppressions.clone(), diags)
        })
        .collect();
    for (mut suppressions, mut diags) in found {
        suppressions.apply(&mut diags);
        run.diagnostics.extend(diags);
        run.diagnostics
            .extend(suppressions.unused(|lint| lint == Code::W0007));
    }
}

/// The files under `folder` with tests in them, other than `skip` (roots already run), each
/// loaded as a root that may read anything under `folder`: the tests `untested-rule` counts
/// beyond the paths checked. A file without a line starting `test` is not parsed at all.
fn test_roots(folder: &Path, skip: &HashSet<PathBuf>, policy_path: &[PathBuf]) -> CheckRun {
    let mut walk = Walk {
        skip_tool_dirs: true,
        ..Walk::default()
    };
    walk_pal_files(folder, &mut walk);
    let mut run = CheckRun::default();
    for file in walk.files {
        if skip.contains(&canonical(&file)) {
            continue;
        }
        let has_tests = std::fs::read_to_string(&file)
            .is_ok_and(|t| t.lines().any(|l| l.trim_start().starts_with("test ")));
        if !has_tests {
            continue;
        }
        let mut diags = Vec::new();
        let access = PolicyAccess::new(folder, policy_path);
        let loaded = load_with(&file, &access, &mut run.sources, &mut diags);
        let checked = check_loaded(&loaded, &run.sources, &diags);
        run.roots.push(LoadedRoot {
            path: file,
            policy: checked.policy,
            suppressions: checked.suppressions,
        });
    }
    run
}

/// Removes findings reported twice (a file shared by two roots) and orders them by location.
pub fn dedupe_and_sort(diags: &mut Vec<Diagnostic>, sources: &SourceMap) {
    let key = |d: &Diagnostic| {
        let (file, start, end) = match d.primary_span() {
            Some(s) => (
                sources.get(s.file).name.clone(),
                s.start as usize,
                s.end as usize,
            ),
            None => (String::new(), 0, 0),
        };
        (file, start, end, d.code, d.message.clone())
    };
    let mut seen = HashSet::new();
    diags.retain(|d| seen.insert(key(d)));
    diags.sort_by_key(|d| {
        let (f, s, _, c, _) = key(d);
        (f, s, c)
    });
}

/// A policy ready to run with its sources and warnings, or the sources and the diagnostics
/// that stop it.
pub type PolicyLoad = Result<(SourceMap, Policy, Vec<Diagnostic>), (SourceMap, Vec<Diagnostic>)>;

/// Loads and checks one policy for running.
pub fn load_policy(path: &Path) -> PolicyLoad {
    load_policy_with(path, &[])
}

/// [`load_policy`], also letting the policy read files under the `policy_path` folders.
pub fn load_policy_with(path: &Path, policy_path: &[PathBuf]) -> PolicyLoad {
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let access = PolicyAccess::for_root(path, policy_path);
    let loaded = load_with(path, &access, &mut sources, &mut diags);
    let checked = check_loaded(&loaded, &sources, &diags);
    diags.extend(checked.diagnostics);
    dedupe_and_sort(&mut diags, &sources);
    match checked.policy {
        Some(p) if !diags.iter().any(Diagnostic::is_error) => Ok((sources, p, diags)),
        _ => Err((sources, diags)),
    }
}
