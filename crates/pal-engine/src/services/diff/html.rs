//! The HTML form of `pal diff --events`: one self-contained page for a board paper — what
//! changes in the policy (with citations), the position old / new / change, the pathways that
//! change by kind, the causes with citations and counts, and each example pathway's timeline
//! with the two policies side by side. The page shell, style sheet, escaping and anchors are
//! the HTML report's ([`crate::io::report::html`]): no script, no external reference, every
//! text from the input or the policies escaped.
//!
//! It lives here rather than in `io::report` because it renders [`ExtractDiff`], a services
//! type (io may not import services); like [`super::render`] it only lays out.

use super::extract::{ChangeTally, ExtractDiff};
use super::render::{number, pathway_diff, signed};
use super::structural::PolicyChanges;
use super::timeline::{Side, Timeline};
use crate::io::report::html::{anchor, card, escape, page_start, thousands, PAGE_END};
use std::fmt::Write as _;

/// The files named in the page's heading.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// The old policy's file.
    pub old_file: &'a str,
    /// The new policy's file.
    pub new_file: &'a str,
    /// The events file.
    pub events: &'a str,
}

/// Renders the whole page.
pub fn extract_page(d: &ExtractDiff, files: Sources<'_>) -> String {
    let mut h = page_start(&format!("Policy impact as at {}", d.as_at));
    let c = &d.counts;
    let _ = writeln!(
        h,
        "<p class=\"meta\">old <b id=\"old-policy\">{}</b> ({}) · new <b id=\"new-policy\">{}</b> ({}) · as at <b id=\"as-at\">{}</b></p>\n\
         <p class=\"meta\" id=\"rows\">events {}: {} rows read, {} evaluated, {} rejected, {} after the as-at date; {} pathways</p>",
        escape(&d.old_policy),
        escape(files.old_file),
        escape(&d.new_policy),
        escape(files.new_file),
        d.as_at,
        escape(files.events),
        thousands(c.rows_read),
        thousands(c.rows_evaluated),
        thousands(c.rows_rejected),
        thousands(c.rows_after_as_at),
        thousands(c.pathways),
    );
    policy_changes(&mut h, &d.policy_changes);
    position(&mut h, d);
    changes(&mut h, d);
    causes(&mut h, d);
    examples(&mut h, d);
    h.push_str(PAGE_END);
    h
}

fn cites(cite: &[String]) -> String {
    escape(&cite.join("; "))
}

fn policy_changes(h: &mut String, c: &PolicyChanges) {
    h.push_str("<h2>1. What changes in the policy</h2>\n");
    if c.is_empty() {
        h.push_str(
            "<p id=\"no-policy-change\">None: the two policies are the same, item for item.</p>\n",
        );
        return;
    }
    h.push_str("<table id=\"policy-changes\">\n<tr><th>item</th><th>name</th><th>old</th><th>new</th><th>citation</th></tr>\n");
    for p in &c.params {
        let _ = writeln!(
            h,
            "<tr><td>parameter</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&p.name),
            escape(p.old.as_deref().unwrap_or("(none)")),
            escape(p.new.as_deref().unwrap_or("(none)")),
            cites(&p.cite)
        );
    }
    for r in &c.rules {
        let _ = writeln!(
            h,
            "<tr><td>rule</td><td>{}</td><td colspan=\"2\">{}</td><td>{}</td></tr>",
            escape(&r.name),
            r.change.label(),
            cites(&r.cite)
        );
    }
    for d in &c.defs {
        let _ = writeln!(
            h,
            "<tr><td>definition</td><td>{}</td><td colspan=\"2\">rewritten</td><td></td></tr>",
            escape(d)
        );
    }
    for k in &c.clocks {
        let _ = writeln!(
            h,
            "<tr><td>clock</td><td>{}</td><td colspan=\"2\">target or standard changed</td><td></td></tr>",
            escape(k)
        );
    }
    h.push_str("</table>\n");
}

fn position(h: &mut String, d: &ExtractDiff) {
    h.push_str("<h2>2. Effect on the position</h2>\n<table id=\"position\">\n<tr><th>measure</th><th>old</th><th>new</th><th>change</th></tr>\n");
    for r in &d.position {
        let label = match &r.clock {
            Some(c) => format!("{c}: {}", r.measure),
            None => r.measure.clone(),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&label),
            number(r.old, r.unit),
            number(r.new, r.unit),
            signed(r.change, r.unit)
        );
    }
    h.push_str("</table>\n");
}

/// The kinds of change and how many pathways show each, in the human report's order.
fn kinds(t: &ChangeTally) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = t
        .clock_fields
        .iter()
        .map(|(k, n)| (format!("{k} differs"), *n))
        .collect();
    out.push(("newly breached".into(), t.breaches_gained));
    out.push(("no longer breached".into(), t.breaches_lost));
    let each = |out: &mut Vec<(String, u64)>,
                what: &str,
                how: &str,
                m: &std::collections::BTreeMap<String, u64>| {
        out.extend(m.iter().map(|(k, n)| (format!("{what} {k} {how}"), *n)));
    };
    each(&mut out, "outcome", "gained", &t.outcomes_gained);
    each(&mut out, "outcome", "lost", &t.outcomes_lost);
    each(&mut out, "obligation", "gained", &t.obligations_gained);
    each(&mut out, "obligation", "lost", &t.obligations_lost);
    out.push(("conflict gained".into(), t.conflicts_gained));
    out.push(("conflict gone".into(), t.conflicts_lost));
    out.push(("warning gained".into(), t.warnings_gained));
    out.push(("warning gone".into(), t.warnings_lost));
    out.retain(|(_, n)| *n > 0);
    out
}

fn changes(h: &mut String, d: &ExtractDiff) {
    let total = d.counts.pathways;
    h.push_str("<h2>3. Pathways that change</h2>\n<div class=\"cards\">\n");
    let class = if d.changed_pathways > 0 {
        "bad"
    } else {
        "good"
    };
    card(
        h,
        "changed-pathways",
        &thousands(d.changed_pathways),
        &format!("of {} pathways change", thousands(total)),
        class,
    );
    if total > 0 {
        card(
            h,
            "changed-percent",
            &format!("{:.1}%", 100.0 * d.changed_pathways as f64 / total as f64),
            "of the pathways",
            "",
        );
    }
    h.push_str(
        "</div>\n<table id=\"change-kinds\">\n<tr><th>how they change</th><th>pathways</th></tr>\n",
    );
    for (k, n) in kinds(&d.tally) {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&k),
            thousands(n)
        );
    }
    h.push_str("</table>\n");
}

/// A link to an example's timeline if it is shown, else the id as text.
fn pathway_link(id: &str, d: &ExtractDiff) -> String {
    if d.examples.iter().any(|e| e.diff.pathway_id == id) {
        format!("<a href=\"#{}\">{}</a>", anchor(id), escape(id))
    } else {
        escape(id)
    }
}

fn causes(h: &mut String, d: &ExtractDiff) {
    h.push_str("<h2>4. Why: the rules whose firing differs</h2>\n");
    if d.causes.is_empty() {
        h.push_str("<p id=\"no-causes\">None.</p>\n");
        return;
    }
    h.push_str("<table id=\"causes\">\n<tr><th>kind</th><th>cause</th><th>what it says</th><th>citation</th><th>what differs</th><th>pathways</th><th>fires old only / new only</th><th>e.g.</th></tr>\n");
    for c in &d.causes {
        let examples: Vec<String> = c.examples.iter().map(|e| pathway_link(e, d)).collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} / {}</td><td>{}</td></tr>",
            escape(c.kind),
            escape(&c.cause),
            escape(c.description.as_deref().unwrap_or("")),
            cites(&c.cite),
            escape(&c.because.join("; ")),
            thousands(c.pathways),
            thousands(c.fired_old_only),
            thousands(c.fired_new_only),
            examples.join(", ")
        );
    }
    h.push_str("</table>\n");
}

fn side_cell(s: &Option<Side>) -> String {
    match s {
        None => "<i>(no such step)</i>".into(),
        Some(s) => {
            let fired = if s.fired.is_empty() {
                "nothing fired".to_string()
            } else {
                s.fired.join(", ")
            };
            let mut cell = escape(&fired);
            for c in &s.clocks {
                let _ = write!(cell, "<br>· {}", escape(c));
            }
            cell
        }
    }
}

fn timeline(h: &mut String, t: &Timeline, d: &ExtractDiff) {
    let _ = writeln!(
        h,
        "<table class=\"side-by-side\">\n<tr><th>date</th><th>event</th><th>old: {}</th><th>new: {}</th></tr>",
        escape(&d.old_policy),
        escape(&d.new_policy)
    );
    for r in &t.rows {
        let class = if r.differs { " class=\"differs\"" } else { "" };
        let _ = writeln!(
            h,
            "<tr{class}><td>{}</td><td>{}</td><td class=\"old\">{}</td><td>{}</td></tr>",
            r.date,
            escape(&r.event),
            side_cell(&r.old),
            side_cell(&r.new)
        );
    }
    h.push_str("</table>\n");
}

fn examples(h: &mut String, d: &ExtractDiff) {
    if d.examples.is_empty() {
        return;
    }
    h.push_str("<h2>5. Examples</h2>\n");
    let mut shown: Vec<&str> = Vec::new();
    for e in &d.examples {
        let id = e.diff.pathway_id.as_str();
        if shown.contains(&id) {
            let _ = writeln!(
                h,
                "<p>{} ({}): <a href=\"#{}\">shown above</a></p>",
                escape(id),
                escape(&e.cause),
                anchor(id)
            );
            continue;
        }
        shown.push(id);
        let _ = writeln!(
            h,
            "<section class=\"timeline\" id=\"{}\">\n<h3>Pathway {} ({})</h3>",
            anchor(id),
            escape(id),
            escape(&e.cause)
        );
        let mut lines = String::new();
        pathway_diff(&e.diff, "", &mut lines);
        h.push_str("<ul class=\"differences\">\n");
        for line in lines.lines() {
            let _ = writeln!(h, "<li>{}</li>", escape(line));
        }
        h.push_str("</ul>\n");
        timeline(h, &e.timeline, d);
        h.push_str("<p><a href=\"#causes\">back to the causes</a></p>\n</section>\n");
    }
}
