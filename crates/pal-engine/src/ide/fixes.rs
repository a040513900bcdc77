//! Quick fixes: a diagnostic whose help says "did you mean `x`?" becomes an edit that puts `x`
//! where the misspelt name is written.

use crate::base::diagnostic::Diagnostic;
use crate::base::source::{SourceMap, Span};

/// An edit that fixes a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the editor shows ("Change to `dna`").
    pub title: String,
    /// The text replaced.
    pub span: Span,
    /// What replaces it.
    pub replacement: String,
}

/// The words of `text` in backticks.
fn quoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The fix a diagnostic's did-you-mean suggests, if it has one: the name in its message that
/// is written under its primary label is replaced by the suggestion.
pub fn did_you_mean_fix(d: &Diagnostic, sources: &SourceMap) -> Option<Fix> {
    let help = d.help.as_deref()?;
    let at = help.find("did you mean `")?;
    let suggestion = quoted(&help[at..]).first()?.to_string();
    let span = d.primary_span()?;
    let written = sources.snippet(span);
    let is_name =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let span = if is_name(written) {
        span
    } else {
        // The label covers more than the name (`event.apointment`): the misspelt name is the
        // one the message quotes, found in the label's text (its last occurrence).
        let wrong = quoted(&d.message)
            .into_iter()
            .filter(|w| is_name(w) && *w != suggestion)
            .find(|w| written.contains(w))?;
        let pos = written.rfind(wrong)?;
        Span {
            start: span.start + pos as u32,
            end: span.start + (pos + wrong.len()) as u32,
            ..span
        }
    };
    Some(Fix {
        title: format!("Change to `{suggestion}`"),
        span,
        replacement: suggestion,
    })
}
