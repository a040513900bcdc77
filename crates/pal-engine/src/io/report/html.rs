//! The HTML report: one self-contained page — inline CSS and SVG, no script, no font, image or
//! style from anywhere else — that opens on a desktop without a network. The week-band
//! histogram with the standard's line, the headline figures, a table per specialty, the top of
//! the PTL, and for each PTL row its pathway's timeline (events, rules that fired with their
//! citations, clock periods), linked from the row. Every text from the input or the policy is
//! escaped; pathway ids become anchor names through [`anchor`], which keeps them unique.
//!
//! The figures are the services layer's (`services::returns::html`); this module only renders.

use crate::base::value::date_text;
use crate::model::event::Event;
use crate::model::ir::Policy;
use crate::model::schema::Schema;
use crate::runtime::eval::{PathwayResult, RuleOutcome};
use chrono::NaiveDate;
use std::fmt::Write as _;

/// The headline figures of the tracked clock's incomplete pathways at the census date.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    /// Open pathways.
    pub total: u64,
    /// Of which within the target.
    pub within: u64,
    /// The target in days (126 for RTT).
    pub target_days: i64,
    /// The operational standard in percent (92 for RTT), if declared.
    pub standard_percent: Option<i64>,
    /// Waits over 52, 65, 78 and 104 weeks: `(weeks, pathways)`.
    pub over_weeks: Vec<(i64, u64)>,
    /// Median wait in weeks (nearest rank over the exact days waited).
    pub median_weeks: Option<f64>,
    /// 92nd-percentile wait in weeks (nearest rank).
    pub p92_weeks: Option<f64>,
}

impl Headline {
    /// Percentage within target (one decimal), `None` with no pathways.
    pub fn percent_within(&self) -> Option<f64> {
        (self.total > 0).then(|| (1000.0 * self.within as f64 / self.total as f64).round() / 10.0)
    }
}

/// One line of the per-specialty table.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecialtyLine {
    /// The specialty (its treatment-function group name, or the attribute as written).
    pub name: String,
    /// Open pathways.
    pub total: u64,
    /// Within target.
    pub within: u64,
    /// Over 52 weeks.
    pub over_52: u64,
    /// The longest wait in days.
    pub longest_days: i64,
}

/// One PTL row shown.
#[derive(Debug, Clone, PartialEq)]
pub struct PtlLine {
    /// The pathway.
    pub pathway_id: String,
    /// Clock start.
    pub start: NaiveDate,
    /// Days waited at the census date.
    pub days_waited: i64,
    /// Reporting band (`>17-18`).
    pub week_band: String,
    /// The first day over the target.
    pub breach_date: NaiveDate,
    /// The next action: the earliest obligation not met (overdue first), with its status, due
    /// date and citation (the PTL's).
    pub next_action: String,
    /// The next booked appointment or admission, with its kind.
    pub next_appointment: String,
    /// DNAs, patient and hospital cancellations since the clock started.
    pub dnas_and_cancellations: (u32, u32, u32),
}

/// A pathway's timeline: its evaluated result (with the trace) and its events.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// The result, evaluated with the trace.
    pub result: PathwayResult,
    /// The events.
    pub events: Vec<Event>,
}

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct HtmlReport {
    /// The page title.
    pub title: String,
    /// The policy's name.
    pub policy: String,
    /// The census date.
    pub as_at: NaiveDate,
    /// The clock tracked.
    pub clock: String,
    /// Headline figures.
    pub headline: Headline,
    /// Open pathways per reporting band, `>0-1` … `>104` (105).
    pub bands: Vec<u64>,
    /// Per specialty, largest list first.
    pub specialties: Vec<SpecialtyLine>,
    /// The PTL's top rows, in PTL order.
    pub ptl: Vec<PtlLine>,
    /// Rows on the whole PTL.
    pub ptl_total: u64,
    /// One timeline per PTL row shown, same order.
    pub timelines: Vec<Timeline>,
}

/// Text made safe inside HTML elements and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The anchor name of a pathway's timeline: `pathway-` and the id with every byte other than
/// ASCII letters, digits, `-` and `_` written `.xx` (hex), so any id gives a distinct, safe name.
pub fn anchor(pathway_id: &str) -> String {
    let mut out = String::from("pathway-");
    for b in pathway_id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            let _ = write!(out, ".{b:02x}");
        }
    }
    out
}

/// A count with thousands separators: `12,345` ([`crate::base::text::thousands`]).
pub fn thousands(n: u64) -> String {
    crate::base::text::thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

fn plural(n: u64, one: &str, many: &str) -> String {
    crate::base::text::count_of(i64::try_from(n).unwrap_or(i64::MAX), one, many)
}

/// The style sheet every PAL page carries inline (the HTML report's, `pal diff`'s).
pub const STYLE: &str = "
body{font-family:Arial,Helvetica,sans-serif;margin:24px;color:#212b32;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #005eb8}
h3{font-size:16px;margin:18px 0 6px}
.meta{color:#4c6272;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid #d8dde0;border-left:6px solid #005eb8;padding:8px 14px;min-width:150px}
.card .v{font-size:26px;font-weight:bold}.card .l{color:#4c6272;font-size:13px}
.card.bad{border-left-color:#d5281b}.card.good{border-left-color:#007f3b}
table{border-collapse:collapse;margin:6px 0;font-size:14px}
th,td{border:1px solid #d8dde0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f4f5}td.n{text-align:right}
svg .bar{fill:#005eb8}svg .bar.over{fill:#d5281b}svg .axis{stroke:#4c6272}
svg .target{stroke:#d5281b;stroke-width:2;stroke-dasharray:6 4}
svg text{font-size:11px;fill:#212b32}
.timeline{border-top:1px solid #d8dde0;margin-top:18px}
.fired{color:#007f3b}.missed{color:#d5281b}
tr.differs td{background:#fff9c4}td.old{border-right:3px solid #4c6272}
.up{color:#007f3b}.down{color:#d5281b}
";

/// The start of a self-contained page: doctype, head with the title and [`STYLE`], the
/// `<h1>` title. No script, no external reference. `title` is escaped here.
pub fn page_start(title: &str) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let title = escape(title);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    );
    h
}

/// The end of a page begun with [`page_start`].
pub const PAGE_END: &str = "</body>\n</html>\n";

/// A headline card: a big value over a label; `class` is `good`, `bad` or empty. `value` and
/// `label` are HTML (escape text from the input first); `id` is PAL's own.
pub fn card(h: &mut String, id: &str, value: &str, label: &str, class: &str) {
    let _ = writeln!(
        h,
        "<div class=\"card {class}\" id=\"{id}\"><div class=\"v\">{value}</div><div class=\"l\">{label}</div></div>"
    );
}

/// Renders the page. The policy names event types, field values and rules in timelines.
pub fn render(r: &HtmlReport, policy: &Policy) -> String {
    let mut h = page_start(&r.title);
    let _ = writeln!(
        h,
        "<p class=\"meta\">Policy <b>{}</b> · clock <b>{}</b> · as at <b id=\"as-at\">{}</b></p>",
        escape(&r.policy),
        escape(&r.clock),
        date_text(r.as_at)
    );
    headline(&mut h, r);
    histogram(&mut h, r);
    specialties(&mut h, r);
    ptl(&mut h, r);
    for t in &r.timelines {
        timeline(&mut h, t, policy);
    }
    h.push_str(PAGE_END);
    h
}

fn headline(h: &mut String, r: &HtmlReport) {
    let hl = &r.headline;
    h.push_str("<h2>Headline</h2>\n<div class=\"cards\">\n");
    let weeks = hl.target_days as f64 / 7.0;
    let pct = hl
        .percent_within()
        .map_or("–".to_string(), |p| format!("{p:.1}%"));
    let (class, against) = match (hl.percent_within(), hl.standard_percent) {
        (Some(p), Some(s)) if p >= s as f64 => ("good", format!(" (standard {s}%: met)")),
        (Some(_), Some(s)) => ("bad", format!(" (standard {s}%: not met)")),
        (_, Some(s)) => ("", format!(" (standard {s}%)")),
        _ => ("", String::new()),
    };
    card(
        h,
        "pct-within",
        &pct,
        &format!("within {weeks:.0} weeks{against}"),
        class,
    );
    card(h, "total-waiting", &thousands(hl.total), "waiting", "");
    for (w, n) in &hl.over_weeks {
        let class = if *n > 0 { "bad" } else { "" };
        card(
            h,
            &format!("over-{w}"),
            &thousands(*n),
            &format!("over {w} weeks"),
            class,
        );
    }
    let wk = |v: Option<f64>| v.map_or("–".to_string(), |w| format!("{w:.1} wk"));
    card(h, "median", &wk(hl.median_weeks), "median wait", "");
    card(h, "p92", &wk(hl.p92_weeks), "92nd percentile wait", "");
    h.push_str("</div>\n");
}

fn histogram(h: &mut String, r: &HtmlReport) {
    let (left, top, width, height) = (40.0_f64, 20.0_f64, 840.0_f64, 200.0_f64);
    let n = r.bands.len().max(1) as f64;
    let bw = width / n;
    let max = r.bands.iter().copied().max().unwrap_or(0).max(1) as f64;
    let target_weeks = (r.headline.target_days as f64 / 7.0).ceil();
    h.push_str("<h2>Weeks waited</h2>\n");
    let _ = writeln!(
        h,
        "<svg id=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"pathways by weeks waited\">",
        left + width + 20.0,
        top + height + 40.0
    );
    for (i, count) in r.bands.iter().enumerate() {
        let bh = height * (*count as f64) / max;
        let x = left + bw * i as f64;
        let label = crate::io::report::ptl::week_band_label_at(i);
        let class = if (i as f64) >= target_weeks {
            "bar over"
        } else {
            "bar"
        };
        let _ = writeln!(
            h,
            "<rect class=\"{class}\" data-band=\"{}\" data-count=\"{count}\" x=\"{x:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{bh:.2}\"><title>{} weeks: {}</title></rect>",
            escape(label),
            top + height - bh,
            (bw - 1.0).max(1.0),
            escape(label),
            thousands(*count)
        );
    }
    let _ = writeln!(
        h,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
        top + height,
        left + width,
        top + height
    );
    for w in [0, 18, 52, 78, 104] {
        let x = left + bw * w as f64;
        let _ = writeln!(
            h,
            "<text x=\"{x:.2}\" y=\"{}\" text-anchor=\"middle\">{w}</text>",
            top + height + 14.0
        );
    }
    let tx = left + bw * target_weeks;
    let _ = writeln!(
        h,
        "<line class=\"target\" id=\"target-line\" x1=\"{tx:.2}\" y1=\"{}\" x2=\"{tx:.2}\" y2=\"{}\"/>",
        top - 10.0,
        top + height
    );
    let _ = writeln!(
        h,
        "<text x=\"{:.2}\" y=\"{}\">{target_weeks:.0} weeks</text>",
        tx + 4.0,
        top
    );
    let _ = writeln!(
        h,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">weeks waited</text>",
        left + width / 2.0,
        top + height + 32.0
    );
    let _ = writeln!(
        h,
        "<text x=\"4\" y=\"{}\">{}</text>",
        top + 4.0,
        thousands(max as u64)
    );
    h.push_str("</svg>\n");
}

fn specialties(h: &mut String, r: &HtmlReport) {
    h.push_str("<h2>By specialty</h2>\n<table id=\"specialties\">\n<tr><th>specialty</th><th>waiting</th><th>within target</th><th>%</th><th>over 52 weeks</th><th>longest wait</th></tr>\n");
    for s in &r.specialties {
        let pct = if s.total > 0 {
            format!("{:.1}%", 100.0 * s.within as f64 / s.total as f64)
        } else {
            "–".into()
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{pct}</td><td class=\"n\">{}</td><td class=\"n\">{} wk {} d</td></tr>",
            escape(&s.name),
            thousands(s.total),
            thousands(s.within),
            thousands(s.over_52),
            s.longest_days / 7,
            s.longest_days % 7
        );
    }
    h.push_str("</table>\n");
}

fn ptl(h: &mut String, r: &HtmlReport) {
    let _ = writeln!(
        h,
        "<h2>Patient tracking list</h2>\n<p class=\"meta\">The first {} of {} on the list; each pathway links to its timeline below.</p>",
        thousands(r.ptl.len() as u64),
        plural(r.ptl_total, "pathway", "pathways")
    );
    h.push_str("<table id=\"ptl\">\n<tr><th>pathway</th><th>clock start</th><th>waited</th><th>band</th><th>breach date</th><th>next action</th><th>next appointment</th><th>DNAs / cancelled (patient, hospital)</th></tr>\n");
    for p in &r.ptl {
        let (dnas, patient, hospital) = p.dnas_and_cancellations;
        let _ = writeln!(
            h,
            "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"n\">{} wk {} d</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{dnas} / {patient}, {hospital}</td></tr>",
            anchor(&p.pathway_id),
            escape(&p.pathway_id),
            date_text(p.start),
            p.days_waited / 7,
            p.days_waited % 7,
            escape(&p.week_band),
            date_text(p.breach_date),
            escape(&p.next_action),
            escape(&p.next_appointment)
        );
    }
    h.push_str("</table>\n");
}

fn timeline(h: &mut String, t: &Timeline, policy: &Policy) {
    let schema: &Schema = &policy.schema;
    let r = &t.result;
    let _ = writeln!(
        h,
        "<section class=\"timeline\" id=\"{}\">\n<h2>Pathway {}</h2>",
        anchor(&r.pathway_id),
        escape(&r.pathway_id)
    );
    h.push_str("<h3>Clock periods</h3>\n<table class=\"periods\">\n<tr><th>clock</th><th>period</th><th>status</th><th>start</th><th>stop</th><th>reason</th><th>days waited</th><th>target date</th></tr>\n");
    for p in &r.clocks {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&p.clock),
            p.period,
            escape(&p.status.to_string()),
            date_text(p.start),
            p.stop.map(date_text).unwrap_or_default(),
            escape(p.reason.as_deref().unwrap_or("")),
            p.days_waited.map(|d| d.to_string()).unwrap_or_default(),
            date_text(p.target_date)
        );
    }
    h.push_str("</table>\n<h3>Events</h3>\n<table class=\"events\">\n<tr><th>date</th><th>event</th><th>details</th><th>line</th></tr>\n");
    let mut events: Vec<&Event> = t.events.iter().collect();
    schema.same_day.sort(&mut events);
    for e in events {
        let def = schema.events.get(e.kind as usize);
        let name = def.map_or("?", |d| d.name.as_str());
        let details: Vec<String> = def
            .map(|d| {
                d.fields
                    .iter()
                    .zip(e.fields.iter())
                    .filter(|(_, v)| v.is_set())
                    .map(|(f, v)| format!("{}: {}", f.name, schema.display_value(v)))
                    .collect()
            })
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            date_text(e.date),
            escape(name),
            escape(&details.join(", ")),
            e.line
        );
    }
    h.push_str("</table>\n<h3>Rules that fired</h3>\n<table class=\"rules\">\n<tr><th>date</th><th>on</th><th>rule</th><th>what it says</th><th>citation</th><th>detail</th></tr>\n");
    for step in r.trace.iter().flatten() {
        for rule in step
            .rules
            .iter()
            .filter(|rt| rt.result == RuleOutcome::Fired)
        {
            let description = policy
                .rules
                .iter()
                .find(|d| d.name == rule.rule)
                .and_then(|d| d.description.as_deref())
                .unwrap_or("");
            let _ = writeln!(
                h,
                "<tr class=\"fired\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                date_text(step.date),
                escape(&step.event),
                escape(&rule.rule),
                escape(description),
                escape(&rule.cite),
                escape(rule.detail.as_deref().unwrap_or(""))
            );
        }
    }
    h.push_str("</table>\n");
    if !r.obligations.is_empty() {
        h.push_str("<h3>Obligations</h3>\n<table class=\"obligations\">\n<tr><th>what</th><th>due</th><th>status</th><th>met on</th><th>rule</th><th>citation</th></tr>\n");
        for o in &r.obligations {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&o.what),
                date_text(o.due),
                escape(&o.status.to_string()),
                o.met_on.map(date_text).unwrap_or_default(),
                escape(&o.rule),
                escape(&o.cite)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<p><a href=\"#ptl\">back to the list</a></p>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_anchors() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(anchor("P001"), "pathway-P001");
        assert_eq!(anchor("<a b>"), "pathway-.3ca.20b.3e");
        assert_ne!(anchor("a.2e"), anchor("a.")); // `.` is always encoded
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
