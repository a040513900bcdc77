//! The CSV and JSON Lines readers: the whole file read at once, read in chunks of every size
//! from 1 byte up, and streamed, must agree; `--strict` must stop at exactly the first
//! rejection of the lenient read; every row must be accounted for.
//!
//! The first byte chooses the format, the as-at date and a chunk size; the rest is the file,
//! read with the schema of `policies/rde.pal`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pal_engine::io::events::{
    for_each_pathway_in_chunks, read_events, read_events_in_chunks, EventSet, InputFormat,
    ReadError, ReadOptions, SplitLimits, LIMITS,
};
use std::ops::ControlFlow;

mod common;

/// What a streaming read saw, as text (pathways and rejections in the order they came).
fn stream(text: &[u8], format: InputFormat, opts: &ReadOptions, limits: SplitLimits) -> String {
    let seen = std::cell::RefCell::new(Vec::new());
    let tally = for_each_pathway_in_chunks(
        text,
        "fuzz",
        format,
        opts,
        limits,
        |p| {
            seen.borrow_mut().push(format!("{p:?}"));
            ControlFlow::Continue(())
        },
        |r| seen.borrow_mut().push(format!("{r:?}")),
    );
    if let Ok(t) = &tally {
        assert_eq!(
            t.rows_read,
            t.rows_evaluated + t.rows_rejected + t.rows_after_as_at,
            "streaming lost a row"
        );
    }
    format!("{tally:?} {:?}", seen.into_inner())
}

fn account(set: &EventSet) {
    assert_eq!(
        set.rows_read,
        set.rows_evaluated + set.rejected.len() as u64 + set.rows_after_as_at,
        "a row is unaccounted for"
    );
    let events: u64 = set.pathways.iter().map(|p| p.events.len() as u64).sum();
    assert_eq!(events, set.rows_evaluated);
}

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, text)) = data.split_first() else {
        return;
    };
    let format = if knobs & 1 == 0 {
        InputFormat::Csv
    } else {
        InputFormat::JsonLines
    };
    let as_at = match (knobs >> 1) & 3 {
        0 => None,
        1 => pal_engine::base::value::parse_date("2025-03-31"),
        2 => pal_engine::base::value::parse_date("2024-06-01"),
        _ => pal_engine::base::value::parse_date("9999-12-31"),
    };
    let policy = common::rde();
    let lenient = ReadOptions {
        schema: &policy.schema,
        mapping: None,
        as_at,
        strict: false,
    };
    let strict = ReadOptions {
        strict: true,
        ..lenient
    };
    let whole = read_events(text, "fuzz", format, &lenient);
    if let Ok(set) = &whole {
        account(set);
    }
    let whole_text = format!("{whole:?}");
    let streamed = stream(text, format, &lenient, LIMITS);
    // Every chunk size for small inputs; a spread of them for larger ones (one of them
    // chosen by the input).
    let n = text.len();
    let sizes: Vec<usize> = if n <= 48 {
        (1..=n + 1).collect()
    } else {
        vec![1, 5, (knobs as usize >> 3) + 2, n / 3 + 1, n - 1, n + 1]
    };
    for chunk_bytes in sizes {
        let limits = SplitLimits {
            chunk_bytes: chunk_bytes.max(1),
            ..LIMITS
        };
        let chunked = read_events_in_chunks(text, "fuzz", format, &lenient, limits);
        assert_eq!(
            format!("{chunked:?}"),
            whole_text,
            "{chunk_bytes}-byte chunks"
        );
        assert_eq!(
            stream(text, format, &lenient, limits),
            streamed,
            "streaming in {chunk_bytes}-byte chunks"
        );
    }
    // Strict: fails at the first rejection of the lenient read, or reads the same.
    let strict_read = read_events(text, "fuzz", format, &strict);
    match (&whole, &strict_read) {
        (Ok(set), Err(ReadError::Strict(r))) => {
            assert_eq!(set.rejected.first(), Some(r), "strict stopped elsewhere");
        }
        (Ok(set), Ok(s)) => {
            assert!(set.rejected.is_empty(), "strict accepted a rejected row");
            assert_eq!(format!("{:?}", Ok::<_, ()>(s)), whole_text);
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("lenient {a:?} but strict {b:?}"),
    }
    // Streaming agrees with the whole read when the rows came grouped by pathway.
    if let Ok(set) = &whole {
        if !streamed.contains("are not adjacent") {
            let mut ids = Vec::new();
            let _ = for_each_pathway_in_chunks(
                text,
                "fuzz",
                format,
                &lenient,
                LIMITS,
                |p| {
                    ids.push((p.id, p.events));
                    ControlFlow::Continue(())
                },
                |_| {},
            );
            let want: Vec<_> = set
                .pathways
                .iter()
                .map(|p| (p.id.clone(), p.events.clone()))
                .collect();
            assert_eq!(ids, want, "streaming and whole reads disagree");
        }
    }
});
