//! `pal explain`'s timeline, for people: the pathway's events and timers in order, the rules
//! considered at each step — each with its description and citation, and why it did or did
//! not apply, in positive words with the values involved — the clocks after each step, and
//! what the pathway came to (periods, outcomes, obligations: met, met late, missed or open).

use crate::base::text::{count_of, thousands};
use crate::model::ir::{Policy, RuleKind};
use crate::runtime::eval::{ObligationResult, ObligationStatus, PathwayResult, RuleOutcome};
use std::io::{self, Write};

/// Writes the explanation of one evaluated (traced) pathway, with rule ids only.
pub fn write(r: &PathwayResult, out: &mut dyn Write) -> io::Result<()> {
    write_inner(None, r, out)
}

/// Writes the explanation of one evaluated (traced) pathway, each rule with its description
/// from `policy`.
pub fn write_for(policy: &Policy, r: &PathwayResult, out: &mut dyn Write) -> io::Result<()> {
    write_inner(Some(policy), r, out)
}

/// What happened to a rule at a step, in words.
fn outcome_words(o: RuleOutcome) -> &'static str {
    match o {
        RuleOutcome::Fired => "applied",
        RuleOutcome::NotApplicable => "did not apply",
        RuleOutcome::Overridden => "overridden",
        RuleOutcome::Conflict => "CONFLICT",
        RuleOutcome::Armed => "timer set",
        RuleOutcome::Cancelled => "timer stopped",
    }
}

/// An obligation's standing in words: `met on 2025-01-10 (due 2025-01-13)`, `met late (due
/// 2025-02-10, met 2025-02-20)`, `missed (due 2025-01-13, not met)`, `open (due …)`.
pub fn obligation_words(o: &ObligationResult) -> String {
    match (o.status, o.met_on) {
        (ObligationStatus::Met, Some(m)) => format!("met on {m} (due {})", o.due),
        (ObligationStatus::Met, None) => format!("met (due {})", o.due),
        (_, Some(m)) if m > o.due => format!(
            "met late (due {}, met {m}, {} late)",
            o.due,
            count_of((m - o.due).num_days(), "day", "days")
        ),
        (ObligationStatus::Missed, _) => format!("missed (due {}, not met)", o.due),
        (ObligationStatus::Open, _) => format!("open (due {})", o.due),
    }
}

fn write_inner(policy: Option<&Policy>, r: &PathwayResult, out: &mut dyn Write) -> io::Result<()> {
    let rule_of = |name: &str| policy.and_then(|p| p.rules.iter().find(|x| x.name == name));
    let described = |name: &str| match rule_of(name).and_then(|x| x.description.as_deref()) {
        Some(d) => format!("{name} — {d}"),
        None => name.to_string(),
    };
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
            .map(|l| format!("  (input line {})", thousands(i64::from(l))))
            .unwrap_or_default();
        let event = match step.event.strip_prefix("timer ") {
            Some(rule) => format!("timer of {rule} falls due"),
            None => step.event.clone(),
        };
        writeln!(out, "\n{}  {event}{line}", step.date)?;
        if step.rules.is_empty() {
            writeln!(out, "    no rule applies to this event")?;
        }
        for rule in &step.rules {
            let what = outcome_words(rule.result);
            let cite = if rule.cite.is_empty() {
                String::new()
            } else {
                format!(" [{}]", rule.cite)
            };
            let detail = match (rule.result, rule.detail.as_deref()) {
                (RuleOutcome::Armed, Some(d)) => {
                    let due = d.strip_prefix("due ").unwrap_or(d);
                    let unless = rule_of(&rule.rule)
                        .and_then(|x| match &x.kind {
                            RuleKind::Timer { unless, .. } if !unless.is_empty() => {
                                policy.map(|p| {
                                    unless
                                        .iter()
                                        .filter_map(|e| p.schema.events.get(*e as usize))
                                        .map(|e| e.name.as_str())
                                        .collect::<Vec<_>>()
                                        .join(" or ")
                                })
                            }
                            _ => None,
                        })
                        .map(|u| format!(" unless {u} comes first"))
                        .unwrap_or_default();
                    format!("\n        falls due on {due}{unless}")
                }
                (RuleOutcome::NotApplicable, Some(d)) => format!("\n        because {d}"),
                (_, Some(d)) => format!("\n        {d}"),
                (_, None) => String::new(),
            };
            writeln!(
                out,
                "    {what:<13} {}{cite}{detail}",
                described(&rule.rule)
            )?;
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
            .map(|d| format!(", {}", count_of(d, "day", "days")))
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
            o.outcome,
            o.date,
            described(&o.rule),
            o.cite
        )?;
    }
    for o in &r.obligations {
        writeln!(
            out,
            "  obligation {}: {} — {} [{}]",
            o.what,
            obligation_words(o),
            described(&o.rule),
            o.cite
        )?;
    }
    for c in &r.conflicts {
        writeln!(
            out,
            "  CONFLICT on {} ({}): {} — {}",
            c.date,
            c.event,
            crate::base::name::join(&c.rules, ", "),
            c.resolution
        )?;
    }
    for w in &r.warnings {
        writeln!(out, "  warning on {}: {}", w.date, w.message)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        crate::base::value::parse_date(s).unwrap_or_default()
    }

    #[test]
    fn obligations_are_described_as_people_say_them() {
        let o = |status, due: &str, met: Option<&str>| ObligationResult {
            what: "referral_graded".into(),
            created: d("2025-02-03"),
            due: d(due),
            status,
            met_on: met.map(d),
            rule: "r".into(),
            cite: "c".into(),
        };
        let cases = [
            (
                o(ObligationStatus::Met, "2025-02-10", Some("2025-02-10")),
                "met on 2025-02-10 (due 2025-02-10)",
            ),
            (
                o(ObligationStatus::Missed, "2025-02-10", Some("2025-02-11")),
                "met late (due 2025-02-10, met 2025-02-11, 1 day late)",
            ),
            (
                o(ObligationStatus::Missed, "2025-02-10", Some("2025-02-20")),
                "met late (due 2025-02-10, met 2025-02-20, 10 days late)",
            ),
            (
                o(ObligationStatus::Missed, "2025-02-10", None),
                "missed (due 2025-02-10, not met)",
            ),
            (
                o(ObligationStatus::Open, "2025-02-10", None),
                "open (due 2025-02-10)",
            ),
        ];
        for (ob, text) in cases {
            assert_eq!(obligation_words(&ob), text);
        }
    }
}
