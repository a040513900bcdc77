//! `pal explain`'s timeline: the pathway's events and timers in order, the rules considered at
//! each step with their citations and why they did or did not fire, and the clocks after it.

use crate::runtime::eval::{PathwayResult, RuleOutcome};
use std::io::{self, Write};

/// Writes the explanation of one evaluated (traced) pathway.
pub fn write(r: &PathwayResult, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "pathway {} as at {}", r.pathway_id, r.as_at)?;
    if !r.attributes.is_empty() {
        let attrs: Vec<String> = r
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        writeln!(out, "  {}", attrs.join(", "))?;
    }
    for step in r.trace.iter().flatten() {
        let line = step
            .line
            .map(|l| format!("  (input line {l})"))
            .unwrap_or_default();
        writeln!(out, "\n{}  {}{line}", step.date, step.event)?;
        if step.rules.is_empty() {
            writeln!(out, "    no rule applies to this event")?;
        }
        for rule in &step.rules {
            let what = match rule.result {
                RuleOutcome::Fired => "fired     ",
                RuleOutcome::NotApplicable => "not fired ",
                RuleOutcome::Overridden => "overridden",
                RuleOutcome::Conflict => "CONFLICT  ",
                RuleOutcome::Armed => "armed     ",
                RuleOutcome::Cancelled => "cancelled ",
            };
            let detail = rule
                .detail
                .as_ref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default();
            let cite = if rule.cite.is_empty() {
                String::new()
            } else {
                format!(" [{}]", rule.cite)
            };
            writeln!(out, "    {what} {}{cite}{detail}", rule.rule)?;
        }
        for c in &step.clocks {
            writeln!(out, "    · {c}")?;
        }
    }
    writeln!(out, "\nresult:")?;
    for p in &r.clocks {
        let stop = p.stop.map(|s| format!(" → {s}")).unwrap_or_default();
        let reason = p
            .reason
            .as_ref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        let days = p
            .days_waited
            .map(|d| format!(", {d} days"))
            .unwrap_or_default();
        let breach = if p.breached { ", BREACHED" } else { "" };
        writeln!(
            out,
            "  {} period {}: {} {}{stop}{reason}{days}, target date {}{breach}",
            p.clock, p.period, p.status, p.start, p.target_date
        )?;
    }
    for o in &r.outcomes {
        writeln!(
            out,
            "  outcome {} on {} by {} [{}]",
            o.outcome, o.date, o.rule, o.cite
        )?;
    }
    for o in &r.obligations {
        writeln!(
            out,
            "  obligation {} due {}: {} ({} [{}])",
            o.what, o.due, o.status, o.rule, o.cite
        )?;
    }
    for c in &r.conflicts {
        writeln!(
            out,
            "  CONFLICT on {} ({}): {} — {}",
            c.date,
            c.event,
            c.rules.join(", "),
            c.resolution
        )?;
    }
    for w in &r.warnings {
        writeln!(out, "  warning on {}: {}", w.date, w.message)?;
    }
    Ok(())
}
