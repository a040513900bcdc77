//! The closed sets of statuses and outcomes the engine reports — a clock period's status, an
//! obligation's, what happened to a rule at a step — as types. They serialise to the contract's
//! snake_case strings (`docs/events.md`).

use serde::Serialize;

/// Declares a closed set of statuses serialised as their snake_case names (the contract's
/// strings), with `as_str` and `Display` giving the same text.
macro_rules! named_status {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The name used in results.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value of this name.
            pub fn from_name(name: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_status! {
    /// A clock period's status at the as-at date.
    PeriodStatus {
        /// Open and counting.
        Running => "running",
        /// Open, in a pause (cancer adjustments).
        Paused => "paused",
        /// Stopped: the wait is over.
        Stopped => "stopped",
        /// Nullified: the period does not count.
        Nullified => "nullified",
    }
}

impl PeriodStatus {
    /// Running or paused: the patient is still waiting.
    pub fn is_open(self) -> bool {
        matches!(self, PeriodStatus::Running | PeriodStatus::Paused)
    }
}

named_status! {
    /// An obligation's status at the as-at date.
    ObligationStatus {
        /// Not met, not yet due.
        Open => "open",
        /// Met by its due date.
        Met => "met",
        /// Not met by its due date (met late, or not at all).
        Missed => "missed",
    }
}

named_status! {
    /// What happened to one rule at one step of the trace.
    RuleOutcome {
        /// Its condition held and its actions applied.
        Fired => "fired",
        /// Its condition was false.
        NotApplicable => "not_applicable",
        /// Its condition held but an exception applied instead.
        Overridden => "overridden",
        /// It disagreed with another rule about a clock; neither applied.
        Conflict => "conflict",
        /// A timer was set.
        Armed => "armed",
        /// A timer was cancelled.
        Cancelled => "cancelled",
    }
}
