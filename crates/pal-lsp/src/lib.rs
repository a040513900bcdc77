//! `pal lsp`: the PAL language server. It speaks the Language Server Protocol over standard
//! input and output (on `lsp-server`, rust-analyzer's transport, and `lsp-types`) and answers
//! every request from the engine's IDE analysis (`pal_engine::ide`): no checking, resolving or
//! formatting is done here, only conversion between the protocol's shapes and the engine's.
//!
//! Capabilities: incremental text sync; diagnostics published on open, change (once per burst
//! of changes) and save (the
//! codes, messages, related spans and help of `pal check`); quick fixes from did-you-mean;
//! hover; go to definition; find references; completion; document symbols; formatting (`pal
//! fmt`); code lenses over each `test` block and rule, whose commands run the tests and show
//! the result (a message, and the lens's title afterwards).

pub mod convert;

use convert::{path_to_uri, uri_to_path, LineIndex};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::request::Request as _;
use lsp_types::{self as lsp, Uri};
use pal_engine::base::diagnostic::{Diagnostic, Severity};
use pal_engine::base::source::{FileId, SourceMap};
use pal_engine::ide::complete::CompletionKind;
use pal_engine::ide::fixes::did_you_mean_fix;
use pal_engine::ide::index::SymbolKind;
use pal_engine::ide::outline::{outline, OutlineItem};
use pal_engine::ide::run::TestSummary;
use pal_engine::ide::{Analysis, Workspace};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The command a lens runs for the tests of a file (`[uri]`) or one test (`[uri, name]`).
pub const RUN_TESTS: &str = "pal.runTests";
/// The command a lens runs for the tests that make a rule fire (`[uri, rule]`).
pub const RUN_RULE_TESTS: &str = "pal.runRuleTests";

/// Serves one client over standard input and output until it asks the server to exit.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    serve(connection)?;
    io_threads.join().map_err(|e| e.to_string())
}

/// Serves one client over `connection`: the handshake, then requests and notifications until
/// `shutdown` and `exit`.
pub fn serve(connection: Connection) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let init: lsp::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let folder = workspace_folder(&init);
    let result = json!({
        "capabilities": capabilities(),
        "serverInfo": { "name": "pal", "version": env!("CARGO_PKG_VERSION") }
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server {
        workspace: Workspace::new(&folder, &[]),
        docs: HashMap::new(),
        analyses: HashMap::new(),
        published: BTreeMap::new(),
        lens_results: HashMap::new(),
        changed: Vec::new(),
        connection: &connection,
        next_request: 0,
    };
    server.main_loop()
}

/// The folder the client opened: its first workspace folder, else its root URI, else the
/// current directory.
fn workspace_folder(init: &lsp::InitializeParams) -> PathBuf {
    let from_folders = init
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .and_then(|f| uri_to_path(&f.uri));
    #[allow(deprecated)]
    let from_root = init.root_uri.as_ref().and_then(uri_to_path);
    from_folders
        .or(from_root)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".into(), "\"".into(), " ".into()]),
            ..Default::default()
        }),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
                ..Default::default()
            },
        )),
        code_lens_provider: Some(lsp::CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(lsp::ExecuteCommandOptions {
            commands: vec![RUN_TESTS.into(), RUN_RULE_TESTS.into()],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An open document.
struct Doc {
    uri: Uri,
    text: String,
}

struct Server<'c> {
    workspace: Workspace,
    /// Open documents by path.
    docs: HashMap<PathBuf, Doc>,
    /// The latest analysis of each root.
    analyses: HashMap<PathBuf, Arc<Analysis>>,
    /// The diagnostics last published, by file, from each root's analysis.
    published: BTreeMap<PathBuf, HashMap<PathBuf, Vec<lsp::Diagnostic>>>,
    /// The last result of each lens's command (file, test or rule name) → title.
    lens_results: HashMap<(PathBuf, String), String>,
    /// Documents changed since their diagnostics were last published: a burst of changes is
    /// analysed once, when no more messages are waiting (or before the next request).
    changed: Vec<PathBuf>,
    connection: &'c Connection,
    next_request: i32,
}

type Handled = Result<Value, (ErrorCode, String)>;

fn bad(e: impl std::fmt::Display) -> (ErrorCode, String) {
    (ErrorCode::InvalidParams, e.to_string())
}

fn params<P: serde::de::DeserializeOwned>(v: Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(v).map_err(bad)
}

fn to_json(v: impl serde::Serialize) -> Handled {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

impl Server<'_> {
    fn main_loop(&mut self) -> Result<(), String> {
        while let Ok(msg) = self.connection.receiver.recv() {
            match msg {
                Message::Request(req) => {
                    self.flush();
                    if self
                        .connection
                        .handle_shutdown(&req)
                        .map_err(|e| e.to_string())?
                    {
                        return Ok(());
                    }
                    let id = req.id.clone();
                    let resp = match self.request(req) {
                        Ok(v) => Response::new_ok(id, v),
                        Err((code, msg)) => Response::new_err(id, code as i32, msg),
                    };
                    self.send(Message::Response(resp));
                }
                Message::Notification(n) if n.method == "exit" => {
                    return Err(
                        "the client asked the server to exit before shutting it down".into(),
                    )
                }
                Message::Notification(n) => self.notification(n),
                Message::Response(_) => {}
            }
            if self.connection.receiver.is_empty() {
                self.flush();
            }
        }
        Ok(())
    }

    /// Analyses the documents changed since the last time, and publishes their diagnostics.
    fn flush(&mut self) {
        for path in std::mem::take(&mut self.changed) {
            self.refresh(&path);
        }
    }

    fn send(&self, msg: Message) {
        // The client has gone when this fails; the loop ends when the receiver closes.
        let _ = self.connection.sender.send(msg);
    }

    fn notify<N: lsp::notification::Notification>(&self, params: N::Params) {
        if let Ok(v) = serde_json::to_value(params) {
            self.send(Message::Notification(Notification::new(
                N::METHOD.into(),
                v,
            )));
        }
    }

    fn request(&mut self, req: Request) -> Handled {
        use lsp::request::*;
        match req.method.as_str() {
            HoverRequest::METHOD => self.hover(params(req.params)?),
            GotoDefinition::METHOD => self.definition(params(req.params)?),
            References::METHOD => self.references(params(req.params)?),
            Completion::METHOD => self.completion(params(req.params)?),
            DocumentSymbolRequest::METHOD => self.symbols(params(req.params)?),
            Formatting::METHOD => self.format(params(req.params)?),
            CodeActionRequest::METHOD => self.code_actions(params(req.params)?),
            CodeLensRequest::METHOD => self.code_lenses(params(req.params)?),
            ExecuteCommand::METHOD => self.execute(params(req.params)?),
            _ => Err((
                ErrorCode::MethodNotFound,
                format!("`{}` is not supported", req.method),
            )),
        }
    }

    fn notification(&mut self, n: Notification) {
        use lsp::notification::*;
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(n.params) {
                    if let Some(path) = uri_to_path(&p.text_document.uri) {
                        self.workspace.set_text(&path, p.text_document.text.clone());
                        self.docs.insert(
                            path.clone(),
                            Doc {
                                uri: p.text_document.uri,
                                text: p.text_document.text,
                            },
                        );
                        self.refresh(&path);
                    }
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(n.params)
                {
                    if let Some(path) = uri_to_path(&p.text_document.uri) {
                        self.change(&path, p.content_changes);
                    }
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidSaveTextDocumentParams>(n.params) {
                    if let Some(path) = uri_to_path(&p.text_document.uri) {
                        self.refresh(&path);
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(n.params) {
                    if let Some(path) = uri_to_path(&p.text_document.uri) {
                        self.docs.remove(&path);
                        self.workspace.remove_text(&path);
                        self.refresh(&path);
                    }
                }
            }
            DidChangeWatchedFiles::METHOD => {
                // Files changed on disk (a checkout, another tool): read the links again and
                // re-check every open document.
                self.workspace.rescan();
                self.analyses.clear();
                let open: Vec<PathBuf> = self.docs.keys().cloned().collect();
                for path in open {
                    self.refresh(&path);
                }
            }
            _ => {}
        }
    }

    /// Applies an editor's changes to a document, in order.
    fn change(&mut self, path: &Path, changes: Vec<lsp::TextDocumentContentChangeEvent>) {
        let Some(doc) = self.docs.get_mut(path) else {
            return;
        };
        for c in changes {
            match c.range {
                Some(range) => {
                    let ix = LineIndex::new(&doc.text);
                    let (start, end) = (ix.offset(range.start), ix.offset(range.end));
                    if start <= end {
                        doc.text.replace_range(start..end, &c.text);
                    }
                }
                None => doc.text = c.text,
            }
        }
        let text = doc.text.clone();
        self.workspace.set_text(path, text);
        if !self.changed.iter().any(|p| p == path) {
            self.changed.push(path.to_path_buf());
        }
    }

    /// Analyses the policy `path` belongs to, and the policies of open documents that build
    /// on it, and publishes their diagnostics.
    fn refresh(&mut self, path: &Path) {
        let mut roots = vec![self.workspace.root_of(path)];
        for d in self.workspace.dependents(path) {
            if self.docs.contains_key(&d) {
                let r = self.workspace.root_of(&d);
                if !roots.contains(&r) {
                    roots.push(r);
                }
            }
        }
        for root in roots {
            let analysis = self.workspace.analyze(&root);
            self.analyses.insert(root.clone(), analysis.clone());
            self.publish(&root, &analysis);
        }
    }

    /// Publishes the diagnostics of one root's analysis, merged with other roots' for the
    /// same files, clearing those of files that no longer have any.
    fn publish(&mut self, root: &Path, a: &Analysis) {
        let mut by_file: HashMap<PathBuf, Vec<lsp::Diagnostic>> = HashMap::new();
        for d in &a.diagnostics {
            let file = match d.primary_span() {
                Some(s) => a.path(s.file),
                None => root.to_path_buf(),
            };
            by_file
                .entry(file)
                .or_default()
                .push(to_lsp_diagnostic(d, &a.sources));
        }
        let old = self.published.insert(root.to_path_buf(), by_file);
        let mut files: HashSet<PathBuf> = old.map(|o| o.into_keys().collect()).unwrap_or_default();
        if let Some(new) = self.published.get(root) {
            files.extend(new.keys().cloned());
        }
        files.insert(root.to_path_buf());
        for f in files {
            let mut all: Vec<lsp::Diagnostic> = Vec::new();
            for per_root in self.published.values() {
                for d in per_root.get(&f).into_iter().flatten() {
                    if !all
                        .iter()
                        .any(|x| x.range == d.range && x.message == d.message && x.code == d.code)
                    {
                        all.push(d.clone());
                    }
                }
            }
            let Some(uri) = self.uri(&f) else { continue };
            let version = None;
            self.notify::<lsp::notification::PublishDiagnostics>(lsp::PublishDiagnosticsParams {
                uri,
                diagnostics: all,
                version,
            });
        }
    }

    fn uri(&self, path: &Path) -> Option<Uri> {
        match self.docs.get(path) {
            Some(d) => Some(d.uri.clone()),
            None => path_to_uri(path),
        }
    }

    /// The current text of `path` (open or on disk).
    fn text(&self, path: &Path) -> Option<String> {
        match self.docs.get(path) {
            Some(d) => Some(d.text.clone()),
            None => self.workspace.text(path),
        }
    }

    /// The latest analysis of the policy `path` belongs to, and `path`'s id in it.
    fn analysis(&mut self, path: &Path) -> Option<(Arc<Analysis>, FileId)> {
        let root = self.workspace.root_of(path);
        let a = match self.analyses.get(&root) {
            Some(a) => a.clone(),
            None => {
                let a = self.workspace.analyze(path);
                self.analyses.insert(root, a.clone());
                a
            }
        };
        let id = a.file_id(path)?;
        Some((a, id))
    }

    /// The analysis, file id and byte offset of a position.
    fn at(&mut self, p: &lsp::TextDocumentPositionParams) -> Option<(Arc<Analysis>, FileId, u32)> {
        let path = uri_to_path(&p.text_document.uri)?;
        let (a, id) = self.analysis(&path)?;
        let text = &a.sources.get(id).text;
        let offset = LineIndex::new(text).offset(p.position);
        Some((a, id, offset as u32))
    }

    fn location(&self, a: &Analysis, loc: &pal_engine::ide::Location) -> Option<lsp::Location> {
        let text = &a.sources.get(loc.span.file).text;
        Some(lsp::Location::new(
            self.uri(&loc.path)?,
            LineIndex::new(text).range(loc.span.start as usize, loc.span.end as usize),
        ))
    }

    fn hover(&mut self, p: lsp::HoverParams) -> Handled {
        let Some((a, id, offset)) = self.at(&p.text_document_position_params) else {
            return Ok(Value::Null);
        };
        let Some(h) = a.hover(id, offset) else {
            return Ok(Value::Null);
        };
        let text = &a.sources.get(id).text;
        to_json(lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: h.markdown,
            }),
            range: Some(LineIndex::new(text).range(h.span.start as usize, h.span.end as usize)),
        })
    }

    fn definition(&mut self, p: lsp::GotoDefinitionParams) -> Handled {
        let Some((a, id, offset)) = self.at(&p.text_document_position_params) else {
            return Ok(Value::Null);
        };
        match a.definition(id, offset).and_then(|l| self.location(&a, &l)) {
            Some(l) => to_json(lsp::GotoDefinitionResponse::Scalar(l)),
            None => Ok(Value::Null),
        }
    }

    fn references(&mut self, p: lsp::ReferenceParams) -> Handled {
        let Some((a, id, offset)) = self.at(&p.text_document_position) else {
            return Ok(Value::Null);
        };
        let locs: Vec<lsp::Location> = a
            .references(id, offset, p.context.include_declaration)
            .iter()
            .filter_map(|l| self.location(&a, l))
            .collect();
        to_json(locs)
    }

    fn completion(&mut self, p: lsp::CompletionParams) -> Handled {
        let pos = &p.text_document_position;
        let Some(path) = uri_to_path(&pos.text_document.uri) else {
            return Ok(Value::Null);
        };
        let Some(text) = self.text(&path) else {
            return Ok(Value::Null);
        };
        let offset = LineIndex::new(&text).offset(pos.position);
        let a = match self.workspace.last_good(&path) {
            Some(a) => a,
            None => match self.analysis(&path) {
                Some((a, _)) => a,
                None => return Ok(Value::Null),
            },
        };
        let items: Vec<lsp::CompletionItem> = a
            .completions(&text, offset)
            .into_iter()
            .map(|c| lsp::CompletionItem {
                label: c.label,
                kind: Some(completion_kind(c.kind)),
                detail: c.detail,
                ..Default::default()
            })
            .collect();
        to_json(lsp::CompletionResponse::Array(items))
    }

    fn symbols(&mut self, p: lsp::DocumentSymbolParams) -> Handled {
        let Some(text) = uri_to_path(&p.text_document.uri).and_then(|path| self.text(&path)) else {
            return Ok(Value::Null);
        };
        let ix = LineIndex::new(&text);
        let symbols: Vec<lsp::DocumentSymbol> = outline(FileId(0), &text)
            .iter()
            .map(|o| document_symbol(o, &ix))
            .collect();
        to_json(lsp::DocumentSymbolResponse::Nested(symbols))
    }

    fn format(&mut self, p: lsp::DocumentFormattingParams) -> Handled {
        let Some(text) = uri_to_path(&p.text_document.uri).and_then(|path| self.text(&path)) else {
            return Ok(Value::Null);
        };
        // A file that does not parse is left as it is (its syntax error is a diagnostic).
        let Ok(formatted) = pal_engine::syntax::format::format_source(FileId(0), &text) else {
            return Ok(Value::Null);
        };
        if formatted == text {
            return to_json(Vec::<lsp::TextEdit>::new());
        }
        to_json(vec![lsp::TextEdit::new(
            LineIndex::new(&text).all(),
            formatted,
        )])
    }

    // `WorkspaceEdit::changes` is keyed by `Uri`, whose parsed form caches data inside; a key
    // is never changed once inserted.
    #[allow(clippy::mutable_key_type)]
    fn code_actions(&mut self, p: lsp::CodeActionParams) -> Handled {
        let mut actions = Vec::new();
        for d in &p.context.diagnostics {
            let Some(fix) = d
                .data
                .as_ref()
                .and_then(|v| serde_json::from_value::<FixData>(v.clone()).ok())
            else {
                continue;
            };
            let edit = lsp::TextEdit::new(fix.range, fix.replacement);
            let mut changes = HashMap::new();
            changes.insert(p.text_document.uri.clone(), vec![edit]);
            actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title: fix.title,
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                edit: Some(lsp::WorkspaceEdit {
                    changes: Some(changes),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }));
        }
        to_json(actions)
    }

    fn code_lenses(&mut self, p: lsp::CodeLensParams) -> Handled {
        let uri = p.text_document.uri;
        let Some(path) = uri_to_path(&uri) else {
            return Ok(Value::Null);
        };
        let Some(text) = self.text(&path) else {
            return Ok(Value::Null);
        };
        let ix = LineIndex::new(&text);
        let mut lenses = Vec::new();
        for o in outline(FileId(0), &text) {
            let (command, default_title) = match o.kind {
                SymbolKind::Test => (RUN_TESTS, "▶ Run test"),
                SymbolKind::Rule => (RUN_RULE_TESTS, "▶ Run the tests that fire this rule"),
                _ => continue,
            };
            let title = self
                .lens_results
                .get(&(path.clone(), o.name.clone()))
                .map(|r| format!("▶ Run again ({r})"))
                .unwrap_or_else(|| default_title.into());
            let line = ix.position(o.span.start as usize);
            lenses.push(lsp::CodeLens {
                range: lsp::Range::new(line, line),
                command: Some(lsp::Command {
                    title,
                    command: command.into(),
                    arguments: Some(vec![json!(uri.as_str()), json!(o.name)]),
                }),
                data: None,
            });
        }
        to_json(lenses)
    }

    /// Runs a lens's command: the tests, then the result as a message and in the lens's title.
    fn execute(&mut self, p: lsp::ExecuteCommandParams) -> Handled {
        let arg = |i: usize| {
            p.arguments
                .get(i)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let uri: Uri = arg(0)
            .and_then(|u| u.parse().ok())
            .ok_or_else(|| bad("the first argument is the document's URI"))?;
        let path = uri_to_path(&uri).ok_or_else(|| bad("not a file URI"))?;
        let name = arg(1);
        let (summary, what) = match p.command.as_str() {
            RUN_TESTS => {
                let (a, id) = self
                    .analysis(&path)
                    .ok_or_else(|| bad("the file is not part of a policy"))?;
                let what = match &name {
                    Some(n) => format!("test \"{n}\""),
                    None => format!("tests of {}", path.display()),
                };
                (a.run_tests(id, name.as_deref()), what)
            }
            RUN_RULE_TESTS => {
                let rule = name
                    .clone()
                    .ok_or_else(|| bad("the second argument is the rule"))?;
                (
                    self.workspace.run_rule_tests(&path, &rule),
                    format!("tests that fire `{rule}`"),
                )
            }
            other => return Err(bad(format!("unknown command `{other}`"))),
        };
        let line = if summary.outcomes.is_empty() && summary.broken.is_empty() {
            "no tests".to_string()
        } else {
            summary.line()
        };
        if let Some(n) = &name {
            self.lens_results
                .insert((path.clone(), n.clone()), short_result(&summary));
        }
        let failed = summary.outcomes.iter().any(|o| !o.passed()) || !summary.broken.is_empty();
        self.notify::<lsp::notification::ShowMessage>(lsp::ShowMessageParams {
            typ: if failed {
                lsp::MessageType::ERROR
            } else {
                lsp::MessageType::INFO
            },
            message: format!("PAL {what}: {line}"),
        });
        // Ask the client to fetch the lenses again, so their titles show the result.
        self.next_request += 1;
        self.send(Message::Request(Request::new(
            RequestId::from(format!("pal-{}", self.next_request)),
            lsp::request::CodeLensRefresh::METHOD.into(),
            Value::Null,
        )));
        Ok(json!({
            "passed": summary.outcomes.iter().filter(|o| o.passed()).count(),
            "failed": summary.outcomes.iter().filter(|o| !o.passed()).count(),
            "summary": line,
        }))
    }
}

/// "✓ 3 passed" or "✗ 1 of 3 failed".
fn short_result(s: &TestSummary) -> String {
    let failed = s.outcomes.iter().filter(|o| !o.passed()).count();
    if !s.broken.is_empty() {
        "✗ the policy has errors".into()
    } else if s.outcomes.is_empty() {
        "no tests".into()
    } else if failed == 0 {
        format!("✓ {} passed", s.outcomes.len())
    } else {
        format!("✗ {failed} of {} failed", s.outcomes.len())
    }
}

/// A quick fix carried in a diagnostic's `data`, so that a code action needs no new analysis.
#[derive(serde::Serialize, serde::Deserialize)]
struct FixData {
    title: String,
    range: lsp::Range,
    replacement: String,
}

/// The protocol's form of an engine diagnostic: its primary label's range; its message with
/// the primary label's text, notes and help; other labels as related information; a
/// did-you-mean as fix data.
pub fn to_lsp_diagnostic(d: &Diagnostic, sources: &SourceMap) -> lsp::Diagnostic {
    let primary = d.labels.iter().find(|l| l.primary).or(d.labels.first());
    let range = primary
        .map(|l| {
            let text = &sources.get(l.span.file).text;
            LineIndex::new(text).range(l.span.start as usize, l.span.end as usize)
        })
        .unwrap_or_default();
    let mut message = d.message.clone();
    if let Some(l) = primary.filter(|l| !l.message.is_empty()) {
        message.push_str(&format!(": {}", l.message));
    }
    for n in &d.notes {
        message.push_str(&format!("\nnote: {n}"));
    }
    if let Some(h) = &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .filter_map(|l| {
            let file = sources.get(l.span.file);
            let uri = path_to_uri(Path::new(&file.name))?;
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(
                    uri,
                    LineIndex::new(&file.text).range(l.span.start as usize, l.span.end as usize),
                ),
                message: l.message.clone(),
            })
        })
        .collect();
    let data = did_you_mean_fix(d, sources).and_then(|f| {
        let text = &sources.get(f.span.file).text;
        serde_json::to_value(FixData {
            title: f.title,
            range: LineIndex::new(text).range(f.span.start as usize, f.span.end as usize),
            replacement: f.replacement,
        })
        .ok()
    });
    lsp::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        source: Some("pal".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        data,
        ..Default::default()
    }
}

fn completion_kind(k: CompletionKind) -> lsp::CompletionItemKind {
    use lsp::CompletionItemKind as K;
    match k {
        CompletionKind::EventType => K::EVENT,
        CompletionKind::Field => K::FIELD,
        CompletionKind::Enum => K::ENUM,
        CompletionKind::Variant => K::ENUM_MEMBER,
        CompletionKind::Param => K::CONSTANT,
        CompletionKind::Def => K::VARIABLE,
        CompletionKind::Clock => K::CLASS,
        CompletionKind::Rule => K::FUNCTION,
        CompletionKind::Citation => K::REFERENCE,
        CompletionKind::Function => K::FUNCTION,
        CompletionKind::Keyword => K::KEYWORD,
        CompletionKind::Type => K::TYPE_PARAMETER,
    }
}

fn symbol_kind(k: SymbolKind) -> lsp::SymbolKind {
    use lsp::SymbolKind as K;
    match k {
        SymbolKind::Policy => K::MODULE,
        SymbolKind::EventType => K::EVENT,
        SymbolKind::Field | SymbolKind::PathwayAttribute => K::FIELD,
        SymbolKind::Enum => K::ENUM,
        SymbolKind::Variant => K::ENUM_MEMBER,
        SymbolKind::Clock => K::CLASS,
        SymbolKind::Param => K::CONSTANT,
        SymbolKind::Def => K::VARIABLE,
        SymbolKind::Rule => K::FUNCTION,
        SymbolKind::Test => K::METHOD,
    }
}

#[allow(deprecated)] // `deprecated` is a required field of the struct
fn document_symbol(o: &OutlineItem, ix: &LineIndex) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name: o.name.clone(),
        detail: o.detail.clone(),
        kind: symbol_kind(o.kind),
        tags: None,
        deprecated: None,
        range: ix.range(o.span.start as usize, o.span.end as usize),
        selection_range: ix.range(o.name_span.start as usize, o.name_span.end as usize),
        children: (!o.children.is_empty())
            .then(|| o.children.iter().map(|c| document_symbol(c, ix)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pal_engine::base::diagnostic::Code;
    use pal_engine::base::source::Span;

    #[test]
    fn a_diagnostic_keeps_its_labels_help_and_fix() {
        let mut sources = SourceMap::new();
        let a = sources.add(
            "/p/trust.pal",
            "// café\nrule r on /* é */ dnaa { outcome x }\n",
        );
        let b = sources.add("/p/national.pal", "event dna\n");
        let at = sources.get(a).text.find("dnaa").expect("dnaa");
        let d = Diagnostic::new(Code::E0101, "unknown event type `dnaa`")
            .primary(Span::new(a, at..at + 4), "not an event type")
            .secondary(Span::new(b, 6..9), "declared here")
            .note("imported from national.pal")
            .help("did you mean `dna`?");
        let l = to_lsp_diagnostic(&d, &sources);
        // "rule r on /* é */ " is 18 UTF-16 units (19 bytes).
        let range = lsp::Range::new(lsp::Position::new(1, 18), lsp::Position::new(1, 22));
        assert_eq!(l.range, range);
        assert_eq!(l.code, Some(lsp::NumberOrString::String("E0101".into())));
        assert_eq!(l.severity, Some(lsp::DiagnosticSeverity::ERROR));
        assert_eq!(
            l.message,
            "unknown event type `dnaa`: not an event type\nnote: imported from national.pal\nhelp: did you mean `dna`?"
        );
        let related = l.related_information.expect("related");
        assert_eq!(related.len(), 1);
        assert_eq!(related[0].location.uri.as_str(), "file:///p/national.pal");
        assert_eq!(
            related[0].location.range,
            lsp::Range::new(lsp::Position::new(0, 6), lsp::Position::new(0, 9))
        );
        let fix: FixData = serde_json::from_value(l.data.expect("fix data")).expect("fix");
        assert_eq!(fix.range, range);
        assert_eq!(fix.replacement, "dna");
        // A warning without a did-you-mean has no fix.
        let w = Diagnostic::new(Code::W0001, "no citation").primary(Span::new(a, 8..12), "");
        let l = to_lsp_diagnostic(&w, &sources);
        assert_eq!(l.severity, Some(lsp::DiagnosticSeverity::WARNING));
        assert_eq!(l.data, None);
        assert_eq!(l.message, "no citation");
    }
}
