//! A text timeline of a pathway: its events and each clock's periods drawn along the dates
//! (`=` running, `|` stopped, `x` nullified, `>` still running at the as-at date).

use crate::model::event::Event;
use crate::model::schema::Schema;
use crate::runtime::eval::{PathwayResult, PeriodStatus};
use chrono::NaiveDate;
use std::fmt::Write as _;

/// Draws the timeline `width` columns wide.
pub fn draw(r: &PathwayResult, events: &[Event], schema: Option<&Schema>, width: usize) -> String {
    let width = width.max(10);
    let first = events
        .iter()
        .map(|e| e.date)
        .chain(r.clocks.iter().map(|p| p.start))
        .min();
    let Some(start) = first else {
        return "no events yet".into();
    };
    let end = r.as_at.max(start);
    let span = (end - start).num_days().max(1);
    let col = |d: NaiveDate| -> usize {
        let off = (d - start).num_days().clamp(0, span);
        (off as usize * (width - 1)) / span as usize
    };
    let label_width = r
        .clocks
        .iter()
        .map(|p| p.clock.len())
        .max()
        .unwrap_or(0)
        .max("events".len());
    let mut out = String::new();
    let right = end.to_string();
    let gap = (width + 2).saturating_sub(10 + right.len());
    let _ = writeln!(
        out,
        "{:label_width$}  {start}{}{right}",
        "",
        " ".repeat(gap)
    );
    let mut clock_names: Vec<&str> = Vec::new();
    for p in &r.clocks {
        if !clock_names.contains(&p.clock.as_str()) {
            clock_names.push(&p.clock);
        }
    }
    for name in clock_names {
        let mut row = vec![' '; width];
        for p in r.clocks.iter().filter(|p| p.clock == name) {
            let a = col(p.start);
            let b = col(p.stop.unwrap_or(end));
            for c in row.iter_mut().take(b + 1).skip(a) {
                *c = '=';
            }
            row[b] = match p.status {
                PeriodStatus::Stopped => '|',
                PeriodStatus::Nullified => 'x',
                PeriodStatus::Paused => '-',
                _ => '>',
            };
        }
        let _ = writeln!(
            out,
            "{name:label_width$}  {}",
            row.iter().collect::<String>().trim_end()
        );
    }
    let mut row = vec![' '; width];
    for e in events {
        row[col(e.date)] = '*';
    }
    let _ = writeln!(
        out,
        "{:label_width$}  {}",
        "events",
        row.iter().collect::<String>().trim_end()
    );
    let mut sorted: Vec<&Event> = events.iter().collect();
    match schema {
        Some(s) => s.same_day.sort(&mut sorted),
        None => crate::model::event::SameDayOrder::default().sort(&mut sorted),
    }
    for e in sorted {
        let name = schema
            .and_then(|s| s.events.get(e.kind as usize))
            .map(|d| d.name.as_str())
            .unwrap_or("?");
        let _ = writeln!(out, "  {} {name}", e.date);
    }
    out.trim_end().to_string()
}
