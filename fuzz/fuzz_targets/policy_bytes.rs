//! The policy front end on raw bytes: UTF-8 and binary checks, parse, load, check, render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pal_engine::base::source::SourceMap;
use pal_engine::front::loader::source_from_bytes;

mod common;

fuzz_target!(|data: &[u8]| {
    let mut sources = SourceMap::new();
    if source_from_bytes("fuzz.pal", data.to_vec(), &mut sources).is_err() {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if common::names_outside(text) {
        return;
    }
    let _ = common::check_text(text);
});
