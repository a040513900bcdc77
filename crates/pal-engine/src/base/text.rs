//! Input text quoted in messages: at most a few dozen characters of it, so a 100 MB cell or a
//! million-column header never ends up whole on standard error.

/// The longest excerpt of input text a message quotes, in characters.
pub const EXCERPT_CHARS: usize = 60;

/// `text` as quoted in a message: whole if short, else its first [`EXCERPT_CHARS`] characters
/// followed by `…` and its length in bytes. Control characters (newlines included) are shown
/// escaped, so a message stays on one line.
pub fn excerpt(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(EXCERPT_CHARS * 2) + 16);
    let mut chars = text.chars();
    for c in chars.by_ref().take(EXCERPT_CHARS) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() {
        out.push_str(&format!("… ({} bytes)", text.len()));
    }
    out
}

/// A list of names for a message: the first `max` in backticks, then how many more.
pub fn name_list<'a>(names: impl IntoIterator<Item = &'a str>, max: usize) -> String {
    let mut shown = Vec::new();
    let mut more = 0usize;
    for n in names {
        if shown.len() < max {
            shown.push(format!("`{}`", excerpt(n)));
        } else {
            more += 1;
        }
    }
    let mut out = shown.join(", ");
    if more > 0 {
        out.push_str(&format!(" and {more} more"));
    }
    out
}

/// A whole number with thousands separators, as people read counts: `12,345`, `-1,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and the noun, singular for one and plural otherwise, with thousands separators:
/// `1 day`, `2 days`, `1,234 pathways`. `plural` is the noun's plural form.
pub fn count_of(n: i64, singular: &str, plural: &str) -> String {
    format!(
        "{} {}",
        thousands(n),
        if n == 1 { singular } else { plural }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_and_measured() {
        assert_eq!(excerpt("dna"), "dna");
        assert_eq!(excerpt("a\nb"), "a\\nb");
        let long = "x".repeat(1000);
        let e = excerpt(&long);
        assert!(e.starts_with(&"x".repeat(EXCERPT_CHARS)));
        assert!(e.ends_with("… (1000 bytes)"), "{e}");
        assert_eq!(name_list(["a", "b", "c"], 2), "`a`, `b` and 1 more");
    }

    #[test]
    fn counts_read_as_people_write_them() {
        for (n, text) in [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1_000, "1,000"),
            (12_345, "12,345"),
            (1_234_567, "1,234,567"),
            (-1_000, "-1,000"),
            (i64::MIN, "-9,223,372,036,854,775,808"),
        ] {
            assert_eq!(thousands(n), text);
        }
        assert_eq!(count_of(1, "day", "days"), "1 day");
        assert_eq!(count_of(0, "day", "days"), "0 days");
        assert_eq!(count_of(2_500, "day", "days"), "2,500 days");
    }
}
