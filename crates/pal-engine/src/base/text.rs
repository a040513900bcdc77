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
}
