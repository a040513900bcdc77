//! Loads a policy's files: reads the root, follows `extends` and `import` (paths relative to the
//! naming file), parses each file once, and orders them so that every file comes after the files
//! it builds on. Unreadable, non-UTF-8 and cyclic inputs become diagnostics, never panics.

use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::{FileId, SourceMap, Span};
use crate::syntax::ast::{File, Item, PolicyRef};
use crate::syntax::parse_file;
use std::collections::HashSet;
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
    /// Files with syntax errors whose other items parsed: they are loaded without their
    /// broken items, so the rest can still be checked (the policy cannot run).
    pub recovered: Vec<FileId>,
    /// Names the broken items would have declared (see [`crate::syntax::Recovery::lost`]).
    pub lost: Vec<String>,
}

/// Where a policy's files may come from: the root policy's folder and the folders named with
/// `--policy-path`. `import`, `extends` and `calendar { holidays … }` naming anything else are
/// refused (`E0005`) before the file is opened, so a policy cannot read, or show a line of,
/// `/etc/shadow` or a patient extract.
#[derive(Debug, Clone, Default)]
pub struct PolicyAccess {
    /// Folders (absolute, and resolved through symbolic links) under which files may be read.
    folders: Vec<(PathBuf, PathBuf)>,
    /// The same folders as the user gave them, for messages.
    given: Vec<String>,
}

impl PolicyAccess {
    /// Access to `root_folder` (the folder of the policy named on the command line, or the
    /// directory being checked) and to each of `policy_path`.
    pub fn new(root_folder: &Path, policy_path: &[PathBuf]) -> PolicyAccess {
        let mut a = PolicyAccess::default();
        for f in std::iter::once(root_folder).chain(policy_path.iter().map(PathBuf::as_path)) {
            let lexical = absolute(f);
            let resolved = std::fs::canonicalize(f).unwrap_or_else(|_| lexical.clone());
            a.folders.push((lexical, resolved));
            let shown = f.display().to_string();
            a.given
                .push(if shown.is_empty() { ".".into() } else { shown });
        }
        a
    }

    /// Access for a policy whose root file is `root`: its folder and `policy_path`.
    pub fn for_root(root: &Path, policy_path: &[PathBuf]) -> PolicyAccess {
        PolicyAccess::new(root.parent().unwrap_or(Path::new("")), policy_path)
    }

    /// Why `path` may not be read, if it may not: it is outside every allowed folder as
    /// written, or it resolves (through a symbolic link) to somewhere outside them.
    pub fn refuse(&self, path: &Path) -> Option<String> {
        if self.folders.is_empty() {
            return None;
        }
        let lexical = absolute(path);
        if !self.folders.iter().any(|(f, _)| lexical.starts_with(f)) {
            return Some(
                "it is outside the policy's folder and the `--policy-path` folders".into(),
            );
        }
        if let Ok(real) = std::fs::canonicalize(path) {
            if !self.folders.iter().any(|(_, f)| real.starts_with(f)) {
                return Some(
                    "it is a symbolic link to a file outside the policy's folder and the `--policy-path` folders"
                        .into(),
                );
            }
        }
        None
    }

    /// The allowed folders, for messages.
    fn shown(&self) -> String {
        self.given
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `path` made absolute (against the current directory) with `.` and `..` resolved lexically.
fn absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    join_normalized(&abs, "")
}

/// The longest chain of files importing or extending one another.
pub const MAX_IMPORT_DEPTH: usize = 128;

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
    let bytes = read_limited(path, MAX_FILE_BYTES, "a policy file").map_err(unreadable)?;
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
    let bytes = read_limited(path, MAX_HOLIDAYS_BYTES, "a bank-holiday file")
        .map_err(|why| format!("cannot read `{}`: {why}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("`{}` is not UTF-8 text", path.display()))
}

/// Reads at most `limit` bytes of a regular file. Devices, FIFOs and sockets are refused before
/// they are opened (opening a FIFO blocks until a writer comes; `/dev/zero` never ends), and the
/// limit is enforced on the bytes actually read, not on the length the metadata claims.
pub fn read_limited(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| io_reason(&e))?;
    if meta.is_dir() {
        return Err("it is a directory".into());
    }
    if !meta.is_file() {
        return Err(format!(
            "it is not a regular file (a device, FIFO or socket), and {what} must be one"
        ));
    }
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    // Should the file be swapped for a FIFO after the check above, opening it must not block.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NONBLOCK: i32 = 0o4000;
        open.custom_flags(O_NONBLOCK);
    }
    let file = open.open(path).map_err(|e| io_reason(&e))?;
    if !file.metadata().map_err(|e| io_reason(&e))?.is_file() {
        return Err(format!("it is not a regular file, and {what} must be one"));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > limit {
        return Err(format!("it is larger than the {limit} bytes {what} may be"));
    }
    Ok(bytes)
}

/// The diagnostic about a file reached through `import`/`extends` that could not be used, with
/// every label in that file replaced by one on the `import`/`extends` (`via`): nothing of a file
/// that is not policy text is shown.
fn hide_content(mut d: Diagnostic, via: Span) -> Diagnostic {
    d.labels.retain(|l| l.span.file == via.file);
    if d.labels.is_empty() {
        d = d.primary(via, "named here");
    }
    d
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

/// Loads the policy whose root file is `root`, pushing every problem to `diags`. Its files may
/// come from `root`'s folder only (see [`load_with`]).
pub fn load(root: &Path, sources: &mut SourceMap, diags: &mut Vec<Diagnostic>) -> LoadedPolicy {
    load_with(root, &PolicyAccess::for_root(root, &[]), sources, diags)
}

/// Loads the policy whose root file is `root`, reading only what `access` allows.
pub fn load_with(
    root: &Path,
    access: &PolicyAccess,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> LoadedPolicy {
    load_with_overlays(root, access, &Overlays::default(), sources, diags)
}

/// Texts that stand in for files on disk: an editor's unsaved buffers, keyed by the file's
/// absolute path (with `.` and `..` resolved lexically; see [`overlay_key`]). The loader takes
/// an overlay's text instead of reading the file; everything else about loading is unchanged.
pub type Overlays = std::collections::HashMap<PathBuf, String>;

/// The key under which [`Overlays`] holds the text for `path`.
pub fn overlay_key(path: &Path) -> PathBuf {
    absolute(path)
}

/// [`load_with`], taking the text of any file in `overlays` from there instead of from disk.
pub fn load_with_overlays(
    root: &Path,
    access: &PolicyAccess,
    overlays: &Overlays,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> LoadedPolicy {
    let mut loader = Loader {
        sources,
        diags,
        stack: Vec::new(),
        done: HashSet::new(),
        modules: Vec::new(),
        access,
        recovered: Vec::new(),
        lost: Vec::new(),
        overlays,
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
        recovered: loader.recovered,
        lost: loader.lost,
    }
}

/// Loads a policy from text that is not on disk (the REPL, tests). Its `import`/`extends` paths
/// are relative to `dir`; files may come from `dir` only (see [`load_text_with`]).
pub fn load_text(
    name: &str,
    text: &str,
    dir: &Path,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> LoadedPolicy {
    load_text_with(
        name,
        text,
        dir,
        &PolicyAccess::new(dir, &[]),
        sources,
        diags,
    )
}

/// [`load_text`], reading only what `access` allows.
pub fn load_text_with(
    name: &str,
    text: &str,
    dir: &Path,
    access: &PolicyAccess,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> LoadedPolicy {
    let id = sources.add(name, text);
    let no_overlays = Overlays::default();
    let mut loader = Loader {
        sources,
        diags,
        stack: Vec::new(),
        done: HashSet::new(),
        modules: Vec::new(),
        access,
        recovered: Vec::new(),
        lost: Vec::new(),
        overlays: &no_overlays,
    };
    let path = dir.join(name);
    loader.visit_parsed(id, &path, None);
    let name = loader
        .modules
        .last()
        .and_then(|m| m.ast.header.as_ref().map(|h| h.name.name.clone()))
        .unwrap_or_else(|| name.to_string());
    LoadedPolicy {
        modules: loader.modules,
        name,
        recovered: loader.recovered,
        lost: loader.lost,
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
    done: HashSet<PathBuf>,
    modules: Vec<Module>,
    access: &'a PolicyAccess,
    recovered: Vec<FileId>,
    lost: Vec<String>,
    /// Unsaved texts that stand in for files.
    overlays: &'a Overlays,
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
        if !self.done.insert(key.clone()) {
            return;
        }
        // Loading recurses once per file in a chain of imports: bound it before it recurses.
        if self.stack.len() >= MAX_IMPORT_DEPTH {
            let mut d = Diagnostic::new(
                Code::E0004,
                format!("imports and extends nest more than {MAX_IMPORT_DEPTH} files deep"),
            )
            .help("a policy's files form a shallow tree: import the shared files from the root");
            if let Some(span) = via {
                d = d.primary(span, "one file too many");
            }
            self.diags.push(d);
            return;
        }
        if let (Some(span), Some(why)) = (via, self.access.refuse(path)) {
            self.diags
                .push(self.refusal(path, span, &why, "import or extend"));
            return;
        }
        let overlay = if self.overlays.is_empty() {
            None
        } else {
            self.overlays.get(&overlay_key(path))
        };
        let read = match overlay {
            Some(text) => Ok(self.sources.add(path.display().to_string(), text.as_str())),
            None => read_source(path, via, self.sources),
        };
        let id = match read {
            Ok(id) => id,
            Err(d) => {
                let d = match via {
                    Some(span) => hide_content(d, span),
                    _ => d,
                };
                self.diags.push(d);
                return;
            }
        };
        self.stack.push((key, path.to_path_buf(), via));
        self.visit_parsed(id, path, via);
        self.stack.pop();
    }

    /// `E0005`: a file the policy may not read.
    fn refusal(&self, path: &Path, span: Span, why: &str, verb: &str) -> Diagnostic {
        Diagnostic::new(
            Code::E0005,
            format!("a policy may not {verb} `{}`: {why}", path.display()),
        )
        .primary(span, "outside the policy path")
        .note(format!("files may be read from {}", self.access.shown()))
        .help(match path.parent().map(|p| p.display().to_string()) {
            Some(dir) if !dir.is_empty() => format!(
                "keep the policy's files under its folder, or, if `{dir}` is trusted, allow it with `--policy-path {dir}`"
            ),
            _ => "keep the policy's files under its folder, or allow another folder with `--policy-path DIR`".into(),
        })
    }

    /// Follows a parsed file's dependencies. A file reached through `import`/`extends` (`via`)
    /// that is not valid policy text is reported without any of its content, unless it is a
    /// `.pal` file (whose syntax error is shown where it is).
    fn visit_parsed(&mut self, id: FileId, path: &Path, via: Option<Span>) {
        let ast = match parse_file(id, &self.sources.get(id).text) {
            Ok(ast) => ast,
            Err(d) => {
                // A `.pal` file is policy text the author keeps beside the policy: its own
                // syntax error, with its line, is what they need. Anything else that an import
                // names is reported without its content.
                let is_policy_file = path.extension().is_some_and(|x| x == "pal");
                match via {
                    Some(span) if !is_policy_file => {
                        let at = d
                            .primary_span()
                            .map(|s| self.sources.get(s.file).line_col(s.start as usize));
                        let mut h = hide_content(d, span);
                        if h.code == Code::E0001 {
                            h.message = format!(
                                "`{}` is not valid policy text{}",
                                path.display(),
                                at.map(|(l, c)| format!(
                                    " (a syntax error at line {l}, column {c})"
                                ))
                                .unwrap_or_default()
                            );
                        }
                        self.diags.push(h.help(format!(
                            "run `pal check {}` to see the error in place",
                            path.display()
                        )));
                        return;
                    }
                    _ => {
                        let text = &self.sources.get(id).text;
                        let rest = crate::syntax::recover(id, text, d);
                        self.diags.extend(rest.errors);
                        let Some(ast) = rest.ast else { return };
                        self.recovered.push(id);
                        self.lost.extend(rest.lost);
                        ast
                    }
                }
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
            .map(|h| {
                let file = join_normalized(&dir, &h.value);
                let read = match self.access.refuse(&file) {
                    Some(why) => Err(format!(
                        "a policy may not read `{}`: {why} (allow another folder with `--policy-path DIR`)",
                        file.display()
                    )),
                    None => read_holidays(&file),
                };
                (h.span, read)
            })
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
