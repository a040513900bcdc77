//! The event model: one dated, typed event of a pathway, as the readers, the REPL and test
//! blocks produce it and the evaluator consumes it.

use crate::base::value::Value;
use crate::model::schema::EventTypeId;
use chrono::NaiveDate;

/// One event of a pathway.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it happened.
    pub date: NaiveDate,
    /// Its type.
    pub kind: EventTypeId,
    /// One value per field of the type, in declaration order (defaults applied, `Unset` for
    /// absent optionals).
    pub fields: Box<[Value]>,
    /// The 1-based line of the row in its file.
    pub line: u32,
    /// Orders same-date events as the input did: the row's line in a file, the step's
    /// number in the REPL.
    pub seq: u32,
}

/// The order events of one pathway are applied in: by date, then on one date by the schema's
/// declared same-day precedence (`same_day_order { … }`), then in input order (`seq`). The one
/// ordering every reader of a pathway uses (the evaluator for `pal run`, `pal test` and the
/// REPL, `pal explain`'s timeline, the native baseline), so that it is decided in one place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SameDayOrder {
    /// Per event type: its rank on a date (0 = not listed: before the listed types, in input
    /// order; then 1, 2, … in the declared order).
    rank: Vec<u32>,
}

impl SameDayOrder {
    /// An order from each event type's rank (0 = not listed).
    pub fn new(rank: Vec<u32>) -> SameDayOrder {
        SameDayOrder { rank }
    }

    /// True if no event type has a rank: same-date events keep input order.
    pub fn is_input_order(&self) -> bool {
        self.rank.iter().all(|r| *r == 0)
    }

    /// The rank of an event type on a date (0 if not listed).
    pub fn rank(&self, kind: EventTypeId) -> u32 {
        self.rank.get(kind as usize).copied().unwrap_or(0)
    }

    /// The sort key of an event: (date, rank, input order).
    pub fn key(&self, e: &Event) -> (NaiveDate, u32, u32) {
        (e.date, self.rank(e.kind), e.seq)
    }

    /// True if `events` are already in this order.
    pub fn is_sorted<E: std::borrow::Borrow<Event>>(&self, events: &[E]) -> bool {
        events
            .windows(2)
            .all(|w| self.key(w[0].borrow()) <= self.key(w[1].borrow()))
    }

    /// Puts a pathway's events in this order (stable: equal keys cannot occur, as `seq` is
    /// distinct within a pathway, but input order is kept regardless).
    pub fn sort(&self, events: &mut [&Event]) {
        if !self.is_sorted(events) {
            events.sort_by_key(|e| self.key(e));
        }
    }
}

/// A test's (or REPL session's) `pathway { … }` attributes hold from the start: an event that
/// carries the pathway (`..pathway`) changes only the attributes its line wrote, so the fields
/// it did not write take the given attribute values instead of their defaults (a later
/// `referral_received { }` must not make a `vulnerable: true` patient not vulnerable).
/// `written[i][f]`: whether event `i`'s line wrote field `f`. Attributes not given keep the
/// event's own (default) values.
pub fn hold_attributes(
    schema: &crate::model::schema::Schema,
    attributes: &[(u16, Value)],
    events: &mut [Event],
    written: &[Vec<bool>],
) {
    if attributes.is_empty() {
        return;
    }
    for (ev, given) in events.iter_mut().zip(written) {
        let Some(def) = schema.events.get(ev.kind as usize) else {
            continue;
        };
        for (f, slot) in def.sets_attribute.iter().enumerate() {
            let Some(slot) = slot else { continue };
            if given.get(f).copied().unwrap_or(true) {
                continue;
            }
            // The last value the test or session gave this attribute, if any.
            if let Some((_, v)) = attributes
                .iter()
                .rev()
                .find(|(a, _)| u32::from(*a) == *slot)
            {
                if let Some(field) = ev.fields.get_mut(f) {
                    *field = v.clone();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(date: &str, kind: EventTypeId, seq: u32) -> Event {
        Event {
            date: crate::base::value::parse_date(date).unwrap_or_default(),
            kind,
            fields: Box::new([]),
            line: seq + 1,
            seq,
        }
    }

    /// (rank per type, events as (date, type) in input order, expected order of input indices)
    #[test]
    fn same_date_events_sort_by_rank_then_input_order() {
        type Case = (
            &'static [u32],
            &'static [(&'static str, EventTypeId)],
            &'static [usize],
        );
        let cases: &[Case] = &[
            // No ranks: input order within a date, dates ascending.
            (
                &[],
                &[("2025-01-02", 1), ("2025-01-01", 2), ("2025-01-02", 0)],
                &[1, 0, 2],
            ),
            // Type 2 before type 1 on one date, whichever came first.
            (&[0, 2, 1], &[("2025-01-02", 1), ("2025-01-02", 2)], &[1, 0]),
            (&[0, 2, 1], &[("2025-01-02", 2), ("2025-01-02", 1)], &[0, 1]),
            // Unlisted (type 0) first, in input order; then listed by rank.
            (
                &[0, 2, 1],
                &[
                    ("2025-01-02", 1),
                    ("2025-01-02", 0),
                    ("2025-01-02", 2),
                    ("2025-01-02", 0),
                ],
                &[1, 3, 2, 0],
            ),
            // Ranks never move an event across dates.
            (&[0, 2, 1], &[("2025-01-01", 1), ("2025-01-02", 2)], &[0, 1]),
            // Two events of one listed type keep input order.
            (
                &[0, 1],
                &[("2025-01-02", 1), ("2025-01-02", 0), ("2025-01-02", 1)],
                &[1, 0, 2],
            ),
        ];
        for (ranks, input, expected) in cases {
            let order = SameDayOrder::new(ranks.to_vec());
            let events: Vec<Event> = input
                .iter()
                .enumerate()
                .map(|(i, (d, k))| ev(d, *k, i as u32))
                .collect();
            let mut refs: Vec<&Event> = events.iter().collect();
            order.sort(&mut refs);
            let got: Vec<usize> = refs.iter().map(|e| e.seq as usize).collect();
            assert_eq!(&got, expected, "ranks {ranks:?}, input {input:?}");
            assert!(order.is_sorted(&refs));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, .. Default::default() })]

        /// Whatever order the input gives same-date events of distinct ranked types, they
        /// are applied in one order; unranked events keep their input order.
        #[test]
        fn any_input_order_of_ranked_types_sorts_the_same(
            kinds in proptest::collection::vec(0u32..6, 1..12),
            days in proptest::collection::vec(1u32..4, 12),
            seed in proptest::prelude::any::<u64>(),
        ) {
            // Types 3, 4, 5 are ranked (5 first); 0, 1, 2 are not.
            let order = SameDayOrder::new(vec![0, 0, 0, 3, 2, 1]);
            let events: Vec<Event> = kinds
                .iter()
                .zip(&days)
                .enumerate()
                .map(|(i, (k, d))| ev(&format!("2025-01-0{d}"), *k, i as u32))
                .collect();
            // A deterministic shuffle of the input; `seq` follows the new input order.
            let mut shuffled: Vec<Event> = events.clone();
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            for (i, e) in shuffled.iter_mut().enumerate() {
                e.seq = i as u32;
            }
            let sorted = |evs: &[Event]| -> Vec<(NaiveDate, u32, EventTypeId)> {
                let mut r: Vec<&Event> = evs.iter().collect();
                order.sort(&mut r);
                r.iter().map(|e| (e.date, order.rank(e.kind), e.kind)).collect()
            };
            let (a, b) = (sorted(&events), sorted(&shuffled));
            // Same dates and ranks in the same places, whatever the input order.
            let strip = |v: &[(NaiveDate, u32, EventTypeId)]| -> Vec<(NaiveDate, u32)> {
                v.iter().map(|(d, r, _)| (*d, *r)).collect()
            };
            proptest::prop_assert_eq!(strip(&a), strip(&b));
            // Ranked types: the same type in each place.
            for (x, y) in a.iter().zip(&b) {
                if x.1 > 0 {
                    proptest::prop_assert_eq!(x.2, y.2);
                }
            }
        }
    }
}
