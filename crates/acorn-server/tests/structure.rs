#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The server's layering and size rules, checked on its own source (ARCHITECTURE.md): a table
//! of which folder may import which, services without HTTP, the CLI on the facade only, no
//! `sqlx` in routes. No non-test source file of any crate is over 500 lines, no function over
//! 80.

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

/// Which folder of the server may import which (ARCHITECTURE.md draws it): data flows one way,
/// http → services → store / adapters, workers → services, everything → base. The files at
/// `src/`'s root (`lib.rs`, `startup.rs`, the `admin` and `testing` facades) assemble the layers
/// and may import any of them.
const LAYERS: &[(&str, &[&str])] = &[
    ("base", &["base"]),
    ("store", &["base", "store"]),
    ("adapters", &["base", "store", "adapters"]),
    ("services", &["base", "store", "adapters", "services"]),
    (
        "workers",
        &["base", "store", "adapters", "services", "workers"],
    ),
    ("http", &["base", "store", "adapters", "services", "http"]),
];

/// Strips comments (line and block) and string literals, so that only code is read.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// The server's top-level modules a piece of code names: `crate::x::…` paths, and every name
/// of a grouped `use crate::{x::…, y}`.
fn crate_modules(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find(';').unwrap_or(group.len());
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(first_segment(&item));
                        item.clear();
                    }
                    _ if depth == 0 => item.push(c),
                    _ => {}
                }
            }
            found.push(first_segment(&item));
        } else {
            found.push(first_segment(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

fn first_segment(path: &str) -> String {
    path.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Every import of `files` (path, text) that the table forbids, as `path: layer -> module`.
fn layer_violations(files: &[(String, String)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (path, text) in files {
        let Some((layer, _)) = path.split_once('/') else {
            continue; // lib.rs, startup.rs, admin.rs, testing.rs: the assembly
        };
        let Some((_, allowed)) = LAYERS.iter().find(|(l, _)| *l == layer) else {
            bad.push(format!("{path}: {layer}/ is not a layer of the table"));
            continue;
        };
        for module in crate_modules(&code_only(non_test(text))) {
            if !allowed.contains(&module.as_str()) {
                bad.push(format!("{path}: {layer} -> {module}"));
            }
        }
    }
    bad.sort();
    bad.dedup();
    bad
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let bad = layer_violations(&all_sources());
    assert!(
        bad.is_empty(),
        "imports the layer table forbids:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_layer_check_reads_grouped_and_nested_imports() {
    let files = vec![
        (
            "store/x.rs".to_owned(),
            "use crate::{base::crypto, http::{error::ApiError, state}};\n// crate::services\nfn f() { let _ = \"crate::workers\"; }".to_owned(),
        ),
        (
            "services/y.rs".to_owned(),
            "fn g(s: &crate::http::state::AppState) {}".to_owned(),
        ),
        ("lib.rs".to_owned(), "use crate::http::routes;".to_owned()),
    ];
    assert_eq!(
        layer_violations(&files),
        vec![
            "services/y.rs: services -> http",
            "store/x.rs: store -> http"
        ]
    );
}

/// Services are the rules and the units of work: no HTTP in them.
#[test]
fn services_know_nothing_of_http() {
    let mut bad = Vec::new();
    for (path, text) in all_sources()
        .iter()
        .filter(|(p, _)| p.starts_with("services/") || p.starts_with("workers/"))
    {
        let code = code_only(non_test(text));
        for word in ["axum", "AppState", "ApiError", "StatusCode"] {
            if code.contains(word) {
                bad.push(format!("{path}: {word}"));
            }
        }
    }
    assert!(bad.is_empty(), "HTTP in services or workers: {bad:?}");
}

/// The `acorn` command line uses the server's facade (`Application`, `Config`, `admin`, …),
/// never its internals.
#[test]
fn the_command_line_uses_only_the_facade() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("../acorn/src");
    let facade = [
        "admin",
        "Application",
        "Config",
        "LogFormat",
        "Modes",
        "SqliteSynchronous",
        "StripeConfig",
        "DEFAULT_STRIPE_API_BASE",
        "ShutdownSignals",
        "shutdown_signal",
        "init_logging",
        "default_database_url",
    ];
    let mut bad = Vec::new();
    for (path, text) in read_all(&cli) {
        let code = code_only(&text);
        let mut rest = code.as_str();
        while let Some(i) = rest.find("acorn_server::") {
            rest = &rest[i + "acorn_server::".len()..];
            let names: Vec<String> = match rest.strip_prefix('{') {
                Some(group) => group[..group.find('}').unwrap_or(group.len())]
                    .split(',')
                    .map(first_segment)
                    .collect(),
                None => vec![first_segment(rest)],
            };
            for name in names.into_iter().filter(|n| !n.is_empty()) {
                if !facade.contains(&name.as_str()) {
                    bad.push(format!("{path}: acorn_server::{name}"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "the CLI reaches past the facade: {bad:?}");
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
