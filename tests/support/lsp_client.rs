//! A minimal Language Server Protocol client for tests and benchmarks: starts the real `pal lsp`
//! binary and speaks JSON-RPC to it over its standard input and output, as an editor does.
//! Included with `#[path]` by `tests/lsp.rs` and `benches/lsp_response.rs`.

// Each user takes what it needs: the benchmark does not read messages, the test does.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// How long any one answer may take before the caller fails (a hang guard, not a timing).
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A running `pal lsp` and the messages it has sent.
pub struct Client {
    /// The server process.
    pub child: Child,
    /// Its standard input (dropped to close it).
    pub stdin: Option<ChildStdin>,
    from_server: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for something else.
    pending: Vec<Value>,
}

impl Drop for Client {
    fn drop(&mut self) {
        // A test that failed half-way leaves no server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    pub fn start(pal: &Path, root: &Path) -> Client {
        let mut child = Command::new(pal)
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("`pal lsp` starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let stdin = child.stdin.take();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_message(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            from_server: rx,
            next_id: 0,
            pending: Vec::new(),
        }
    }

    pub fn send(&mut self, v: Value) {
        let body = v.to_string();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to the server");
        stdin.flush().expect("flush");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    pub fn next(&mut self) -> Value {
        self.from_server
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no message from `pal lsp` within {PATIENCE:?}"))
    }

    /// Sends a request and returns its result, answering the server's own requests (a lens
    /// refresh) and keeping notifications for later.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.next();
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
            if m.get("id").is_some() && m.get("method").is_some() {
                let reply = json!({"jsonrpc": "2.0", "id": m["id"], "result": null});
                self.send(reply);
            } else {
                self.pending.push(m);
            }
        }
    }

    /// The next diagnostics published for `uri`.
    pub fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let at = self.pending.iter().position(|m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
            });
            if let Some(i) = at {
                let m = self.pending.remove(i);
                return m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            let m = self.next();
            self.pending.push(m);
        }
    }

    /// The next `window/showMessage`.
    pub fn message(&mut self) -> Value {
        loop {
            if let Some(i) = self
                .pending
                .iter()
                .position(|m| m["method"] == "window/showMessage")
            {
                return self.pending.remove(i)["params"].clone();
            }
            let m = self.next();
            self.pending.push(m);
        }
    }
}

/// The `file:` URI of an absolute path (the test paths need no escaping).
pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}
