//! The lint registry: every lint's stable code, its kebab-case name (what a suppression
//! comment `// pal: allow(NAME)` names) and its default level. Explanations live with the
//! code, in [`crate::base::diagnostic::CODES`]. The lints themselves are in
//! `front::check::lints` (one module each) and, for the one that needs the tests to run,
//! `services::project`.

use crate::base::diagnostic::Code;

/// What a lint's finding is by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Not reported.
    Allow,
    /// Reported as a warning: the policy still runs.
    Warn,
}

/// One lint.
#[derive(Debug, Clone, Copy)]
pub struct LintInfo {
    /// Its diagnostic code.
    pub code: Code,
    /// Its name in suppression comments, e.g. `possible-conflict`.
    pub name: &'static str,
    /// Its default level.
    pub level: Level,
}

/// Every lint. Names, like codes, are stable.
pub const LINTS: &[LintInfo] = &[
    LintInfo {
        code: Code::W0001,
        name: "missing-citation",
        level: Level::Warn,
    },
    LintInfo {
        code: Code::W0002,
        name: "unused-parameter",
        level: Level::Warn,
    },
    LintInfo {
        code: Code::W0003,
        name: "unreachable-exception",
        level: Level::Warn,
    },
    LintInfo {
        code: Code::W0004,
        name: "possible-conflict",
        level: Level::Warn,
    },
    LintInfo {
        code: Code::W0005,
        name: "timer-never-fires",
        level: Level::Warn,
    },
    LintInfo {
        code: Code::W0006,
        name: "disable-without-reason",
        level: Level::Warn,
    },
    LintInfo {
        code: Code::W0007,
        name: "untested-rule",
        level: Level::Warn,
    },
    LintInfo {
        code: Code::W0008,
        name: "unused-suppression",
        level: Level::Warn,
    },
    LintInfo {
        code: Code::W0009,
        name: "rule-without-action",
        level: Level::Warn,
    },
];

/// The lint of this name.
pub fn by_name(name: &str) -> Option<&'static LintInfo> {
    LINTS.iter().find(|l| l.name == name)
}

/// The lint that reports this code, if the code is a lint's.
pub fn by_code(code: Code) -> Option<&'static LintInfo> {
    LINTS.iter().find(|l| l.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::diagnostic::Severity;

    #[test]
    fn every_warning_code_is_one_lint_and_names_are_kebab_case() {
        for &code in Code::ALL {
            let lints = LINTS.iter().filter(|l| l.code == code).count();
            let expected = usize::from(code.severity() == Severity::Warning);
            assert_eq!(lints, expected, "{code}: {lints} lints");
        }
        for l in LINTS {
            assert!(
                l.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                l.name
            );
            assert_eq!(by_name(l.name).map(|x| x.code), Some(l.code));
        }
    }
}
