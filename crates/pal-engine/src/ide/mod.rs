//! IDE analysis: what an editor asks of a policy as its author types — the checker's
//! diagnostics, hover, go to definition, find references, completion, document symbols,
//! formatting, quick fixes and test runs — answered by the engine for any front end (the
//! language server `pal lsp` is one).
//!
//! A [`Workspace`] is a folder of policy files plus the editor's unsaved buffers (overlays).
//! [`Workspace::analyze`] loads the policy a file belongs to — through `extends` and `import`,
//! with overlays standing in for files on disk — checks it exactly as `pal check` does
//! (`services::project::check_loaded`), and indexes its names ([`index::Index`]). Every query
//! is then a function of that [`Analysis`] and a byte offset: positions in lines and UTF-16
//! units are the protocol's business, not the engine's.

pub mod complete;
pub mod fixes;
pub mod hover;
pub mod index;
pub mod outline;
pub mod run;
#[cfg(test)]
mod tests;

use crate::base::diagnostic::Diagnostic;
use crate::base::source::{FileId, SourceMap, Span};
use crate::front::loader::{
    dependencies, load_with_overlays, overlay_key, LoadedPolicy, Overlays, PolicyAccess,
};
use crate::model::ir::Policy;
use crate::services::project::{check_loaded, dedupe_and_sort};
use crate::syntax::ast::{File, PolicyRef};
use crate::syntax::parse_file;
use index::{Index, SymbolKey};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How one file builds on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// `import "…"`: the imported file is part of the importer's policy.
    Import,
    /// `extends …`: the extending file is a policy of its own on top of the other.
    Extends,
}

/// A folder of policy files and the editor's unsaved texts of some of them.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The folder (absolute): policies may read files under it.
    folder: PathBuf,
    /// More folders policies may read (`--policy-path`).
    policy_path: Vec<PathBuf>,
    /// Unsaved texts, by [`overlay_key`].
    overlays: Overlays,
    /// Each known file's `import`s and `extends`, by [`overlay_key`].
    links: HashMap<PathBuf, Vec<(PathBuf, Link)>>,
    /// The last analysis of each root in which that root's own file parsed: completion keeps
    /// working while the text being typed does not parse.
    last_good: HashMap<PathBuf, Arc<Analysis>>,
}

/// A byte range in a file, for answers that point somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file (absolute).
    pub path: PathBuf,
    /// Byte range in its text.
    pub span: Span,
}

/// One policy loaded, checked and indexed.
#[derive(Debug)]
pub struct Analysis {
    /// The file whose policy this is (the root of the load).
    pub root: PathBuf,
    /// Every file read, with the text analysed (an overlay's, where there is one).
    pub sources: SourceMap,
    /// The loaded modules (dependency order, the root last).
    pub loaded: LoadedPolicy,
    /// What `pal check` reports for this policy (without `untested-rule`, which needs the
    /// tests of every file that builds on it), de-duplicated and in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The compiled policy, when it has no errors.
    pub policy: Option<Policy>,
    /// Names declared and used.
    pub index: Index,
}

impl Workspace {
    /// A workspace over `folder`, whose `.pal` files are scanned for their links.
    pub fn new(folder: &Path, policy_path: &[PathBuf]) -> Workspace {
        let folder = overlay_key(folder);
        let mut w = Workspace {
            folder,
            policy_path: policy_path.to_vec(),
            overlays: Overlays::default(),
            links: HashMap::new(),
            last_good: HashMap::new(),
        };
        w.rescan();
        w
    }

    /// The workspace's folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Reads the links of every `.pal` file under the folder again (after files changed on disk).
    pub fn rescan(&mut self) {
        let mut files = Vec::new();
        policy_files(&self.folder, 0, &mut files);
        self.links.clear();
        for f in files {
            let key = overlay_key(&f);
            let text = match self.overlays.get(&key) {
                Some(t) => Some(t.clone()),
                None => crate::front::loader::read_limited(
                    &f,
                    crate::front::loader::MAX_FILE_BYTES,
                    "a policy file",
                )
                .ok()
                .and_then(|b| String::from_utf8(b).ok()),
            };
            if let Some(text) = text {
                self.update_links(&key, &text);
            }
        }
    }

    fn update_links(&mut self, key: &Path, text: &str) {
        let Ok(ast) = parse_file(FileId(0), text) else {
            return; // keep what the last text that parsed said
        };
        self.links.insert(key.to_path_buf(), links_of(&ast, key));
    }

    /// Sets the unsaved text of `path` (an editor opened or changed it).
    pub fn set_text(&mut self, path: &Path, text: String) {
        let key = overlay_key(path);
        self.update_links(&key, &text);
        self.overlays.insert(key, text);
    }

    /// Forgets the unsaved text of `path` (the editor closed it); the file on disk is used again.
    pub fn remove_text(&mut self, path: &Path) {
        let key = overlay_key(path);
        self.overlays.remove(&key);
        if let Ok(b) =
            crate::front::loader::read_limited(&key, crate::front::loader::MAX_FILE_BYTES, "")
        {
            if let Ok(t) = String::from_utf8(b) {
                self.update_links(&key, &t);
            }
        }
    }

    /// The text of `path`: the unsaved one, else the file's.
    pub fn text(&self, path: &Path) -> Option<String> {
        let key = overlay_key(path);
        self.overlays.get(&key).cloned().or_else(|| {
            crate::front::loader::read_limited(&key, crate::front::loader::MAX_FILE_BYTES, "")
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
        })
    }

    /// The file whose policy `path` is checked as part of: `path` itself, unless another file
    /// imports it (`national/schema.pal` is checked as part of `national.pal`, as `pal check`
    /// does). A file that others `extends` is a policy of its own.
    pub fn root_of(&self, path: &Path) -> PathBuf {
        let mut at = overlay_key(path);
        for _ in 0..crate::front::loader::MAX_IMPORT_DEPTH {
            let importer = self
                .links
                .iter()
                .filter(|(_, deps)| deps.iter().any(|(d, l)| *d == at && *l == Link::Import))
                .map(|(f, _)| f.clone())
                .min();
            match importer {
                Some(i) if i != at => at = i,
                _ => break,
            }
        }
        at
    }

    /// The files that build on `path`, directly or through others (`extends` or `import`),
    /// `path` not included, in path order.
    pub fn dependents(&self, path: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        let mut todo = vec![overlay_key(path)];
        while let Some(at) = todo.pop() {
            let mut next: Vec<PathBuf> = self
                .links
                .iter()
                .filter(|(f, deps)| !out.contains(f) && deps.iter().any(|(d, _)| *d == at))
                .map(|(f, _)| f.clone())
                .collect();
            next.sort();
            for f in next {
                if !out.contains(&f) {
                    out.push(f.clone());
                    todo.push(f);
                }
            }
        }
        out.sort();
        out
    }

    /// Loads, checks and indexes the policy that `path` belongs to ([`Workspace::root_of`]).
    pub fn analyze(&mut self, path: &Path) -> Arc<Analysis> {
        let root = self.root_of(path);
        let analysis = Arc::new(self.analyze_root(&root));
        if analysis.file_id(&root).is_some()
            && analysis.loaded.modules.iter().any(|m| m.path == root)
        {
            self.last_good.insert(root, analysis.clone());
        }
        analysis
    }

    /// The latest analysis of `path`'s policy in which its root file parsed, if there was one.
    pub fn last_good(&self, path: &Path) -> Option<Arc<Analysis>> {
        self.last_good.get(&self.root_of(path)).cloned()
    }

    /// Loads, checks and indexes the policy whose root file is `root`.
    pub fn analyze_root(&self, root: &Path) -> Analysis {
        let root = overlay_key(root);
        let mut sources = SourceMap::new();
        let mut load_diags = Vec::new();
        let access = PolicyAccess::new(&self.folder, &self.policy_path);
        let loaded = load_with_overlays(
            &root,
            &access,
            &self.overlays,
            &mut sources,
            &mut load_diags,
        );
        let checked = check_loaded(&loaded, &sources, &load_diags);
        let mut diagnostics = load_diags;
        diagnostics.extend(checked.diagnostics);
        dedupe_and_sort(&mut diagnostics, &sources);
        let index = Index::build(loaded.modules.iter().map(|m| &m.ast));
        Analysis {
            root,
            sources,
            loaded,
            diagnostics,
            policy: checked.policy,
            index,
        }
    }
}

/// Folders a workspace scan does not enter: build output, node packages, hidden folders.
fn skipped(name: &str) -> bool {
    name.starts_with('.') || name == "target" || name == "node_modules"
}

/// The deepest folder a workspace scan enters.
const MAX_SCAN_DEPTH: usize = 16;

/// The `.pal` files under `dir`, in path order, outside [`skipped`] folders. An unreadable
/// folder only hides its own files; symbolic links to folders are not followed.
fn policy_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() {
            let name = e.file_name();
            if depth < MAX_SCAN_DEPTH && !skipped(&name.to_string_lossy()) {
                policy_files(&path, depth + 1, out);
            }
        } else if path.extension().is_some_and(|x| x == "pal") {
            out.push(path);
        }
    }
}

/// The files an AST names with `extends` and `import`, as overlay keys.
fn links_of(ast: &File, key: &Path) -> Vec<(PathBuf, Link)> {
    let dir = key.parent().unwrap_or(Path::new("/"));
    let extends = ast
        .header
        .as_ref()
        .and_then(|h| h.extends.as_ref())
        .map(|e| match e {
            PolicyRef::Name(i) => i.span,
            PolicyRef::Path(s) => s.span,
        });
    dependencies(ast, dir)
        .into_iter()
        .map(|(p, span)| {
            let link = if Some(span) == extends {
                Link::Extends
            } else {
                Link::Import
            };
            (overlay_key(&p), link)
        })
        .collect()
}

impl Analysis {
    /// The id under which `path`'s text was analysed.
    pub fn file_id(&self, path: &Path) -> Option<FileId> {
        let key = overlay_key(path);
        self.sources
            .files()
            .find(|(_, f)| Path::new(&f.name) == key)
            .map(|(id, _)| id)
    }

    /// The file a source id stands for.
    pub fn path(&self, file: FileId) -> PathBuf {
        PathBuf::from(&self.sources.get(file).name)
    }

    /// The module (in [`Analysis::loaded`]) that a source id is.
    pub fn module_of(&self, file: FileId) -> Option<usize> {
        self.loaded.modules.iter().position(|m| m.file == file)
    }

    /// The diagnostics whose primary label is in `path` (a diagnostic with no label is the
    /// root's). Diagnostics in other files of the policy belong to those files.
    pub fn diagnostics_for(&self, path: &Path) -> Vec<&Diagnostic> {
        let key = overlay_key(path);
        let id = self.file_id(&key);
        self.diagnostics
            .iter()
            .filter(|d| match d.primary_span() {
                Some(s) => Some(s.file) == id,
                None => key == self.root,
            })
            .collect()
    }

    /// Every file with a diagnostic or analysed text, so that a front end can clear the
    /// diagnostics of files that no longer have any.
    pub fn files(&self) -> Vec<PathBuf> {
        self.sources.files().map(|(id, _)| self.path(id)).collect()
    }

    /// Where the name at `offset` of `file` is declared.
    pub fn definition(&self, file: FileId, offset: u32) -> Option<Location> {
        let (key, _) = self.index.at(file, offset)?;
        let def = self.index.definition(key)?;
        Some(Location {
            path: self.path(def.name_span.file),
            span: def.name_span,
        })
    }

    /// The key and span of the name at `offset`.
    pub fn symbol_at(&self, file: FileId, offset: u32) -> Option<(SymbolKey, Span)> {
        self.index.at(file, offset).map(|(k, s)| (k.clone(), s))
    }

    /// Every place the name at `offset` is used, with its declaration first when
    /// `include_declaration`.
    pub fn references(
        &self,
        file: FileId,
        offset: u32,
        include_declaration: bool,
    ) -> Vec<Location> {
        let Some((key, _)) = self.index.at(file, offset) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if include_declaration {
            for d in self.index.definitions.iter().filter(|d| &d.key == key) {
                out.push(Location {
                    path: self.path(d.name_span.file),
                    span: d.name_span,
                });
            }
        }
        for r in self.index.references_to(key) {
            out.push(Location {
                path: self.path(r.span.file),
                span: r.span,
            });
        }
        out
    }
}
