# The rde.pal outcome rules whose outcome depends only on a pathway's events and attributes,
# with their exceptions, in Rego. Evaluated once per pathway by regorus; `fired` is the set of
# [event index, rule or exception name, outcome] that PAL's outcomes must match.
#
# input.attrs   pathway-attribute snapshots (see src/data.rs: which referral's attributes are in
#               force at each event is resolved by the harness)
# input.events  the pathway's events in PAL's order: `event` (type), `date` (days since
#               1970-01-01), `ymd` (yyyymmdd), `a` (index of the attribute snapshot in force) and
#               the event's fields (enums by name, dates as day numbers, absent optionals left out)
# data.params   rde.pal's parameters (durations in days)
#
# PAL's semantics carried over: "history" is the events up to and including the current one;
# when a rule holds, an exception whose condition also holds replaces its outcome; when two
# exceptions of one rule hold, the rule's own outcome stands (PAL reports a conflict).

package pal

import rego.v1

p := data.params

# ------------------------------------------------------------------ definitions

first_dna(e) if {
	e.event == "dna"
	e.appointment == "first"
}

# `x at least D after y` is `y + D <= x`. A decline's notice is measured from its offer
# (3.34, 9.7.3, 10.2.1): `last(offer_made where offer_made.appointment == kind and
# offer_made.offered_date == e.offered_date).date ?? e.date`, the offer searched in the history
# of the triggering event `i` (PAL's nested queries read the trigger's history). The decline's
# own date leads the list, so the last element is the latest matching offer's date, else it.
reasonable_decline(i, e, kind) if {
	e.event == "offer_declined"
	e.appointment == kind
	offered := e.offered_date
	dates := array.concat([e.date], [m.date |
		some k, m in input.events
		k <= i
		m.event == "offer_made"
		m.appointment == kind
		m.offered_date == offered
	])
	dates[count(dates) - 1] + p.reasonable_notice <= offered
}

# age(pathway.birth_date, now) < child_age
child(ev) if {
	birth := input.attrs[ev.a].birth_date_ymd
	ev.ymd - birth < p.child_age * 10000
}

protected_patient(ev) if child(ev)

protected_patient(ev) if input.attrs[ev.a].vulnerable == true

# urgent_cancer_referral or is_two_week_wait or exists(consultant_upgrade)
cancer_suspected(i, ev) if input.attrs[ev.a].cancer_route != "none"

cancer_suspected(i, ev) if input.attrs[ev.a].priority == "two_week_wait"

cancer_suspected(i, ev) if {
	some j, e in input.events
	j <= i
	e.event == "consultant_upgrade"
}

follow_up_protected(i, ev) if protected_patient(ev)

follow_up_protected(i, ev) if cancer_suspected(i, ev)

follow_up_protected(i, ev) if input.attrs[ev.a].priority == "urgent"

# consecutive(dna where dna.appointment == first among dna, attended)
consecutive_first_dna(i) := n if {
	breaks := [j |
		some j, e in input.events
		j <= i
		e.event in {"dna", "attended"}
		not first_dna(e)
	]
	last_break := max(array.concat([-1], breaks))
	n := count([j |
		some j, e in input.events
		j <= i
		j > last_break
		first_dna(e)
	])
}

# The rule's own [name, outcome], or the one applicable exception's among `candidates`
# ([name, outcome] pairs).
acting(own, candidates, i, ev) := x if {
	exceptions := {x | some x in candidates; applies(x[0], i, ev)}
	count(exceptions) == 1
	some x in exceptions
}

acting(own, candidates, i, ev) := own if {
	exceptions := {x | some x in candidates; applies(x[0], i, ev)}
	count(exceptions) != 1
}

# When each exception applies (on its rule's event, once the rule holds). Written as a lookup
# by name rather than as `{[name, outcome] | condition}`: regorus 0.14.1's RVM makes such a
# comprehension (no generator) undefined, not empty, when the condition fails.
applies("short_notice_cancellation", i, ev) if short_notice_cancellation(i, ev)

applies("suspected_cancer_cancellations", i, ev) if cancer_suspected(i, ev)

applies("cancer_repeat_first_dna", i, ev) if {
	cancer_suspected(i, ev)
	consecutive_first_dna(i) >= p.repeat_dna_limit
}

applies("follow_up_dna_discharge", i, ev) if {
	p.discharge_follow_up_dna_without_review == true
	not follow_up_protected(i, ev)
}

applies("follow_up_dna_protected", i, ev) if follow_up_protected(i, ev)

applies("medically_unfit_long_term", i, ev) if not fit_within_short_term(ev)

fit_within_short_term(ev) if {
	until := ev.expected_until
	until <= ev.date + p.short_term_unfit
}

# ------------------------------------------------------------------ 9.7.3 / 10.2.2 offers

fired contains [i, "first_offers_declined", "record_patient_choice"] if {
	some i, ev in input.events
	reasonable_decline(i, ev, "first")
	count([j | some j, e in input.events; j <= i; reasonable_decline(i, e, "first")]) >= p.reasonable_offers
}

fired contains [i, "admission_offers_declined", "book_admission"] if {
	some i, ev in input.events
	reasonable_decline(i, ev, "admission")
	count([j | some j, e in input.events; j <= i; reasonable_decline(i, e, "admission")]) >= p.reasonable_offers
}

# 9.8.2
fired contains [i, "follow_up_pending_list", "add_to_pending_list"] if {
	some i, ev in input.events
	ev.event == "offer_made"
	ev.appointment == "follow_up"
	ev.offered_date > ev.date + p.pending_list_horizon
}

# ------------------------------------------------------------------ 9.10 patient cancellations

patient_cancellation_discharge(i, ev) if {
	ev.event == "patient_cancelled"
	ev.appointment != "admission"
	n := count([j |
		some j, e in input.events
		j <= i
		e.event == "patient_cancelled"
		e.appointment != "admission"
	])
	n >= p.cancellation_limit
}

# `not (x at least D after y)` is written `x < y + D` throughout: regorus 0.14.1's RVM does not
# fail a body at `d := <undefined>`, so `d := ev.appointment_date; not … d` holds there when
# the field is absent.
short_notice_cancellation(i, ev) if {
	not cancer_suspected(i, ev)
	d := ev.appointment_date
	some j, e in input.events
	j <= i
	e.event == "appointment_booked"
	e.appointment_date == d
	e.appointment_date < e.date + p.reasonable_notice
}

fired contains [i, x[0], x[1]] if {
	some i, ev in input.events
	patient_cancellation_discharge(i, ev)
	x := acting(
		["patient_cancellation_discharge", "discharge_to_referrer"],
		[["short_notice_cancellation", "rebook"], ["suspected_cancer_cancellations", "clinical_review"]],
		i, ev,
	)
}

# 9.10.4
fired contains [i, "declined_treatment_discharge", "discharge_to_referrer"] if {
	some i, ev in input.events
	ev.event == "patient_declined_treatment"
}

# ------------------------------------------------------------------ 9.11 hospital cancellations

fired contains [i, "short_notice_clinic_cancellation", "arrange_cover"] if {
	some i, ev in input.events
	ev.event == "hospital_cancelled"
	ev.appointment != "admission"
	ev.appointment_date < ev.date + p.clinic_cancellation_notice
}

fired contains [i, "hospital_cancellation_rebook", "rebook"] if {
	some i, ev in input.events
	ev.event == "hospital_cancelled"
	ev.appointment != "admission"
}

fired contains [i, "repeat_hospital_cancellation", "escalate"] if {
	some i, ev in input.events
	ev.event == "hospital_cancelled"
	count([j | some j, e in input.events; j <= i; e.event == "hospital_cancelled"]) >= p.repeat_hospital_cancellation
}

fired contains [i, "on_the_day_operation_cancelled", "rebook"] if {
	some i, ev in input.events
	ev.event == "hospital_cancelled"
	ev.appointment == "admission"
	ev.on_the_day == true
}

# ------------------------------------------------------------------ 9.12 / 9.13 DNAs

fired contains [i, "uncommunicated_dna_rebook", "rebook"] if {
	some i, ev in input.events
	ev.event == "dna"
	ev.communicated == false
}

fired contains [i, x[0], x[1]] if {
	some i, ev in input.events
	first_dna(ev)
	count([j | some j, e in input.events; j <= i; first_dna(e)]) >= p.repeat_dna_limit
	x := acting(
		["repeat_first_dna_review", "clinical_review"],
		[["cancer_repeat_first_dna", "discharge_to_referrer"]],
		i, ev,
	)
}

fired contains [i, "cancer_diagnostic_dna_review", "clinical_review"] if {
	some i, ev in input.events
	ev.event == "dna"
	ev.appointment == "diagnostic"
	cancer_suspected(i, ev)
	count([j | some j, e in input.events; j <= i; e.event == "dna"; e.appointment == "diagnostic"]) >= p.repeat_dna_limit
}

fired contains [i, x[0], x[1]] if {
	some i, ev in input.events
	ev.event == "dna"
	ev.appointment == "follow_up"
	ev.communicated == true
	x := acting(
		["follow_up_dna_review", "discharge_if_clinically_agreed"],
		[["follow_up_dna_discharge", "discharge_to_referrer"], ["follow_up_dna_protected", "rebook"]],
		i, ev,
	)
}

# ------------------------------------------------------------------ 9.3 / 9.14 rejections

fired contains [i, "rejected_referral_return", "return_to_referrer"] if {
	some i, ev in input.events
	ev.event == "referral_rejected"
}

# ------------------------------------------------------------------ 10.1 medically unfit

fired contains [i, x[0], x[1]] if {
	some i, ev in input.events
	ev.event == "medically_unfit"
	x := acting(
		["medically_unfit_short_term", "book_when_fit"],
		[["medically_unfit_long_term", "clinical_review"]],
		i, ev,
	)
}
