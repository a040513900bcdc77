//! Choosing the shape an extract is read in: PAL's own, a mapping the policy declares, or a
//! mapping file named on the command line (`--map`), checked against the policy's schema.

use crate::base::diagnostic::Diagnostic;
use crate::base::source::SourceMap;
use crate::front::check::check_mapping_file;
use crate::front::loader::read_source;
use crate::model::ir::Policy;
use crate::model::mapping::InputMapping;
use crate::syntax::parse_file;
use std::path::Path;

/// Why no mapping could be chosen.
#[derive(Debug)]
pub enum MappingError {
    /// `--map` names neither a declared mapping nor a file, or a file declares several.
    Usage(String),
    /// The mapping file cannot be read (missing, not text): diagnostics to render.
    Unreadable(Vec<Diagnostic>),
    /// The mapping file has errors: diagnostics to render.
    Findings(Vec<Diagnostic>),
}

/// The mapping an extract is read through.
///
/// * `--map NAME` of a mapping the policy declares: that one;
/// * `--map FILE` (a path to a `.pal` file): the one mapping the file declares, checked against
///   the policy's schema (its text is added to `sources`, for messages);
/// * `--map none`: PAL's own shape;
/// * no `--map`: the policy's mapping if it declares exactly one, else PAL's own shape.
pub fn choose(
    policy: &Policy,
    choice: Option<&str>,
    sources: &mut SourceMap,
) -> Result<Option<InputMapping>, MappingError> {
    let Some(choice) = choice else {
        return Ok(match policy.mappings.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        });
    };
    if choice == "none" {
        return Ok(None);
    }
    if let Some(m) = policy.mappings.iter().find(|m| m.name == choice) {
        return Ok(Some(m.clone()));
    }
    let path = Path::new(choice);
    if !choice.ends_with(".pal") && !path.exists() {
        let declared: Vec<String> = policy
            .mappings
            .iter()
            .map(|m| format!("`{}`", m.name))
            .collect();
        return Err(MappingError::Usage(format!(
            "`--map {choice}` names no mapping of policy `{}` and no file{}",
            policy.name,
            if declared.is_empty() {
                " (the policy declares no mapping: name a mapping file, e.g. `--map mappings/pas.pal`)".to_string()
            } else {
                format!(" (it declares {})", declared.join(", "))
            }
        )));
    }
    let mappings = load_file(path, policy, sources)?;
    match <[InputMapping; 1]>::try_from(mappings) {
        Ok([m]) => Ok(Some(m)),
        Err(ms) => Err(MappingError::Usage(format!(
            "`{choice}` declares {} mappings: a mapping file used with --map declares exactly one",
            ms.len()
        ))),
    }
}

/// Reads and checks a mapping file against `policy`: its mappings, or why not.
pub fn load_file(
    path: &Path,
    policy: &Policy,
    sources: &mut SourceMap,
) -> Result<Vec<InputMapping>, MappingError> {
    let file = read_source(path, None, sources).map_err(|d| MappingError::Unreadable(vec![d]))?;
    let text = sources.get(file).text.clone();
    let ast = parse_file(file, &text).map_err(|d| MappingError::Findings(vec![d]))?;
    let (mappings, diags) = check_mapping_file(&ast, policy, sources);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(MappingError::Findings(diags));
    }
    Ok(mappings)
}
