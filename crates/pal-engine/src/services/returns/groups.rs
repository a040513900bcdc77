//! The national grouping of treatment function codes for the RTT return, read from a data file
//! (`crates/pal-engine/data/treatment-function-groups.csv`, shipped and embedded; an edited copy
//! can be given instead). A pathway's treatment function is read from a pathway attribute (the
//! national schema's `specialty`, or any attribute a trust declares): a code (`110`, `C_110`),
//! or a name or alias listed in the file.

use std::collections::HashMap;

/// The grouping shipped with PAL.
pub const SHIPPED: &str = include_str!("../../../data/treatment-function-groups.csv");

/// A return row a treatment function is counted in (`C_110` Trauma and Orthopaedic Service,
/// `X05` Other - Surgical Services).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnFunction {
    /// `Treatment Function Code` of the return.
    pub code: String,
    /// `Treatment Function Name` of the return.
    pub name: String,
}

/// How a pathway's treatment function was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// A listed code, name or alias.
    Listed(usize),
    /// The attribute is set but nothing in the file matches it: counted in the default row.
    Unlisted(usize),
    /// The attribute is not set: counted in the default row.
    Missing(usize),
}

impl Match {
    /// The index of the return row ([`TreatmentFunctionGroups::functions`]).
    pub fn index(self) -> usize {
        match self {
            Match::Listed(i) | Match::Unlisted(i) | Match::Missing(i) => i,
        }
    }
}

/// The grouping: return rows in file order, and how codes and names map to them.
#[derive(Debug, Clone)]
pub struct TreatmentFunctionGroups {
    /// The return rows, in the order of their first appearance in the file.
    pub functions: Vec<ReturnFunction>,
    by_key: HashMap<String, usize>,
    default: usize,
}

/// Lower case, every run of characters other than letters and digits one `_`, none at the ends.
fn key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

impl TreatmentFunctionGroups {
    /// The grouping shipped with PAL.
    pub fn shipped() -> TreatmentFunctionGroups {
        // The shipped file is tested to parse (tests below); an empty grouping is never used.
        TreatmentFunctionGroups::parse("treatment-function-groups.csv", SHIPPED).unwrap_or_else(
            |_| TreatmentFunctionGroups {
                functions: vec![ReturnFunction {
                    code: "X06".into(),
                    name: "Other - Other Services".into(),
                }],
                by_key: HashMap::new(),
                default: 0,
            },
        )
    }

    /// Parses a grouping file (`#` comment lines; the header
    /// `treatment_function_code,treatment_function_name,return_code,return_name,specialty_aliases`;
    /// one `*` row for what is not listed). Errors name the file and line.
    pub fn parse(name: &str, text: &str) -> Result<TreatmentFunctionGroups, String> {
        let mut rd = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .flexible(false)
            .from_reader(text.as_bytes());
        let header = rd
            .headers()
            .map_err(|e| format!("{name}: {e}"))?
            .iter()
            .map(str::to_string)
            .collect::<Vec<_>>();
        let expected = [
            "treatment_function_code",
            "treatment_function_name",
            "return_code",
            "return_name",
            "specialty_aliases",
        ];
        if header != expected {
            return Err(format!(
                "{name}: the header must be `{}`",
                expected.join(",")
            ));
        }
        let mut functions: Vec<ReturnFunction> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        let mut default = None;
        for row in rd.records() {
            let row = row.map_err(|e| format!("{name}: {e}"))?;
            let line = row.position().map_or(0, |p| p.line());
            let cell = |i: usize| row.get(i).unwrap_or("").trim();
            let (tfc, tfc_name, code, rname, aliases) =
                (cell(0), cell(1), cell(2), cell(3), cell(4));
            if code.is_empty() || rname.is_empty() {
                return Err(format!(
                    "{name}:{line}: a row needs a return_code and a return_name"
                ));
            }
            let index = match functions.iter().position(|f| f.code == code) {
                Some(i) if functions[i].name != rname => {
                    return Err(format!(
                    "{name}:{line}: return code `{code}` is named `{}` above and `{rname}` here",
                    functions[i].name
                ))
                }
                Some(i) => i,
                None => {
                    functions.push(ReturnFunction {
                        code: code.to_string(),
                        name: rname.to_string(),
                    });
                    functions.len() - 1
                }
            };
            if tfc == "*" {
                if default.replace(index).is_some() {
                    return Err(format!("{name}:{line}: a second `*` row"));
                }
                continue;
            }
            if tfc.is_empty() {
                return Err(format!(
                    "{name}:{line}: a row needs a treatment_function_code"
                ));
            }
            let keys = std::iter::once(tfc.to_string())
                .chain(std::iter::once(tfc_name.to_string()))
                .chain(aliases.split(';').map(str::to_string))
                .map(|k| key(&k))
                .filter(|k| !k.is_empty());
            for k in keys {
                if let Some(&other) = by_key.get(&k) {
                    if other != index {
                        return Err(format!(
                            "{name}:{line}: `{k}` is already counted in `{}`",
                            functions[other].code
                        ));
                    }
                }
                by_key.insert(k, index);
            }
        }
        let default = default
            .ok_or_else(|| format!("{name}: no `*` row for unlisted treatment functions"))?;
        Ok(TreatmentFunctionGroups {
            functions,
            by_key,
            default,
        })
    }

    /// The return row of a pathway whose attribute holds `value` (a code such as `110` or
    /// `C_110`, or a listed name or alias; case and punctuation ignored).
    pub fn find(&self, value: Option<&str>) -> Match {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Match::Missing(self.default);
        };
        let k = key(v);
        let code = k.strip_prefix("c_").unwrap_or(&k);
        match self.by_key.get(code).or_else(|| self.by_key.get(&k)) {
            Some(&i) => Match::Listed(i),
            None => Match::Unlisted(self.default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(g: &TreatmentFunctionGroups, v: Option<&str>) -> (String, &'static str) {
        let m = g.find(v);
        let kind = match m {
            Match::Listed(_) => "listed",
            Match::Unlisted(_) => "unlisted",
            Match::Missing(_) => "missing",
        };
        (g.functions[m.index()].code.clone(), kind)
    }

    #[test]
    fn the_shipped_grouping_parses_with_the_published_rows() {
        let g = TreatmentFunctionGroups::parse("shipped", SHIPPED).expect("shipped file parses");
        let codes: Vec<&str> = g.functions.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "C_100", "C_101", "C_110", "C_120", "C_130", "C_140", "C_150", "C_160", "C_170",
                "C_300", "C_301", "C_320", "C_330", "C_340", "C_400", "C_410", "C_430", "C_502",
                "X05", "X04", "X02", "X03", "X06"
            ]
        );
    }

    #[test]
    fn codes_names_and_aliases_find_their_row() {
        let g = TreatmentFunctionGroups::shipped();
        let cases: &[(Option<&str>, &str, &str)] = &[
            (Some("110"), "C_110", "listed"),
            (Some("C_110"), "C_110", "listed"),
            (Some("trauma_orthopaedics"), "C_110", "listed"),
            (Some("Trauma and Orthopaedic Service"), "C_110", "listed"),
            (Some(" ENT "), "C_120", "listed"),
            (Some("103"), "X05", "listed"),
            (Some("paediatrics"), "X04", "listed"),
            (Some("nephrology"), "X02", "listed"),
            (Some("710"), "X03", "listed"),
            (Some("999"), "X06", "unlisted"),
            (Some("podiatry"), "X06", "unlisted"),
            (Some(""), "X06", "missing"),
            (None, "X06", "missing"),
        ];
        for (value, want, kind) in cases {
            assert_eq!(code(&g, *value), (want.to_string(), *kind), "{value:?}");
        }
    }

    #[test]
    fn bad_files_are_refused_with_their_line() {
        let header = "treatment_function_code,treatment_function_name,return_code,return_name,specialty_aliases\n";
        let cases = [
            ("a,b\n", "the header must be"),
            (&*format!("{header}100,GS,C_100,General,\n"), "no `*` row"),
            (
                &*format!("{header}100,GS,C_100,General,\n*,,X06,Other,\n*,,X06,Other,\n"),
                "a second `*` row",
            ),
            (
                &*format!("{header}100,GS,C_100,General,\n101,U,C_100,Urology,\n*,,X06,O,\n"),
                "is named `General` above",
            ),
            (
                &*format!("{header}100,GS,C_100,General,x\n101,U,C_101,Urology,x\n*,,X06,O,\n"),
                "`x` is already counted in `C_100`",
            ),
            (
                &*format!("{header},GS,C_100,General,\n*,,X06,O,\n"),
                "needs a treatment_function_code",
            ),
        ];
        for (text, want) in cases {
            let err = TreatmentFunctionGroups::parse("g.csv", text).expect_err(text);
            assert!(err.contains(want), "{err} / {want}");
            assert!(err.starts_with("g.csv"), "{err}");
        }
    }
}
