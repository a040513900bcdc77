//! Names and short text in results without allocating per pathway.
//!
//! A result names clocks, rules, reasons, outcomes and citations that come from the policy, and
//! every pathway's result repeats the same few hundred of them. [`Name`] interns each once for
//! the life of the process (the `ustr` crate's global table), so putting one in a result copies
//! a pointer: no allocation, no reference count shared between threads. The table only grows;
//! it holds each distinct name once, so a long-running language server grows by the names a
//! user types, not by the pathways it runs.
//!
//! [`ShortText`] holds data values (pathway ids, attribute values) inline up to 24 bytes, which
//! covers ids, dates, codes and variant names, and on the heap beyond.

/// An interned name or citation from a policy: `Copy`, compared by pointer, ordered, printed
/// and serialised as its text (`Debug` too, as a `&str` is). Make one with
/// `Name::from("rtt")`; read it as `&str` (`&*name`, `name.as_str()`), or compare it with a
/// `&str` or `String` directly.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Name(ustr::Ustr);

impl Name {
    /// The name's text, which lives as long as the process.
    pub fn as_str(&self) -> &'static str {
        self.0.as_str()
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name(ustr::Ustr::from(text))
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

/// Comparisons with text, both ways round.
macro_rules! eq_text {
    ($($t:ty),*) => {$(
        impl PartialEq<$t> for Name {
            fn eq(&self, other: &$t) -> bool {
                self.0.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Name> for $t {
            fn eq(&self, other: &Name) -> bool {
                AsRef::<str>::as_ref(self) == other.0.as_str()
            }
        }
    )*};
}
eq_text!(str, &str, String);

/// A short data value (a pathway id, an attribute's text) stored inline when it fits.
pub type ShortText = compact_str::CompactString;

/// The names' texts joined with `separator` (`["a", "b"]`, ", " → `a, b`).
pub fn join(names: &[Name], separator: &str) -> String {
    let mut out = String::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_names_are_one_entry_and_compare_as_text() {
        let a = Name::from("rtt");
        let b = Name::from(String::from("rtt").as_str());
        assert_eq!(a, b);
        assert_eq!(a.as_str().as_ptr(), b.as_str().as_ptr());
        assert_eq!(a, "rtt");
        assert_eq!(String::from("rtt"), a);
        assert_eq!(format!("{a:?} {a}"), "\"rtt\" rtt");
        assert!(Name::from("cancer_62") < Name::from("rtt"));
        assert_eq!(serde_json::to_string(&a).ok().as_deref(), Some("\"rtt\""));
    }

    #[test]
    fn short_text_is_inline_up_to_24_bytes() {
        for (text, inline) in [
            ("", true),
            ("P000123", true),
            ("2025-03-01", true),
            ("abcdefghijklmnopqrstuvwx", true),
            ("abcdefghijklmnopqrstuvwxy", false),
        ] {
            let t = ShortText::from(text);
            assert_eq!(t, text);
            assert_eq!(t.is_heap_allocated(), !inline, "{text}");
        }
    }
}
