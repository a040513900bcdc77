//! What the targets share: the shipped policies' folder, loading a policy from text, and
//! keeping the fuzzer away from the file system outside `policies/`.

#![allow(dead_code)]

use pal_engine::base::source::SourceMap;
use pal_engine::front::check::check;
use pal_engine::front::loader::load_text;
use pal_engine::io::render::{render, Format};
use pal_engine::model::ir::Policy;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `policies/` of the repository.
pub fn policies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// Text that could name a file outside `policies/` (an absolute path, `..`, a device): the
/// targets fuzz the language, not the file system (the loader's access rules have tests).
pub fn names_outside(text: &str) -> bool {
    // Any string literal that looks like a path leaving the folder (the shipped policies'
    // comments use `..` in prose, so only quoted paths count).
    text.contains("\"/")
        || text.contains("\"..")
        || text.contains("../")
        || text.contains('\\')
        || text.contains("\"~")
        || text.contains("/dev")
        || text.contains("/proc")
}

/// Loads and checks policy text (imports relative to `policies/`), and renders every
/// diagnostic in every format: none of it may panic, and spans must be valid.
pub fn check_text(text: &str) -> Option<Policy> {
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let loaded = load_text("fuzz.pal", text, &policies_dir(), &mut sources, &mut diags);
    let checked = check(&loaded, &sources);
    diags.extend(checked.diagnostics);
    for format in [Format::Human, Format::Short, Format::Json, Format::Github] {
        let _ = render(&diags, &sources, format, false);
    }
    checked.policy
}

/// The trust's policy, `policies/rde.pal`, loaded once.
pub fn rde() -> &'static Policy {
    static RDE: OnceLock<Policy> = OnceLock::new();
    RDE.get_or_init(|| {
        match pal_engine::services::project::load_policy(&policies_dir().join("rde.pal")) {
            Ok((_, policy, _)) => policy,
            Err((_, diags)) => panic!("policies/rde.pal does not load: {diags:?}"),
        }
    })
}
