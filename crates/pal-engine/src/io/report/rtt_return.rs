//! The monthly RTT return in NHS England's "full CSV" layout: 13 descriptive columns, 105
//! weekly bands (`Gt 00 To 01 Weeks SUM 1` … `Gt 103 To 104 Weeks SUM 1`, `Gt 104 Weeks SUM 1`)
//! and three totals, one row per provider × commissioner × part × treatment function. The
//! counts are the services layer's (`services::returns::rtt`); this module only holds and writes
//! them.
//!
//! Which cells are filled follows the published files: Parts 1A and 1B fill the bands, `Total`,
//! `Patients with unknown clock start date` and `Total All`; Parts 2 and 2A fill the bands and
//! `Total All` (the sum of the bands), leaving `Total` and the unknown-start column empty; Part 3
//! (clock starts) fills only `Total All`. Every band of a banded part is written, zero included.

use serde::Serialize;
use std::io::{self, Write};

/// Number of weekly band columns: 104 one-week bands and the open `Gt 104 Weeks`.
pub const BANDS: usize = 105;

/// The descriptive columns, in the published order.
pub const DESCRIPTIVE_COLUMNS: [&str; 13] = [
    "Period",
    "Provider Parent Org Code",
    "Provider Parent Name",
    "Provider Org Code",
    "Provider Org Name",
    "Commissioner Parent Org Code",
    "Commissioner Parent Name",
    "Commissioner Org Code",
    "Commissioner Org Name",
    "RTT Part Type",
    "RTT Part Description",
    "Treatment Function Code",
    "Treatment Function Name",
];

/// The totals columns after the bands.
pub const TOTAL_COLUMNS: [&str; 3] = [
    "Total",
    "Patients with unknown clock start date",
    "Total All",
];

/// The return row code and name of the all-functions total.
pub const ALL_FUNCTIONS: (&str, &str) = ("C_999", "Total");

/// The band column for band index `i` (0 = `Gt 00 To 01 Weeks SUM 1`, 104 = `Gt 104 Weeks SUM 1`).
pub fn band_column(i: usize) -> String {
    if i >= BANDS - 1 {
        "Gt 104 Weeks SUM 1".to_string()
    } else {
        format!("Gt {:02} To {:02} Weeks SUM 1", i, i + 1)
    }
}

/// Every column of the return, in order (121).
pub fn columns() -> Vec<String> {
    DESCRIPTIVE_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain((0..BANDS).map(band_column))
        .chain(TOTAL_COLUMNS.iter().map(|c| c.to_string()))
        .collect()
}

/// A part of the return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum RttPart {
    /// Completed pathways for admitted patients (clock stopped in the month by admission for
    /// treatment).
    Part1A,
    /// Completed pathways for non-admitted patients (clock stopped in the month otherwise).
    Part1B,
    /// Incomplete pathways: clock running at the end of the month.
    Part2,
    /// Incomplete pathways with a decision to admit.
    Part2A,
    /// New RTT periods: clocks started in the month.
    Part3,
}

impl RttPart {
    /// Every part, in the return's order.
    pub const ALL: [RttPart; 5] = [
        RttPart::Part1A,
        RttPart::Part1B,
        RttPart::Part2,
        RttPart::Part2A,
        RttPart::Part3,
    ];

    /// The `RTT Part Type` cell.
    pub fn code(self) -> &'static str {
        match self {
            RttPart::Part1A => "Part_1A",
            RttPart::Part1B => "Part_1B",
            RttPart::Part2 => "Part_2",
            RttPart::Part2A => "Part_2A",
            RttPart::Part3 => "Part_3",
        }
    }

    /// The `RTT Part Description` cell.
    pub fn description(self) -> &'static str {
        match self {
            RttPart::Part1A => "Completed Pathways For Admitted Patients",
            RttPart::Part1B => "Completed Pathways For Non-Admitted Patients",
            RttPart::Part2 => "Incomplete Pathways",
            RttPart::Part2A => "Incomplete Pathways with DTA",
            RttPart::Part3 => "New RTT Periods - All Patients",
        }
    }

    /// True if the part is counted by weeks waited (all but Part 3).
    pub fn banded(self) -> bool {
        self != RttPart::Part3
    }

    /// True if the part fills `Total` and the unknown-clock-start column (completed pathways).
    pub fn completed(self) -> bool {
        matches!(self, RttPart::Part1A | RttPart::Part1B)
    }
}

/// An organisation named in the return (provider, commissioner or their parents).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Organisation {
    /// The ODS code.
    pub code: String,
    /// The name as published.
    pub name: String,
}

/// The descriptive cells shared by the rows of one provider × commissioner block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReturnOrganisations {
    /// Provider parent (the ICB).
    pub provider_parent: Organisation,
    /// Provider.
    pub provider: Organisation,
    /// Commissioner parent.
    pub commissioner_parent: Organisation,
    /// Commissioner.
    pub commissioner: Organisation,
}

/// One row: a part × treatment function group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RttReturnRow {
    /// The part.
    pub part: RttPart,
    /// `Treatment Function Code` (`C_110`, `X05`, `C_999`).
    pub function_code: String,
    /// `Treatment Function Name`.
    pub function_name: String,
    /// Pathways per weekly band (all zero for Part 3).
    pub bands: Vec<u64>,
    /// Completed pathways with no known clock start.
    pub unknown_start: u64,
    /// `Total All`: every pathway of the row.
    pub total_all: u64,
}

impl RttReturnRow {
    /// An empty row.
    pub fn new(part: RttPart, function_code: &str, function_name: &str) -> RttReturnRow {
        RttReturnRow {
            part,
            function_code: function_code.to_string(),
            function_name: function_name.to_string(),
            bands: vec![0; BANDS],
            unknown_start: 0,
            total_all: 0,
        }
    }

    /// `Total`: the sum of the bands.
    pub fn total(&self) -> u64 {
        self.bands.iter().sum()
    }

    /// The row's cells after the descriptive columns, as the published files fill them.
    fn count_cells(&self) -> Vec<String> {
        let mut cells: Vec<String> = if self.part.banded() {
            self.bands.iter().map(u64::to_string).collect()
        } else {
            vec![String::new(); BANDS]
        };
        if self.part.completed() {
            cells.push(self.total().to_string());
            cells.push(self.unknown_start.to_string());
        } else {
            cells.push(String::new());
            cells.push(String::new());
        }
        cells.push(self.total_all.to_string());
        cells
    }
}

/// The return of one month: its period label, the organisations, and the rows in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RttReturn {
    /// `Period`, e.g. `RTT-March-2025`.
    pub period: String,
    /// The blocks: organisations and their rows (per part: each function group with any
    /// pathway, in the grouping file's order, then the all-functions total).
    pub blocks: Vec<(ReturnOrganisations, Vec<RttReturnRow>)>,
}

/// Writes the return as NHS England's full CSV: the header, then every row.
pub fn write_csv(r: &RttReturn, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(columns()).map_err(io::Error::other)?;
    for (orgs, rows) in &r.blocks {
        for row in rows {
            let mut cells = vec![
                r.period.clone(),
                orgs.provider_parent.code.clone(),
                orgs.provider_parent.name.clone(),
                orgs.provider.code.clone(),
                orgs.provider.name.clone(),
                orgs.commissioner_parent.code.clone(),
                orgs.commissioner_parent.name.clone(),
                orgs.commissioner.code.clone(),
                orgs.commissioner.name.clone(),
                row.part.code().to_string(),
                row.part.description().to_string(),
                row.function_code.clone(),
                row.function_name.clone(),
            ];
            for c in cells.iter_mut().skip(1) {
                if let std::borrow::Cow::Owned(safe) = super::spreadsheet_safe(c) {
                    *c = safe;
                }
            }
            cells.extend(row.count_cells());
            w.write_record(&cells).map_err(io::Error::other)?;
        }
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_the_published_one() {
        let cols = columns();
        assert_eq!(cols.len(), 121);
        assert_eq!(cols[12], "Treatment Function Name");
        assert_eq!(cols[13], "Gt 00 To 01 Weeks SUM 1");
        assert_eq!(cols[14], "Gt 01 To 02 Weeks SUM 1");
        assert_eq!(cols[116], "Gt 103 To 104 Weeks SUM 1");
        assert_eq!(cols[117], "Gt 104 Weeks SUM 1");
        assert_eq!(
            &cols[118..],
            [
                "Total",
                "Patients with unknown clock start date",
                "Total All"
            ]
        );
    }

    #[test]
    fn cells_follow_the_part() {
        let mut a = RttReturnRow::new(RttPart::Part1A, "C_100", "General Surgery Service");
        a.bands[0] = 2;
        a.bands[104] = 1;
        a.total_all = 3;
        let cells = a.count_cells();
        assert_eq!(cells[0], "2");
        assert_eq!(cells[1], "0");
        assert_eq!(cells[104], "1");
        assert_eq!(&cells[105..], ["3", "0", "3"]);
        let mut two = RttReturnRow::new(RttPart::Part2, "C_999", "Total");
        two.bands[3] = 4;
        two.total_all = 4;
        let cells = two.count_cells();
        assert_eq!(cells[3], "4");
        assert_eq!(&cells[105..], ["", "", "4"]);
        let mut three = RttReturnRow::new(RttPart::Part3, "C_999", "Total");
        three.total_all = 5;
        let cells = three.count_cells();
        assert!(cells[..107].iter().all(String::is_empty));
        assert_eq!(cells[107], "5");
    }
}
