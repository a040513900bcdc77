//! The PAS's own view of its open pathways (`pal validate --pas FILE`): a CSV with one row per
//! pathway — its id, the RTT period start date the PAS recorded, its status and waiting-list
//! type — read under column names the user gives (`PasColumns`). Every row is used or rejected
//! with its line and reason.

use crate::base::suggest::did_you_mean;
use crate::base::text::{excerpt, name_list};
use crate::io::events::{ReadError, Rejection};
use crate::model::mapping::{formats_text, read_date, DateFormat};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::io::Read;

/// Which columns of the PAS view hold what, and how its dates are written.
#[derive(Debug, Clone)]
pub struct PasColumns {
    /// The pathway id (default `pathway_id`).
    pub pathway_id: String,
    /// The RTT period start date (default `rtt_start`).
    pub rtt_start: String,
    /// The pathway's status, if the view has one (default `status`, used when present): see
    /// [`PasStatus::parse`]. Without it every row is an open pathway.
    pub status: String,
    /// The waiting-list type (default `waiting_list_type`, used when present), shown as is.
    pub waiting_list_type: String,
    /// Date formats (empty: `YYYY-MM-DD`).
    pub date_formats: Vec<DateFormat>,
}

impl Default for PasColumns {
    fn default() -> Self {
        PasColumns {
            pathway_id: "pathway_id".into(),
            rtt_start: "rtt_start".into(),
            status: "status".into(),
            waiting_list_type: "waiting_list_type".into(),
            date_formats: Vec::new(),
        }
    }
}

/// Whether the PAS holds a pathway's RTT period open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasStatus {
    /// Waiting: the clock is running.
    Open,
    /// The PAS recorded a clock stop (or says the pathway is not an RTT pathway).
    Closed,
}

impl PasStatus {
    /// Reads a status cell: `open`/`closed` (also `O`/`C`, `incomplete`/`complete`,
    /// `stopped`), or an NHS RTT period status code: 10, 11, 12, 20, 21 and 99 (not yet
    /// known) are open; 30–36 (clock stops), 90–92 (not RTT activity) and 98 (not applicable)
    /// are closed. Case does not matter.
    pub fn parse(text: &str) -> Option<PasStatus> {
        match text.trim().to_ascii_lowercase().as_str() {
            "open" | "o" | "incomplete" | "waiting" | "10" | "11" | "12" | "20" | "21" | "99" => {
                Some(PasStatus::Open)
            }
            "closed" | "c" | "complete" | "completed" | "stopped" | "30" | "31" | "32" | "33"
            | "34" | "35" | "36" | "90" | "91" | "92" | "98" => Some(PasStatus::Closed),
            _ => None,
        }
    }
}

/// One pathway as the PAS sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PasPathway {
    /// The pathway id, exactly as written.
    pub pathway_id: String,
    /// The RTT period start the PAS recorded (none for a closed pathway without one).
    pub rtt_start: Option<NaiveDate>,
    /// Open or closed.
    pub status: PasStatus,
    /// The status cell as written (empty without a status column).
    pub status_text: String,
    /// The waiting-list type as written.
    pub waiting_list_type: Option<String>,
    /// The row's line.
    pub line: u32,
}

/// Everything read from a PAS view.
#[derive(Debug, Clone, Default)]
pub struct PasView {
    /// Pathways in file order (each id once).
    pub pathways: Vec<PasPathway>,
    /// Rows that could not be used.
    pub rejected: Vec<Rejection>,
}

/// Reads a PAS view (CSV with a header).
pub fn read_pas_view<R: Read>(
    input: R,
    file: &str,
    columns: &PasColumns,
) -> Result<PasView, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ReadError::Header(format!("cannot read the CSV header of `{file}`: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let index: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut missing = Vec::new();
    let mut need = |name: &str, what: &str| {
        let found = index.get(name).copied();
        if found.is_none() {
            let hint = did_you_mean(name, header.iter().map(String::as_str))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            missing.push(format!("`{}` ({what}){hint}", excerpt(name)));
        }
        found.unwrap_or(0)
    };
    let id_col = need(&columns.pathway_id, "the pathway id");
    let start_col = need(&columns.rtt_start, "the RTT period start date");
    if !missing.is_empty() {
        return Err(ReadError::Header(format!(
            "`{file}` has no column {} (its columns: {})",
            missing.join(", no column "),
            name_list(header.iter().map(String::as_str), 20)
        )));
    }
    let status_col = index.get(columns.status.as_str()).copied();
    let list_col = index.get(columns.waiting_list_type.as_str()).copied();
    let mut view = PasView::default();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(ReadError::Io(format!("cannot read `{file}`: {e}"))),
        }
        let line = record
            .position()
            .map_or(0, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
        let cell = |i: usize| record.get(i).unwrap_or("").trim();
        let reject = |pathway_id: Option<&str>, reason: String| Rejection {
            file: file.to_string(),
            line,
            pathway_id: pathway_id.map(str::to_string),
            reason,
            row: None,
        };
        let id = record.get(id_col).unwrap_or("");
        if id.trim().is_empty() {
            view.rejected
                .push(reject(None, format!("missing `{}`", columns.pathway_id)));
            continue;
        }
        if id.trim() != id {
            view.rejected.push(reject(
                Some(id),
                format!(
                    "`{}` `{}` has spaces before or after it; ids are compared exactly",
                    columns.pathway_id,
                    excerpt(id)
                ),
            ));
            continue;
        }
        if let Some(first) = seen.get(id) {
            view.rejected.push(reject(
                Some(id),
                format!(
                    "pathway `{}` is listed twice (first on line {first})",
                    excerpt(id)
                ),
            ));
            continue;
        }
        let status_text = status_col.map(|c| cell(c).to_string()).unwrap_or_default();
        let status = match status_col {
            None => PasStatus::Open,
            Some(_) => match PasStatus::parse(&status_text) {
                Some(s) => s,
                None => {
                    view.rejected.push(reject(
                        Some(id),
                        format!(
                            "`{}`: `{}` is not a status (open/closed, or an RTT period status code)",
                            columns.status,
                            excerpt(&status_text)
                        ),
                    ));
                    continue;
                }
            },
        };
        let start_text = cell(start_col);
        let rtt_start = if start_text.is_empty() {
            None
        } else {
            match read_date(start_text, &columns.date_formats) {
                Some(d) => Some(d),
                None => {
                    view.rejected.push(reject(
                        Some(id),
                        format!(
                            "`{}`: `{}` is not a date (expected {})",
                            columns.rtt_start,
                            excerpt(start_text),
                            formats_text(&columns.date_formats)
                        ),
                    ));
                    continue;
                }
            }
        };
        if rtt_start.is_none() && status == PasStatus::Open {
            view.rejected.push(reject(
                Some(id),
                format!("an open pathway without `{}`", columns.rtt_start),
            ));
            continue;
        }
        seen.insert(id.to_string(), line);
        view.pathways.push(PasPathway {
            pathway_id: id.to_string(),
            rtt_start,
            status,
            status_text,
            waiting_list_type: list_col
                .map(|c| cell(c).to_string())
                .filter(|s| !s.is_empty()),
            line,
        });
    }
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_a_pas_writes() {
        for (t, want) in [
            ("open", Some(PasStatus::Open)),
            ("OPEN", Some(PasStatus::Open)),
            ("20", Some(PasStatus::Open)),
            ("30", Some(PasStatus::Closed)),
            ("Closed", Some(PasStatus::Closed)),
            ("36", Some(PasStatus::Closed)),
            ("37", None),
            ("", None),
        ] {
            assert_eq!(PasStatus::parse(t), want, "{t}");
        }
    }

    #[test]
    fn rows_are_used_or_rejected_with_their_line() {
        let text = "pathway_id,rtt_start,status,waiting_list_type\n\
                    P1,2025-01-06,open,IRTT\n\
                    P2,06/01/2025,open,\n\
                    P1,2025-01-07,open,\n\
                    ,2025-01-06,open,\n\
                    P3,2025-01-06,maybe,\n\
                    P4,,closed,\n\
                    P5,,open,\n";
        let v =
            read_pas_view(text.as_bytes(), "pas.csv", &PasColumns::default()).unwrap_or_default();
        let ids: Vec<&str> = v.pathways.iter().map(|p| p.pathway_id.as_str()).collect();
        assert_eq!(ids, ["P1", "P4"]);
        assert_eq!(v.pathways[0].waiting_list_type.as_deref(), Some("IRTT"));
        let lines: Vec<u32> = v.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 8]);
        assert!(v.rejected[1]
            .reason
            .contains("listed twice (first on line 2)"));
    }

    #[test]
    fn a_missing_column_is_named_with_the_closest() {
        let cols = PasColumns {
            rtt_start: "RTT_START".into(),
            ..PasColumns::default()
        };
        let e = read_pas_view("pathway_id,RTT_STRT\n".as_bytes(), "pas.csv", &cols);
        let msg = e.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
        assert!(msg.contains("did you mean `RTT_STRT`?"), "{msg}");
    }
}
