//! The human form of a diff: laid out for a board paper (what changes in the policy, the
//! effect on the position, who moves and why, examples), plain text, no colour.

use super::compare::PathwayDiff;
use super::extract::{ExtractDiff, PositionRow};
use super::structural::PolicyChanges;
use super::timeline::{Side, Timeline};
use std::fmt::Write as _;

/// Width of each side of a side-by-side timeline.
const SIDE: usize = 42;

/// A position figure: `92.4%` or `1234`, `—` when not measured.
pub(super) fn number(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "—".into(),
        Some(x) if unit == "percent" => format!("{x:.1}%"),
        Some(x) => format!("{x:.0}"),
    }
}

/// A position change: `+1.2 pts`, `-3`, `0`, `—`.
pub(super) fn signed(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "—".into(),
        Some(0.0) => "0".into(),
        Some(x) if unit == "percent" => format!("{x:+.1} pts"),
        Some(x) => format!("{x:+.0}"),
    }
}

/// The policy changes, one line each.
pub fn policy_changes(c: &PolicyChanges, out: &mut String) {
    if c.is_empty() {
        let _ = writeln!(out, "  none: the two policies are the same, item for item");
        return;
    }
    for p in &c.params {
        let cite = if p.cite.is_empty() {
            String::new()
        } else {
            format!("  [{}]", p.cite.join("; "))
        };
        let _ = writeln!(
            out,
            "  parameter {}: {} → {}{cite}",
            p.name,
            p.old.as_deref().unwrap_or("(none)"),
            p.new.as_deref().unwrap_or("(none)")
        );
    }
    for r in &c.rules {
        let how = r.change.label();
        let _ = writeln!(out, "  rule {}: {how}  [{}]", r.name, r.cite.join(", "));
    }
    for d in &c.defs {
        let _ = writeln!(out, "  definition {d}: rewritten");
    }
    for k in &c.clocks {
        let _ = writeln!(out, "  clock {k}: target or standard changed");
    }
}

fn position(rows: &[PositionRow], out: &mut String) {
    let label = |r: &PositionRow| match &r.clock {
        Some(c) => format!("{c}: {}", r.measure),
        None => r.measure.clone(),
    };
    let w = rows
        .iter()
        .map(|r| label(r).chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    let _ = writeln!(
        out,
        "  {:<w$}  {:>9}  {:>9}  {:>10}",
        "measure", "old", "new", "change"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "  {:<w$}  {:>9}  {:>9}  {:>10}",
            label(r),
            number(r.old, r.unit),
            number(r.new, r.unit),
            signed(r.change, r.unit)
        );
    }
}

/// One changed pathway, one line per difference (indented by `indent`).
pub fn pathway_diff(d: &PathwayDiff, indent: &str, out: &mut String) {
    let date = |x: Option<chrono::NaiveDate>| x.map_or("—".to_string(), |d| d.to_string());
    for c in &d.clocks {
        let parts: Vec<String> = c
            .changed
            .iter()
            .map(|f| {
                use super::compare::PeriodField as F;
                let (a, b) = (c.old.as_ref(), c.new.as_ref());
                let (x, y) = match f {
                    F::Existence => (
                        a.map_or("none".into(), |p| format!("{} from {}", p.status, p.start)),
                        b.map_or("none".into(), |p| format!("{} from {}", p.status, p.start)),
                    ),
                    F::Status => (
                        a.map_or("—".into(), |p| p.status.to_string()),
                        b.map_or("—".into(), |p| p.status.to_string()),
                    ),
                    F::Start => (date(a.map(|p| p.start)), date(b.map(|p| p.start))),
                    F::Stop => (date(a.and_then(|p| p.stop)), date(b.and_then(|p| p.stop))),
                    F::Reason => (
                        a.and_then(|p| p.reason)
                            .map_or("—".into(), |r| r.to_string()),
                        b.and_then(|p| p.reason)
                            .map_or("—".into(), |r| r.to_string()),
                    ),
                    F::DaysWaited => (
                        a.and_then(|p| p.days_waited)
                            .map_or("—".into(), |d| d.to_string()),
                        b.and_then(|p| p.days_waited)
                            .map_or("—".into(), |d| d.to_string()),
                    ),
                    F::BreachDate => (
                        // The breach date is the day after the last day within target.
                        date(a.map(|p| p.target_date.succ_opt().unwrap_or(p.target_date))),
                        date(b.map(|p| p.target_date.succ_opt().unwrap_or(p.target_date))),
                    ),
                    F::Breached => (
                        a.map_or("—".into(), |p| {
                            if p.breached { "yes" } else { "no" }.into()
                        }),
                        b.map_or("—".into(), |p| {
                            if p.breached { "yes" } else { "no" }.into()
                        }),
                    ),
                };
                format!("{} {x} → {y}", f.label())
            })
            .collect();
        let _ = writeln!(
            out,
            "{indent}{} period {}: {}",
            c.clock,
            c.period,
            parts.join("; ")
        );
    }
    for o in &d.outcomes_lost {
        let _ = writeln!(
            out,
            "{indent}outcome {} on {}: old only  [{}]",
            o.outcome, o.date, o.cite
        );
    }
    for o in &d.outcomes_gained {
        let _ = writeln!(
            out,
            "{indent}outcome {} on {}: new only  [{}]",
            o.outcome, o.date, o.cite
        );
    }
    for o in &d.obligations_lost {
        let _ = writeln!(
            out,
            "{indent}obligation {} due {} ({}): old only",
            o.what, o.due, o.status
        );
    }
    for o in &d.obligations_gained {
        let _ = writeln!(
            out,
            "{indent}obligation {} due {} ({}): new only",
            o.what, o.due, o.status
        );
    }
    for c in &d.conflicts_lost {
        let _ = writeln!(
            out,
            "{indent}conflict on {} ({}): old only",
            c.date,
            crate::base::name::join(&c.rules, ", ")
        );
    }
    for c in &d.conflicts_gained {
        let _ = writeln!(
            out,
            "{indent}conflict on {} ({}): new only",
            c.date,
            crate::base::name::join(&c.rules, ", ")
        );
    }
    for w in &d.warnings_lost {
        let _ = writeln!(
            out,
            "{indent}warning on {}: old only: {}",
            w.date, w.message
        );
    }
    for w in &d.warnings_gained {
        let _ = writeln!(
            out,
            "{indent}warning on {}: new only: {}",
            w.date, w.message
        );
    }
}

/// Splits `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn side_lines(s: &Option<Side>) -> Vec<String> {
    match s {
        None => vec!["(no such step)".into()],
        Some(s) => {
            let fired = if s.fired.is_empty() {
                "nothing fired".to_string()
            } else {
                s.fired.join(", ")
            };
            let mut out = wrap(&fired, SIDE);
            for c in &s.clocks {
                out.extend(wrap(&format!("· {c}"), SIDE));
            }
            out
        }
    }
}

/// A timeline with the two policies side by side; rows that differ are marked `*` and shown
/// in two columns, the others on one line.
pub fn timeline(t: &Timeline, old_name: &str, new_name: &str, indent: &str, out: &mut String) {
    let head = format!("old: {old_name}");
    let _ = writeln!(out, "{indent}    {head:<SIDE$}│ new: {new_name}");
    // Steps the same under both are shown next to a step that differs (and the first step);
    // longer runs of them are counted, not shown.
    let near = |i: usize| {
        i == 0
            || t.rows[i.saturating_sub(1)..(i + 2).min(t.rows.len())]
                .iter()
                .any(|r| r.differs)
    };
    let mut skipped = 0;
    for (i, r) in t.rows.iter().enumerate() {
        if !r.differs && !near(i) {
            skipped += 1;
            continue;
        }
        if skipped > 0 {
            let _ = writeln!(
                out,
                "{indent}  … {skipped} step{} the same under both",
                if skipped == 1 { "" } else { "s" }
            );
            skipped = 0;
        }
        if !r.differs {
            // The same under both: one line, what fired.
            let fired = r
                .old
                .as_ref()
                .map(|s| s.fired.join(", "))
                .unwrap_or_default();
            let same = if fired.is_empty() {
                String::new()
            } else {
                format!("  (both: {fired})")
            };
            let _ = writeln!(out, "{indent}  {} {}{same}", r.date, r.event);
            continue;
        }
        let _ = writeln!(out, "{indent}* {} {}", r.date, r.event);
        let (a, b) = (side_lines(&r.old), side_lines(&r.new));
        for k in 0..a.len().max(b.len()) {
            let _ = writeln!(
                out,
                "{indent}    {:<SIDE$}│ {}",
                a.get(k).map_or("", String::as_str),
                b.get(k).map_or("", String::as_str),
            );
        }
    }
    if skipped > 0 {
        let _ = writeln!(
            out,
            "{indent}  … {skipped} step{} the same under both",
            if skipped == 1 { "" } else { "s" }
        );
    }
}

/// The whole report.
pub fn extract_report(d: &ExtractDiff, old_file: &str, new_file: &str, events: &str) -> String {
    let mut out = String::new();
    let c = &d.counts;
    let _ = writeln!(out, "Policy impact as at {}", d.as_at);
    let _ = writeln!(out, "  old: {old_file} ({})", d.old_policy);
    let _ = writeln!(out, "  new: {new_file} ({})", d.new_policy);
    let _ = writeln!(
        out,
        "  events: {events}: {} rows read, {} evaluated, {} rejected, {} after the as-at date; {} pathways",
        c.rows_read, c.rows_evaluated, c.rows_rejected, c.rows_after_as_at, c.pathways
    );
    let _ = writeln!(out, "\n1. What changes in the policy");
    policy_changes(&d.policy_changes, &mut out);
    let _ = writeln!(out, "\n2. Effect on the position");
    position(&d.position, &mut out);
    let pct = if c.pathways > 0 {
        format!(
            " ({:.1}%)",
            100.0 * d.changed_pathways as f64 / c.pathways as f64
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\n3. Pathways that change: {} of {}{pct}",
        d.changed_pathways, c.pathways
    );
    let t = &d.tally;
    for (k, n) in &t.clock_fields {
        let _ = writeln!(out, "  {k} differs: {n}");
    }
    if t.breaches_gained + t.breaches_lost > 0 {
        let _ = writeln!(
            out,
            "  breach of the standard: {} newly breached, {} no longer breached",
            t.breaches_gained, t.breaches_lost
        );
    }
    for (k, n) in &t.outcomes_gained {
        let _ = writeln!(out, "  outcome {k}: gained on {n}");
    }
    for (k, n) in &t.outcomes_lost {
        let _ = writeln!(out, "  outcome {k}: lost on {n}");
    }
    for (k, n) in &t.obligations_gained {
        let _ = writeln!(out, "  obligation {k}: gained on {n}");
    }
    for (k, n) in &t.obligations_lost {
        let _ = writeln!(out, "  obligation {k}: lost on {n}");
    }
    for (what, g, l) in [
        ("conflicts", t.conflicts_gained, t.conflicts_lost),
        ("warnings", t.warnings_gained, t.warnings_lost),
    ] {
        if g + l > 0 {
            let _ = writeln!(out, "  {what}: new on {g}, gone on {l}");
        }
    }
    let _ = writeln!(out, "\n4. Why: the rules whose firing differs");
    if d.causes.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for cause in &d.causes {
        let cite = if cause.cite.is_empty() {
            String::new()
        } else {
            format!("  [{}]", cause.cite.join(", "))
        };
        let _ = writeln!(
            out,
            "  {} {}{cite}: {} pathway{}",
            cause.kind,
            cause.cause,
            cause.pathways,
            if cause.pathways == 1 { "" } else { "s" }
        );
        if let Some(desc) = &cause.description {
            let _ = writeln!(out, "      \"{desc}\"");
        }
        if cause.fired_old_only + cause.fired_new_only > 0 {
            let _ = writeln!(
                out,
                "      fires under the old policy only on {}, under the new only on {}",
                cause.fired_old_only, cause.fired_new_only
            );
        }
        for b in &cause.because {
            let _ = writeln!(out, "      {b}");
        }
        if !cause.examples.is_empty() {
            let _ = writeln!(out, "      e.g. {}", cause.examples.join(", "));
        }
    }
    if !d.examples.is_empty() {
        let _ = writeln!(out, "\n5. Examples");
    }
    let mut shown: Vec<&str> = Vec::new();
    for e in &d.examples {
        if shown.contains(&e.diff.pathway_id.as_str()) {
            let _ = writeln!(out, "\n  {} ({}): shown above", e.diff.pathway_id, e.cause);
            continue;
        }
        shown.push(&e.diff.pathway_id);
        let _ = writeln!(out, "\n  {} ({})", e.diff.pathway_id, e.cause);
        pathway_diff(&e.diff, "    ", &mut out);
        timeline(&e.timeline, &d.old_policy, &d.new_policy, "    ", &mut out);
    }
    out
}
