#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The server's layering and size rules, checked on its own source (README "Architecture"):
//! data flows one way — routes → services → store / providers — so a file under `store/`
//! never imports `routes`, `services`, `providers` or `idempotency`, and no file under
//! `routes/` uses `sqlx`. No non-test source file of any crate is over 500 lines, no function
//! over 80.

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// `(path relative to root, text)` of every `.rs` file under `root`.
fn read_all(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    sources(root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .expect("under the root")
                .display()
                .to_string();
            (rel, fs::read_to_string(&p).expect("read source"))
        })
        .collect()
}

/// The server's own sources, relative to its `src/`.
fn all_sources() -> Vec<(String, String)> {
    read_all(&src())
}

/// Every crate's library and binary sources (`crates/*/src`), relative to `crates/`.
fn workspace_sources() -> Vec<(String, String)> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for entry in fs::read_dir(&crates).expect("read crates").flatten() {
        let src = entry.path().join("src");
        if src.is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            out.extend(
                read_all(&src)
                    .into_iter()
                    .map(|(p, t)| (format!("{name}/src/{p}"), t)),
            );
        }
    }
    out
}

/// The file without its `#[cfg(test)]` module (tests may be long).
fn non_test(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod ").map_or(text, |i| &text[..i])
}

#[test]
fn the_store_imports_no_layer_above_it() {
    let forbidden = ["routes", "services", "providers", "idempotency"];
    let mut bad = Vec::new();
    for (path, text) in all_sources()
        .iter()
        .filter(|(p, _)| p.starts_with("store/"))
    {
        for (n, line) in text.lines().enumerate() {
            for layer in forbidden {
                if line.contains(&format!("crate::{layer}")) {
                    bad.push(format!("{path}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "store/ imports an upper layer:\n{}",
        bad.join("\n")
    );
}

#[test]
fn routes_never_touch_the_database_directly() {
    let bad: Vec<String> = all_sources()
        .into_iter()
        .filter(|(p, t)| p.starts_with("http/routes/") && t.contains("sqlx"))
        .map(|(p, _)| p)
        .collect();
    assert!(bad.is_empty(), "routes/ uses sqlx: {bad:?}");
}

/// Served and documented routes are one list: `routes/` registers every route through
/// `OpenApiRouter::routes(routes!(…))`, which takes path and method from the handler's
/// `#[utoipa::path]`; a plain `.route(` or an axum `Router::new()` there would serve a route
/// the OpenAPI document lacks.
#[test]
fn every_route_is_registered_through_the_document() {
    for (path, text) in all_sources() {
        if !path.starts_with("http/routes") {
            continue;
        }
        let code = non_test(&text).replace("OpenApiRouter::new()", "");
        for bad in [
            ".route(",
            ".route_service(",
            ".nest(",
            ".nest_service(",
            "Router::new()",
            "axum::routing::",
        ] {
            assert!(!code.contains(bad), "{path} uses `{bad}`: register routes with `.routes(routes!(handler))` so the document has them");
        }
    }
}

#[test]
fn source_files_stay_under_500_lines() {
    let bad: Vec<String> = workspace_sources()
        .iter()
        .map(|(p, t)| (p, non_test(t).lines().count()))
        .filter(|(_, n)| *n > 500)
        .map(|(p, n)| format!("{p}: {n} lines"))
        .collect();
    assert!(bad.is_empty(), "files over 500 lines: {bad:?}");
}

/// `(name, first line, length)` of every function: from its `fn` line to the line where its
/// body's braces close (string and char literals and comments are skipped).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let Some(pos) = t.find("fn ") else { continue };
        let head = &t[..pos];
        let is_fn = head.split_whitespace().all(|w| {
            matches!(
                w,
                "pub" | "pub(crate)" | "pub(super)" | "async" | "const" | "unsafe"
            )
        });
        if !is_fn || t.starts_with("//") {
            continue;
        }
        let name: String = t[pos + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if let Some(end) = body_end(&lines, i) {
            out.push((name, i + 1, end - i + 1));
        }
    }
    out
}

/// The line where the body opened at or after `start` closes; `None` for a declaration
/// without a body (`fn x();` in a trait).
fn body_end(lines: &[&str], start: usize) -> Option<usize> {
    let mut depth = 0i64;
    let mut opened = false;
    for (j, line) in lines.iter().enumerate().skip(start) {
        let mut chars = line.chars().peekable();
        let mut in_str = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' if in_str => {
                    chars.next();
                }
                '"' => in_str = !in_str,
                '/' if !in_str && chars.peek() == Some(&'/') => break,
                '\'' if !in_str => {
                    // A char literal like '{' (not a lifetime): skip it.
                    let rest: String = chars.clone().take(3).collect();
                    if rest.len() >= 2 && rest.chars().nth(1) == Some('\'') {
                        chars.next();
                        chars.next();
                    }
                }
                '{' if !in_str => {
                    depth += 1;
                    opened = true;
                }
                '}' if !in_str => depth -= 1,
                ';' if !in_str && !opened && depth == 0 => return None,
                _ => {}
            }
        }
        if opened && depth == 0 {
            return Some(j);
        }
    }
    None
}

#[test]
fn functions_stay_under_80_lines() {
    let mut bad = Vec::new();
    for (path, text) in workspace_sources() {
        for (name, line, len) in functions(non_test(&text)) {
            if len > 80 {
                bad.push(format!("{path}:{line} fn {name}: {len} lines"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "functions over 80 lines:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_function_measure_counts_bodies() {
    let text = "fn a() {\n    let s = \"}\";\n    if x { y }\n}\nfn b();\n";
    let f = functions(text);
    assert_eq!(f, vec![("a".to_owned(), 1, 4)]);
}
