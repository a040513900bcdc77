//! TEMPORARY STUB (replaced by the renderers).
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceMap;
/// Format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Short,
    Json,
    Github,
}
impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "human" => Ok(Format::Human),
            "short" => Ok(Format::Short),
            "json" => Ok(Format::Json),
            "github" => Ok(Format::Github),
            _ => Err(s.into()),
        }
    }
}
pub fn render(diags: &[Diagnostic], sources: &SourceMap, _format: Format, _color: bool) -> String {
    let mut s = String::new();
    for d in diags {
        let (f, l, c) = d
            .primary_span()
            .map(|sp| sources.location(sp))
            .unwrap_or(("", 0, 0));
        s += &format!(
            "{f}:{l}:{c}: {}[{}]: {} {:?}\n",
            if d.severity == Severity::Error {
                "error"
            } else {
                "warning"
            },
            d.code,
            d.message,
            d.help
        );
    }
    s
}
pub fn summary_counts(diags: &[Diagnostic]) -> (usize, usize) {
    let e = diags.iter().filter(|d| d.is_error()).count();
    (e, diags.len() - e)
}
