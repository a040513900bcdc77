//! TEMPORARY STUB (replaced by the calendar module).
use chrono::NaiveDate;
/// Month-end rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MonthEnd {
    #[default]
    Clamp,
    RollForward,
}
/// Calendar.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    pub month_end: MonthEnd,
}
impl Calendar {
    pub fn england_and_wales() -> Calendar {
        Calendar::default()
    }
    pub fn from_json(_name: &str, _text: &str) -> Result<Calendar, String> {
        Ok(Calendar::default())
    }
    pub fn with_month_end(mut self, m: MonthEnd) -> Calendar {
        self.month_end = m;
        self
    }
    pub fn add(&self, d: NaiveDate, dur: crate::value::Duration) -> NaiveDate {
        d + chrono::Duration::days(dur.amount)
    }
    pub fn checked_add(&self, d: NaiveDate, dur: crate::value::Duration) -> Option<NaiveDate> {
        Some(self.add(d, dur))
    }
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        (b - a).num_days()
    }
}
pub fn days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days()
}
pub fn age_in_years(b: NaiveDate, on: NaiveDate) -> i64 {
    (on - b).num_days() / 365
}
pub fn weeks_band(days: i64) -> i64 {
    if days <= 0 {
        1
    } else {
        (days + 6) / 7
    }
}
