//! The configuration reference (`docs/configuration.md`) and `acorn serve --help` name the same
//! flags and variables: a flag added, renamed or removed in one must be in the other.

use std::collections::BTreeSet;
use std::path::Path;

use crate::helpers::acorn_bare;

/// `--flag` names and `ACORN_*` variables of `acorn serve --help`.
fn help_flags() -> (BTreeSet<String>, BTreeSet<String>) {
    let out = acorn_bare()
        .args(["serve", "--help"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut flags = BTreeSet::new();
    let mut vars = BTreeSet::new();
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("--") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if name != "help" {
                flags.insert(format!("--{name}"));
            }
        }
        for (i, _) in line.match_indices("[env: ") {
            let var: String = line[i + 6..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            vars.insert(var);
        }
    }
    (flags, vars)
}

/// The first two columns of the flag table in `docs/configuration.md`.
fn documented_flags() -> (BTreeSet<String>, BTreeSet<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    let text = std::fs::read_to_string(&path).expect("docs/configuration.md");
    let mut flags = BTreeSet::new();
    let mut vars = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with("| `--")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        flags.insert(cells[1].trim_matches('`').to_owned());
        let var = cells[2].trim_matches('`');
        if var.starts_with("ACORN_") {
            vars.insert(var.to_owned());
        }
    }
    (flags, vars)
}

#[test]
fn the_configuration_reference_names_every_serve_flag_and_no_other() {
    let (help, help_vars) = help_flags();
    let (docs, doc_vars) = documented_flags();
    assert!(help.len() > 20, "read too few flags from --help: {help:?}");
    let missing: Vec<_> = help.difference(&docs).collect();
    let extra: Vec<_> = docs.difference(&help).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/configuration.md is out of step with `acorn serve --help`: \
         undocumented {missing:?}, documented but not a flag {extra:?}"
    );
    let missing: Vec<_> = help_vars.difference(&doc_vars).collect();
    assert!(
        missing.is_empty(),
        "variables of `acorn serve --help` missing from docs/configuration.md: {missing:?}"
    );
}
