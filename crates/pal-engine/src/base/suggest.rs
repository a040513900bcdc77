//! "Did you mean" suggestions for misspelled names.

/// Names longer than this get no suggestion: a typo of a name is about its length, and the
/// comparisons cost the product of the two lengths (a 100 MB cell took minutes).
pub const MAX_SUGGEST_BYTES: usize = 128;

/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    if name.len() > MAX_SUGGEST_BYTES {
        return None;
    }
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name || c.is_empty() || c.len() > 2 * MAX_SUGGEST_BYTES {
            continue;
        }
        let score = strsim::jaro_winkler(name, c);
        let close = strsim::damerau_levenshtein(name, c) <= (name.len().max(3) / 3).max(1);
        // Ties go to the first name in alphabetical order: candidates often come from a hash
        // map, and the same input must get the same suggestion on every run.
        let better = best.is_none_or(|(s, b)| score > s || (score == s && c < b));
        if (score >= 0.85 || close) && better {
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

    #[test]
    fn ties_go_to_the_first_name_whatever_the_order() {
        // `referral_graded` is as close to `referral_rejected` as to `referral_received`.
        let a = ["referral_rejected", "referral_received"];
        let b = ["referral_received", "referral_rejected"];
        assert_eq!(suggest("referral_graded", a), suggest("referral_graded", b));
        assert_eq!(
            suggest("referral_graded", a),
            Some("referral_received".into())
        );
    }

    #[test]
    fn huge_names_are_not_compared() {
        let huge = format!("dna{}", "a".repeat(10_000_000));
        let started = std::time::Instant::now();
        assert_eq!(suggest(&huge, ["dna", "attended"]), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
