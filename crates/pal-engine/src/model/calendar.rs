//! Dates: England & Wales bank holidays (the gov.uk bank-holidays JSON shape, shipped in
//! `data/`), working days, calendar months with a month-end rule, NHS week bands and ages.

use crate::base::value::{Duration, DurationKind};
use chrono::{Datelike, NaiveDate, Weekday};
use std::sync::OnceLock;

/// How adding calendar months treats a day that does not exist in the target month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MonthEnd {
    /// 31 Jan + 1 month = 28 (or 29) Feb.
    #[default]
    Clamp,
    /// 31 Jan + 1 month = 1 Mar.
    RollForward,
}

impl std::str::FromStr for MonthEnd {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "clamp" => Ok(MonthEnd::Clamp),
            "roll_forward" => Ok(MonthEnd::RollForward),
            other => Err(format!(
                "unknown month-end rule `{other}`: use clamp or roll_forward"
            )),
        }
    }
}

/// Bank holidays and the month-end rule: everything date arithmetic needs.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// The name of the holiday source.
    pub name: String,
    /// Sorted, without duplicates: a binary search is quicker than hashing for ~200 dates.
    holidays: Vec<NaiveDate>,
    /// The holidays that fall Monday to Friday (the ones that remove a working day), sorted.
    weekday_holidays: Vec<NaiveDate>,
    first_year: i32,
    last_year: i32,
    /// The month-end rule.
    pub month_end: MonthEnd,
}

const EMBEDDED: &str = include_str!("../../data/bank-holidays-england-and-wales.json");

impl Calendar {
    /// England & Wales bank holidays shipped with PAL (2010–2030), month end clamped.
    pub fn england_and_wales() -> Calendar {
        static CAL: OnceLock<Calendar> = OnceLock::new();
        CAL.get_or_init(|| {
            Calendar::from_json("england-and-wales", EMBEDDED).unwrap_or_else(|_| Calendar {
                name: "england-and-wales".into(),
                holidays: Vec::new(),
                weekday_holidays: Vec::new(),
                first_year: 0,
                last_year: 0,
                month_end: MonthEnd::Clamp,
            })
        })
        .clone()
    }

    /// Reads holidays in the gov.uk JSON shape: `{"england-and-wales": {"events": [{"date": …}]}}`.
    /// Uses the `england-and-wales` division if present, else the only one.
    pub fn from_json(name: &str, text: &str) -> Result<Calendar, String> {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let obj = doc
            .as_object()
            .ok_or("the top level must be an object of divisions")?;
        let division = match obj.get("england-and-wales") {
            Some(d) => d,
            None if obj.len() == 1 => obj.values().next().ok_or("no division")?,
            None => {
                return Err("no `england-and-wales` division, and more than one division".into())
            }
        };
        let events = division
            .get("events")
            .and_then(|e| e.as_array())
            .ok_or("the division has no `events` list")?;
        let mut holidays = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let date = e
                .get("date")
                .and_then(|d| d.as_str())
                .ok_or_else(|| format!("event {} has no `date`", i + 1))?;
            let d = crate::base::value::parse_date(date)
                .ok_or_else(|| format!("event {}: `{date}` is not a YYYY-MM-DD date", i + 1))?;
            holidays.push(d);
        }
        holidays.sort_unstable();
        holidays.dedup();
        let first_year = holidays.iter().map(|d| d.year()).min().unwrap_or(0);
        let last_year = holidays.iter().map(|d| d.year()).max().unwrap_or(0);
        let weekday_holidays = holidays
            .iter()
            .copied()
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .collect();
        Ok(Calendar {
            name: name.to_string(),
            holidays,
            weekday_holidays,
            first_year,
            last_year,
            month_end: MonthEnd::Clamp,
        })
    }

    /// The same holidays with another month-end rule.
    pub fn with_month_end(mut self, month_end: MonthEnd) -> Calendar {
        self.month_end = month_end;
        self
    }

    /// True if the holiday data covers the year of `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        (self.first_year..=self.last_year).contains(&date.year())
    }

    /// True if `date` is a bank holiday.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.binary_search(&date).is_ok()
    }

    /// Monday to Friday and not a bank holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }

    /// The number of working days from a fixed Monday up to and including `d` (negative
    /// before it): weekdays by whole weeks, minus the holidays on weekdays. Constant time
    /// plus a binary search, whatever the distance.
    fn working_days_to(&self, d: NaiveDate) -> i64 {
        // 1970-01-05 was a Monday.
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 5).unwrap_or(NaiveDate::MIN);
        let z = (d - epoch).num_days();
        let weekdays = 5 * z.div_euclid(7) + (z.rem_euclid(7) + 1).min(5);
        let holidays = self.weekday_holidays.partition_point(|h| *h <= d) as i64;
        weekdays - holidays
    }

    /// The first date `x` with `working_days_to(x) == target`, searching from `from`: jumps by
    /// whole weeks while far away (each jump lands within the holidays it crossed), then by
    /// days. That date is a working day.
    fn first_with_count(&self, target: i64, from: NaiveDate) -> Option<NaiveDate> {
        let mut g = from;
        loop {
            let diff = target - self.working_days_to(g);
            if diff == 0 {
                break;
            }
            let days = if diff.abs() >= 5 {
                diff / 5 * 7
            } else {
                diff.signum()
            };
            g = g.checked_add_signed(chrono::Duration::try_days(days)?)?;
        }
        while !self.is_working_day(g) {
            g = g.pred_opt()?;
        }
        Some(g)
    }

    /// The `n`-th working day after `d` (before, if `n` is negative); `n = 0` gives `d`.
    /// `None` past the representable dates. Computed by weeks and holiday counts, not a
    /// day-by-day walk, so `+ 100000000 working days` costs what `+ 5 working days` does.
    pub fn checked_add_working_days(&self, d: NaiveDate, n: i64) -> Option<NaiveDate> {
        if n == 0 {
            return Some(d);
        }
        // Beyond about 700,000 years either way there is no representable date.
        if n.unsigned_abs() > 200_000_000 {
            return None;
        }
        let here = self.working_days_to(d);
        let target = if n > 0 {
            here + n
        } else {
            here - i64::from(self.is_working_day(d)) + n + 1
        };
        self.first_with_count(target, d)
    }

    /// The number of working days `w` with `a < w <= b`; if `b < a`, minus the number with
    /// `b <= w < a`. So `working_days_between(d, checked_add_working_days(d, n)) == n`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            let forward = self.working_days_between(b, a);
            return -(forward - i64::from(self.is_working_day(a))
                + i64::from(self.is_working_day(b)));
        }
        self.working_days_to(b) - self.working_days_to(a)
    }

    /// `d` plus `months` calendar months under the month-end rule.
    pub fn checked_add_months(&self, d: NaiveDate, months: i64) -> Option<NaiveDate> {
        let total = d.year() as i64 * 12 + d.month0() as i64 + months;
        let year = i32::try_from(total.div_euclid(12)).ok()?;
        let month0 = total.rem_euclid(12) as u32;
        let last_day = last_day_of_month(year, month0 + 1)?;
        if d.day() <= last_day {
            return NaiveDate::from_ymd_opt(year, month0 + 1, d.day());
        }
        match self.month_end {
            MonthEnd::Clamp => NaiveDate::from_ymd_opt(year, month0 + 1, last_day),
            MonthEnd::RollForward => {
                NaiveDate::from_ymd_opt(year, month0 + 1, last_day)?.succ_opt()
            }
        }
    }

    /// `d + dur`, or `None` past the representable dates.
    pub fn checked_add(&self, d: NaiveDate, dur: Duration) -> Option<NaiveDate> {
        match dur.kind {
            DurationKind::Days => d.checked_add_signed(chrono::Duration::try_days(dur.amount)?),
            DurationKind::Months => self.checked_add_months(d, dur.amount),
            DurationKind::WorkingDays => self.checked_add_working_days(d, dur.amount),
        }
    }

    /// `d + dur`, saturating at the first or last representable date.
    pub fn add(&self, d: NaiveDate, dur: Duration) -> NaiveDate {
        self.checked_add(d, dur).unwrap_or(if dur.amount < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
    }
}

fn last_day_of_month(year: i32, month: u32) -> Option<u32> {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    first_next.pred_opt().map(|d| d.day())
}

/// The first day of `d`'s calendar month.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The last day of `d`'s calendar month (28, 29, 30 or 31).
pub fn month_end(d: NaiveDate) -> NaiveDate {
    last_day_of_month(d.year(), d.month())
        .and_then(|last| d.with_day(last))
        .unwrap_or(d)
}

/// True if `a` and `b` fall in the same calendar month of the same year.
pub fn same_month(a: NaiveDate, b: NaiveDate) -> bool {
    a.year() == b.year() && a.month() == b.month()
}

/// `b − a` in days (the start day is day 0).
pub fn days_between(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days()
}

/// The NHS reporting band: "> k−1 to k weeks" with `k = max(1, ceil(days / 7))`.
pub fn weeks_band(days: i64) -> i64 {
    if days <= 0 {
        1
    } else {
        (days + 6).div_euclid(7)
    }
}

/// Completed weeks: `floor(days / 7)`.
pub fn completed_weeks(days: i64) -> i64 {
    days.div_euclid(7)
}

/// Age in completed years on `on`. Someone born on 29 February reaches a birthday on 1 March
/// in other years, as in UK law.
pub fn age_in_years(birth: NaiveDate, on: NaiveDate) -> i64 {
    if on < birth {
        return 0;
    }
    let mut years = (on.year() - birth.year()) as i64;
    let birthday_this_year = (birth.month(), birth.day());
    let (m, d) = (on.month(), on.day());
    let reached =
        if birthday_this_year == (2, 29) && NaiveDate::from_ymd_opt(on.year(), 2, 29).is_none() {
            (m, d) >= (3, 1)
        } else {
            (m, d) >= birthday_this_year
        };
    if !reached {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        crate::base::value::parse_date(s).unwrap_or(NaiveDate::MIN)
    }

    fn cal() -> Calendar {
        Calendar::england_and_wales()
    }

    #[test]
    fn the_shipped_holidays_parse_and_cover_2010_to_2030() {
        let c = cal();
        assert!(c.covers(d("2010-01-01")) && c.covers(d("2030-12-31")));
        assert!(!c.covers(d("2031-01-01")));
        for h in [
            "2025-12-25",
            "2025-12-26",
            "2025-04-18",
            "2025-04-21",
            "2022-09-19",
            "2023-05-08",
            "2021-12-27",
            "2021-12-28",
            "2022-01-03",
        ] {
            assert!(c.is_holiday(d(h)), "{h}");
            assert!(!c.is_working_day(d(h)), "{h}");
        }
    }

    #[test]
    fn working_days_skip_christmas_new_year_and_easter() {
        let c = cal();
        // Friday 19 Dec 2025: 22, 23, 24 work; 25, 26 holidays; 27, 28 weekend; 29, 30 work.
        assert_eq!(
            c.checked_add_working_days(d("2025-12-19"), 4),
            Some(d("2025-12-29"))
        );
        assert_eq!(
            c.checked_add_working_days(d("2025-12-19"), 5),
            Some(d("2025-12-30"))
        );
        // New Year's Day 2026 is a Thursday.
        assert_eq!(
            c.checked_add_working_days(d("2025-12-31"), 1),
            Some(d("2026-01-02"))
        );
        // Easter 2025: Good Friday 18 April, Easter Monday 21 April.
        assert_eq!(
            c.checked_add_working_days(d("2025-04-17"), 1),
            Some(d("2025-04-22"))
        );
        assert_eq!(c.working_days_between(d("2025-04-17"), d("2025-04-22")), 1);
        // Backwards.
        assert_eq!(
            c.checked_add_working_days(d("2025-04-22"), -1),
            Some(d("2025-04-17"))
        );
        assert_eq!(
            c.checked_add_working_days(d("2025-12-27"), 0),
            Some(d("2025-12-27"))
        );
        // Substitute days 2021/22 and the 2022 state funeral.
        assert_eq!(
            c.checked_add_working_days(d("2021-12-24"), 1),
            Some(d("2021-12-29"))
        );
        assert_eq!(
            c.checked_add_working_days(d("2022-09-16"), 1),
            Some(d("2022-09-20"))
        );
    }

    #[test]
    fn rtt_day_counts() {
        assert_eq!(days_between(d("2024-01-03"), d("2024-05-08")), 126);
        assert_eq!(days_between(d("2024-01-03"), d("2024-05-09")), 127);
        let c = cal();
        assert_eq!(c.add(d("2025-01-06"), Duration::days(126)), d("2025-05-12"));
        assert_eq!(weeks_band(0), 1);
        assert_eq!(weeks_band(7), 1);
        assert_eq!(weeks_band(8), 2);
        assert_eq!(weeks_band(126), 18);
        assert_eq!(weeks_band(127), 19);
        assert_eq!(completed_weeks(126), 18);
        assert_eq!(completed_weeks(125), 17);
    }

    #[test]
    fn month_arithmetic_follows_the_month_end_rule() {
        let c = cal();
        let m = |n| Duration {
            kind: DurationKind::Months,
            amount: n,
        };
        assert_eq!(c.add(d("2024-01-31"), m(1)), d("2024-02-29"));
        assert_eq!(c.add(d("2025-01-31"), m(1)), d("2025-02-28"));
        assert_eq!(c.add(d("2024-02-29"), m(12)), d("2025-02-28"));
        assert_eq!(c.add(d("2025-03-31"), m(-1)), d("2025-02-28"));
        assert_eq!(c.add(d("2025-11-15"), m(3)), d("2026-02-15"));
        let r = cal().with_month_end(MonthEnd::RollForward);
        assert_eq!(r.add(d("2024-01-31"), m(1)), d("2024-03-01"));
        assert_eq!(r.add(d("2025-01-31"), m(1)), d("2025-03-01"));
        assert_eq!(r.add(d("2025-01-15"), m(1)), d("2025-02-15"));
    }

    #[test]
    fn ages_in_completed_years() {
        assert_eq!(age_in_years(d("2007-03-01"), d("2025-02-28")), 17);
        assert_eq!(age_in_years(d("2007-03-01"), d("2025-03-01")), 18);
        assert_eq!(age_in_years(d("2008-02-29"), d("2026-02-28")), 17);
        assert_eq!(age_in_years(d("2008-02-29"), d("2026-03-01")), 18);
        assert_eq!(age_in_years(d("2008-02-29"), d("2028-02-29")), 20);
        assert_eq!(age_in_years(d("2025-01-01"), d("2024-01-01")), 0);
    }

    #[test]
    fn huge_durations_saturate_instead_of_panicking() {
        let c = cal();
        assert_eq!(
            c.add(d("2025-01-01"), Duration::days(i64::MAX)),
            NaiveDate::MAX
        );
        let m = Duration {
            kind: DurationKind::Months,
            amount: i64::MIN,
        };
        assert_eq!(c.add(d("2025-01-01"), m), NaiveDate::MIN);
        // Working days by weeks, not a walk: instant, and past the last date it saturates.
        let far = Duration {
            kind: DurationKind::WorkingDays,
            amount: 100_000_000,
        };
        let t = std::time::Instant::now();
        assert_eq!(c.add(d("2025-01-01"), far), NaiveDate::MAX);
        let back = Duration {
            amount: -100_000_000,
            ..far
        };
        assert_eq!(c.add(d("2025-01-01"), back), NaiveDate::MIN);
        let near = Duration {
            amount: 1_000_000,
            ..far
        };
        assert!(c.checked_add(d("2025-01-01"), near).is_some());
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        assert!(
            Calendar::from_json("x", "{\"a\": {\"events\": [{\"date\": \"2025-13-01\"}]}}")
                .is_err()
        );
        assert!(Calendar::from_json("x", "[1]").is_err());
    }

    #[test]
    fn calendar_month_bounds_with_month_ends_and_leap_years() {
        // (date, month_start, month_end)
        for (day, start, end) in [
            ("2024-02-10", "2024-02-01", "2024-02-29"), // leap year
            ("2023-02-28", "2023-02-01", "2023-02-28"), // common year, on the last day
            ("2000-02-01", "2000-02-01", "2000-02-29"), // divisible by 400: leap
            ("2100-02-15", "2100-02-01", "2100-02-28"), // divisible by 100: not leap
            ("2025-01-31", "2025-01-01", "2025-01-31"),
            ("2025-04-30", "2025-04-01", "2025-04-30"),
            ("2025-12-01", "2025-12-01", "2025-12-31"), // year end
            ("2025-06-15", "2025-06-01", "2025-06-30"),
        ] {
            assert_eq!(month_start(d(day)), d(start), "month_start({day})");
            assert_eq!(month_end(d(day)), d(end), "month_end({day})");
        }
        assert_eq!(month_end(NaiveDate::MAX), NaiveDate::MAX);
        assert_eq!(month_start(NaiveDate::MIN), NaiveDate::MIN);
        for (a, b, same) in [
            ("2024-02-01", "2024-02-29", true),
            ("2024-02-29", "2024-03-01", false),
            ("2024-05-10", "2025-05-10", false),
        ] {
            assert_eq!(same_month(d(a), d(b)), same, "same_month({a}, {b})");
        }
    }

    fn date_in_range() -> impl Strategy<Value = NaiveDate> {
        (0i64..5800).prop_map(|o| d("2015-01-01") + chrono::Duration::days(o))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

        #[test]
        fn working_days_round_trip(start in date_in_range(), n in -60i64..60) {
            let c = cal();
            let end = c.checked_add_working_days(start, n).unwrap_or(start);
            prop_assert_eq!(c.working_days_between(start, end), n);
            if n != 0 {
                prop_assert!(c.is_working_day(end));
            }
        }

        #[test]
        fn working_days_match_a_day_by_day_walk(start in date_in_range(), n in -400i64..400) {
            let c = cal();
            let step = if n >= 0 { 1 } else { -1 };
            let mut left = n.unsigned_abs();
            let mut cur = start;
            while left > 0 {
                cur += chrono::Duration::days(step);
                if c.is_working_day(cur) {
                    left -= 1;
                }
            }
            prop_assert_eq!(c.checked_add_working_days(start, n), Some(cur));
            let mut count = 0;
            let (lo, hi) = if start <= cur { (start, cur) } else { (cur, start) };
            let mut x = lo;
            while x < hi {
                x += chrono::Duration::days(1);
                count += i64::from(c.is_working_day(x));
            }
            if start <= cur {
                prop_assert_eq!(c.working_days_between(start, cur), count);
            }
        }

        #[test]
        fn month_bounds_contain_the_date(day in date_in_range()) {
            let (s, e) = (month_start(day), month_end(day));
            prop_assert!(s <= day && day <= e);
            prop_assert!(same_month(s, e));
            prop_assert_eq!(s.day(), 1);
            prop_assert!(!same_month(e, e + chrono::Duration::days(1)));
        }

        #[test]
        fn days_add_and_subtract(start in date_in_range(), n in -1000i64..1000) {
            let c = cal();
            let end = c.add(start, Duration::days(n));
            prop_assert_eq!(days_between(start, end), n);
            prop_assert_eq!(c.add(end, Duration::days(-n)), start);
        }
    }
}
