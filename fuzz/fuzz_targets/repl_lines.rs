//! The REPL's line handler (`services::repl::Session::handle`) under `policies/rde.pal`: each
//! input line is an event, a declaration, an expression or a command. Commands that touch the
//! file system (`:save`, `:load`, `:reload`) are left out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pal_engine::services::repl::{Flow, Session};
use std::sync::OnceLock;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if common::names_outside(text) || text.len() > 4096 {
        return;
    }
    // Loaded once; every input starts from a fresh copy, so runs never depend on each other.
    static LOADED: OnceLock<Session> = OnceLock::new();
    let mut session = LOADED
        .get_or_init(|| Session::new(Some(&common::policies_dir().join("rde.pal")), false).0)
        .clone();
    for line in text.split('\n') {
        let command = line.trim_start();
        if command.starts_with(":save")
            || command.starts_with(":load")
            || command.starts_with(":reload")
        {
            continue;
        }
        if let (_, Flow::Quit) = session.handle(line) {
            break;
        }
    }
});
