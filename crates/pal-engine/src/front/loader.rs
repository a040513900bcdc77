//! Loads a policy's files: reads the root, follows `extends` and `import` (paths relative to the
//! naming file), parses each file once, and orders them so that every file comes after the files
//! it builds on. Unreadable, non-UTF-8 and cyclic inputs become diagnostics, never panics.

use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::{FileId, SourceMap, Span};
use crate::syntax::ast::{File, Item, PolicyRef};
use crate::syntax::parse_file;
use std::path::{Path, PathBuf};

/// One parsed file of a policy.
#[derive(Debug, Clone)]
pub struct Module {
    /// Its id in the source map.
    pub file: FileId,
    /// Its path as opened.
    pub path: PathBuf,
    /// Its syntax tree.
    pub ast: File,
    /// The bank-holiday files its `calendar` declarations name, read here (the loader is the
    /// only reader of policy-side files): each file's text, or why it could not be read.
    pub holidays: Vec<(Span, Result<String, String>)>,
}

/// A policy's files in dependency order (bases and imports first, the root last).
#[derive(Debug, Clone, Default)]
pub struct LoadedPolicy {
    /// Modules in dependency order.
    pub modules: Vec<Module>,
    /// The policy's name: the root's `policy NAME`, else its file stem.
    pub name: String,
}

/// Largest policy file accepted (policies are short; this guards against feeding PAL a dump).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a file as policy text, or explains why it cannot be used.
/// `via` is the `import`/`extends` that named the file, for the label.
pub fn read_source(
    path: &Path,
    via: Option<Span>,
    sources: &mut SourceMap,
) -> Result<FileId, Diagnostic> {
    let shown = path.display().to_string();
    let unreadable = |why: String| {
        let d = Diagnostic::new(Code::E0003, format!("cannot read `{shown}`: {why}"));
        match via {
            Some(span) => match similar_policy(path) {
                Some(h) => d.primary(span, "no such policy").help(h),
                None => d.primary(span, "named here").help(
                    "paths in `import` and `extends` are relative to the file that names them",
                ),
            },
            None => {
                d.help("paths in `import` and `extends` are relative to the file that names them")
            }
        }
    };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(io_reason(&e)))?;
    if meta.is_dir() {
        return Err(unreadable("it is a directory".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(unreadable(format!(
            "it is {} bytes, larger than the {} bytes a policy file may be",
            meta.len(),
            MAX_FILE_BYTES
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(io_reason(&e)))?;
    source_from_bytes(&shown, bytes, sources)
}

/// Adds bytes as a source file, diagnosing non-UTF-8 or binary content (`E0002`).
pub fn source_from_bytes(
    name: &str,
    bytes: Vec<u8>,
    sources: &mut SourceMap,
) -> Result<FileId, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(text) => {
            if let Some(pos) = text.find('\0') {
                let id = sources.add(name, text.replace('\0', " "));
                return Err(Diagnostic::new(
                    Code::E0002,
                    format!("`{name}` contains NUL bytes: it looks like a binary file"),
                )
                .primary(Span::new(id, pos..pos + 1), "NUL byte")
                .help("policy files are UTF-8 text"));
            }
            Ok(sources.add(name, text))
        }
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let id = sources.add(name, lossy);
            let (line, col) = sources.get(id).line_col(valid);
            Err(Diagnostic::new(
                Code::E0002,
                format!("`{name}` is not UTF-8 text (invalid byte at line {line}, column {col})"),
            )
            .primary(Span::new(id, valid..valid + 1), "not UTF-8")
            .help("save the file as UTF-8; policy files are plain text"))
        }
    }
}

/// Largest bank-holiday file accepted (gov.uk's file for all three nations is about 20 KB).
pub const MAX_HOLIDAYS_BYTES: u64 = 1024 * 1024;

/// Reads a bank-holiday file named by a `calendar` declaration, within its size limit.
fn read_holidays(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
    if meta.len() > MAX_HOLIDAYS_BYTES {
        return Err(format!(
            "`{}` is {} bytes, larger than the {MAX_HOLIDAYS_BYTES} bytes a bank-holiday file may be",
            path.display(),
            meta.len()
        ));
    }
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))
}

/// "did you mean `national`?" for a policy named in `extends`/`import` that does not exist,
/// from the `.pal` files beside where it was looked for.
fn similar_policy(path: &Path) -> Option<String> {
    if path.exists() {
        return None;
    }
    let wanted = path.file_stem()?.to_str()?;
    let names: Vec<String> = std::fs::read_dir(path.parent()?)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pal"))
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .take(10_000)
        .collect();
    crate::base::suggest::did_you_mean(wanted, names.iter().map(String::as_str))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Loads the policy whose root file is `root`, pushing every problem to `diags`.
pub fn load(root: &Path, sources: &mut SourceMap, diags: &mut Vec<Diagnostic>) -> LoadedPolicy {
    let mut loader = Loader {
        sources,
        diags,
        stack: Vec::new(),
        done: Vec::new(),
        modules: Vec::new(),
    };
    loader.visit(root, None);
    let name = loader
        .modules
        .last()
        .and_then(|m| m.ast.header.as_ref().map(|h| h.name.name.clone()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            root.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "policy".into())
        });
    LoadedPolicy {
        modules: loader.modules,
        name,
    }
}

/// Loads a policy from text that is not on disk (the REPL, tests). Its `import`/`extends` paths
/// are relative to `dir`.
pub fn load_text(
    name: &str,
    text: &str,
    dir: &Path,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> LoadedPolicy {
    let id = sources.add(name, text);
    let mut loader = Loader {
        sources,
        diags,
        stack: Vec::new(),
        done: Vec::new(),
        modules: Vec::new(),
    };
    let path = dir.join(name);
    loader.visit_parsed(id, &path);
    let name = loader
        .modules
        .last()
        .and_then(|m| m.ast.header.as_ref().map(|h| h.name.name.clone()))
        .unwrap_or_else(|| name.to_string());
    LoadedPolicy {
        modules: loader.modules,
        name,
    }
}

/// `dir/relative` with `.` and `..` resolved lexically, so a file has one name however it is
/// reached (`policies/national.pal`, not `policies/national/tests/../../national.pal`).
pub fn join_normalized(dir: &Path, relative: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in dir.join(relative).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let popped =
                    matches!(out.components().next_back(), Some(Component::Normal(_))) && out.pop();
                if !popped {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The files a parsed file names with `extends` and `import`, with the spans that name them.
pub fn dependencies(ast: &File, dir: &Path) -> Vec<(PathBuf, Span)> {
    let mut out = Vec::new();
    if let Some(ext) = ast.header.as_ref().and_then(|h| h.extends.as_ref()) {
        out.push(match ext {
            PolicyRef::Name(id) => (join_normalized(dir, &format!("{}.pal", id.name)), id.span),
            PolicyRef::Path(s) => (join_normalized(dir, &s.value), s.span),
        });
    }
    for item in &ast.items {
        if let Item::Import(s) = item {
            out.push((join_normalized(dir, &s.value), s.span));
        }
    }
    out
}

struct Loader<'a> {
    sources: &'a mut SourceMap,
    diags: &'a mut Vec<Diagnostic>,
    /// Files being loaded (for cycle detection): canonical path, the path as named, and the
    /// span that named it.
    stack: Vec<(PathBuf, PathBuf, Option<Span>)>,
    done: Vec<PathBuf>,
    modules: Vec<Module>,
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Loader<'_> {
    fn visit(&mut self, path: &Path, via: Option<Span>) {
        let key = canonical(path);
        if let Some(pos) = self.stack.iter().position(|(p, _, _)| *p == key) {
            let mut d = Diagnostic::new(
                Code::E0111,
                format!(
                    "`{}` is part of an import/extends cycle",
                    path.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                ),
            );
            if let Some(span) = via {
                d = d.primary(span, "this closes the cycle");
            }
            for (_, _, span) in self.stack[pos + 1..].iter() {
                if let Some(span) = span {
                    d = d.secondary(*span, "which imports or extends");
                }
            }
            let chain: Vec<String> = self.stack[pos..]
                .iter()
                .map(|(_, shown, _)| shown.display().to_string())
                .chain(std::iter::once(path.display().to_string()))
                .collect();
            self.diags.push(
                d.note(format!("cycle: {}", chain.join(" → ")))
                    .help("a policy's files must form a tree: the national rules at the root, local variations on top"),
            );
            return;
        }
        if self.done.contains(&key) {
            return;
        }
        self.done.push(key.clone());
        let id = match read_source(path, via, self.sources) {
            Ok(id) => id,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        self.stack.push((key, path.to_path_buf(), via));
        self.visit_parsed(id, path);
        self.stack.pop();
    }

    fn visit_parsed(&mut self, id: FileId, path: &Path) {
        let ast = match parse_file(id, &self.sources.get(id).text) {
            Ok(ast) => ast,
            Err(d) => {
                self.diags.push(d);
                return;
            }
        };
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        if self.stack.is_empty() {
            self.stack.push((canonical(path), path.to_path_buf(), None));
            for (dep, span) in dependencies(&ast, &dir) {
                self.visit(&dep, Some(span));
            }
            self.stack.pop();
        } else {
            for (dep, span) in dependencies(&ast, &dir) {
                self.visit(&dep, Some(span));
            }
        }
        let holidays = ast
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Calendar(c) => c.holidays.as_ref(),
                _ => None,
            })
            .map(|h| (h.span, read_holidays(&dir.join(&h.value))))
            .collect();
        self.modules.push(Module {
            file: id,
            path: path.to_path_buf(),
            ast,
            holidays,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::join_normalized;
    use std::path::{Path, PathBuf};

    #[test]
    fn paths_are_normalised_lexically() {
        assert_eq!(
            join_normalized(Path::new("policies/national/tests"), "../../national.pal"),
            PathBuf::from("policies/national.pal")
        );
        assert_eq!(
            join_normalized(Path::new(""), "../x.pal"),
            PathBuf::from("../x.pal")
        );
        assert_eq!(
            join_normalized(Path::new("a"), "./b/../c.pal"),
            PathBuf::from("a/c.pal")
        );
    }
}
