//! "Did you mean" suggestions for misspelled names.

/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name || c.is_empty() {
            continue;
        }
        let score = strsim::jaro_winkler(name, c);
        let close = strsim::damerau_levenshtein(name, c) <= (name.len().max(3) / 3).max(1);
        if (score >= 0.85 || close) && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// A help line "did you mean `x`?" for a misspelled name, if there is a close candidate.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    suggest(name, candidates).map(|s| format!("did you mean `{s}`?"))
}

/// "a" or "an" before `word` as it is read aloud by its first letter (`an appointment_kind`,
/// `a referral_priority`).
pub fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_word() {
        assert_eq!(suggest("knid", ["kind", "date"]), Some("kind".into()));
        assert_eq!(
            suggest("frist", ["first", "follow_up"]),
            Some("first".into())
        );
        assert_eq!(
            suggest("apointment", ["appointment", "communicated"]),
            Some("appointment".into())
        );
        assert_eq!(suggest("zzz", ["first", "follow_up"]), None);
    }
}
