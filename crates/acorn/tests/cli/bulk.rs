//! `acorn customers import` and `export`: 10,000 rows with 1% invalid, a re-run that creates no
//! one twice, and an export that imports into another merchant with equal content.

use std::collections::BTreeMap;
use std::path::Path;

use predicates::str::contains;
use serde_json::Value;

use crate::helpers::{stderr, stdout, Merchant, Server};

const ROWS: usize = 10_000;

/// Every writable field the generated file sets, to compare customers across merchants.
const COMPARED: [&str; 9] = [
    "email",
    "first_name",
    "last_name",
    "country_code",
    "dob",
    "phone_country_code",
    "monthly_net_income",
    "additional_info",
    "city",
];

/// Row `i` (1-based). Every 100th row is invalid: the server refuses half of them (bad email
/// and country), the other half cannot even become a request (income is not a number).
fn csv_file(path: &Path) {
    let mut w = csv::Writer::from_path(path).expect("csv");
    w.write_record([
        "email",
        "first_name",
        "last_name",
        "country_code",
        "dob",
        "phone_country_code",
        "monthly_net_income",
        "additional_info",
        "city",
    ])
    .expect("header");
    for i in 1..=ROWS {
        let n = i.to_string();
        let row: Vec<String> = if i % 200 == 0 {
            vec![format!("bad{i}@nowhere"), n, String::new(), "USA".into()]
        } else if i % 100 == 0 {
            vec![format!("p{i}@example.com"), n, String::new(), "br".into()]
        } else {
            vec![
                format!("person{i}@example.com"),
                format!("First{i}"),
                format!("Last, \"{i}\""),
                if i % 2 == 0 { "BR" } else { "us" }.into(),
            ]
        };
        let income = if i % 100 == 0 && i % 200 != 0 {
            "lots".to_owned()
        } else {
            format!("{}.5", 1000 + i)
        };
        let info = if i % 3 == 0 {
            format!("{{\"n\":{i}}}")
        } else {
            String::new()
        };
        let city = if i % 7 == 0 { "São Paulo" } else { "" };
        let mut row = row;
        row.extend([
            "1990-01-31".to_owned(),
            "+55".to_owned(),
            income,
            info,
            city.to_owned(),
        ]);
        w.write_record(&row).expect("row");
    }
    w.flush().expect("flush");
}

/// `row → (customer_id, error)` from an import report.
fn read_report(path: &Path) -> BTreeMap<u64, (String, String)> {
    let mut r = csv::Reader::from_path(path).expect("report");
    assert_eq!(
        r.headers().expect("header"),
        vec!["row", "email", "customer_id", "error"]
    );
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            let row = rec[0].parse().expect("row number");
            (row, (rec[2].to_owned(), rec[3].to_owned()))
        })
        .collect()
}

fn import(
    server: &Server,
    merchant: &Merchant,
    file: &Path,
    report: &Path,
) -> std::process::Output {
    server
        .acorn_as(merchant)
        .args(["customers", "import"])
        .arg(file)
        .arg("--report")
        .arg(report)
        .output()
        .expect("import")
}

/// Exports with `filters`, checks how many were written, and returns the customers keyed by
/// email, only the compared fields.
fn exported(
    server: &Server,
    merchant: &Merchant,
    format: &str,
    filters: &[&str],
    expected: usize,
    out: &Path,
) -> BTreeMap<String, Vec<Value>> {
    let run = server
        .acorn_as(merchant)
        .args(["customers", "export", "--format", format])
        .args(filters)
        .arg("--output")
        .arg(out)
        .output()
        .expect("export");
    assert!(run.status.success(), "{}", stderr(&run));
    let said = format!("Exported {expected} customers");
    assert!(stderr(&run).contains(&said), "{}", stderr(&run));
    let customers: Vec<serde_json::Map<String, Value>> = if format == "csv" {
        let mut r = csv::Reader::from_path(out).expect("csv");
        let headers = r.headers().expect("header").clone();
        assert_eq!(&headers[0], "id");
        r.records()
            .map(|rec| {
                let rec = rec.expect("record");
                headers
                    .iter()
                    .zip(rec.iter())
                    .map(|(h, v)| (h.to_owned(), Value::String(v.to_owned())))
                    .collect()
            })
            .collect()
    } else {
        std::fs::read_to_string(out)
            .expect("jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a customer per line"))
            .collect()
    };
    customers
        .into_iter()
        .map(|c| {
            let email = c["email"].as_str().expect("email").to_owned();
            (email, COMPARED.iter().map(|f| c[*f].clone()).collect())
        })
        .collect()
}

#[test]
fn import_ten_thousand_rows_rerun_then_round_trip_through_export() {
    let server = Server::start();
    let dir = server.dir();
    let file = dir.join("people.csv");
    csv_file(&file);

    // First run: 99 % imported, every invalid row in the report, exit code 1 for them.
    let first = import(&server, &server.merchant, &file, &dir.join("first.csv"));
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("Imported 9900 of 10000 rows"),
        "{}",
        stdout(&first)
    );
    assert!(stdout(&first).contains("customers/s"));
    assert!(stderr(&first).contains("100 of 10000 rows were not imported"));
    let report = read_report(&dir.join("first.csv"));
    assert_eq!(report.len(), ROWS);
    for (row, (id, error)) in &report {
        if row % 200 == 0 {
            assert!(
                id.is_empty() && error.contains("(invalid_input)"),
                "{row}: {error}"
            );
            assert!(
                error.contains("email") && error.contains("country_code"),
                "{error}"
            );
        } else if row % 100 == 0 {
            assert_eq!(error, "monthly_net_income must be a number");
        } else {
            assert!(
                id.starts_with("cus_") && error.is_empty(),
                "{row}: {id} {error}"
            );
        }
    }
    assert_eq!(server.count_as(&server.merchant), 9_900);

    // Second run of the same file: every row gets its first answer back, no one is created twice.
    let again = import(&server, &server.merchant, &file, &dir.join("again.csv"));
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert_eq!(read_report(&dir.join("again.csv")), report);
    assert_eq!(server.count_as(&server.merchant), 9_900);

    // Export as CSV, import into a second merchant, export that: the same customers.
    let original = exported(
        &server,
        &server.merchant,
        "csv",
        &[],
        9_900,
        &dir.join("a.csv"),
    );
    assert_eq!(original.len(), 9_900);
    let second = server.new_merchant("second");
    let run = import(
        &server,
        &second,
        &dir.join("a.csv"),
        &dir.join("b-report.csv"),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stderr(&run).contains("skipping read-only column(s): id, customer_id"));
    assert_eq!(server.count_as(&second), 9_900);
    let copied = exported(&server, &second, "csv", &[], 9_900, &dir.join("b.csv"));
    assert_eq!(copied, original);

    // The same through JSON Lines, into a third merchant, for the customers in the US: every
    // odd row, 5,000 of them (the invalid rows are all even).
    let us = ["--country-code", "us"];
    let jsonl = exported(
        &server,
        &server.merchant,
        "jsonl",
        &us,
        5_000,
        &dir.join("a.jsonl"),
    );
    let third = server.new_merchant("third");
    let run = import(
        &server,
        &third,
        &dir.join("a.jsonl"),
        &dir.join("c-report.csv"),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let copied = exported(&server, &third, "jsonl", &[], 5_000, &dir.join("c.jsonl"));
    assert_eq!(copied, jsonl);
    // And they are the same people as in the CSV export, whose cells are the values' text.
    for (email, fields) in &jsonl {
        let csv_cells = &original[email];
        let as_text: Vec<Value> = fields.iter().map(|v| Value::String(csv_text(v))).collect();
        assert_eq!(csv_cells, &as_text, "{email}");
    }
}

/// A JSON value as the CSV export writes it.
fn csv_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn export_to_stdout_with_filters_and_import_summary_as_json() {
    let server = Server::start();
    let file = server.dir().join("few.jsonl");
    std::fs::write(
        &file,
        "{\"email\":\"a@example.com\",\"country_code\":\"us\"}\n\
         {\"email\":\"b@example.com\",\"country_code\":\"br\"}\n\
         \n\
         {\"email\":\"c@example.com\",\"country_code\":\"US\",\"id\":\"ignored\"}\n",
    )
    .expect("write");
    let summary = server.json(&["customers", "import", file.to_str().expect("path")]);
    assert_eq!(summary["rows"], 3);
    assert_eq!(summary["imported"], 3);
    assert_eq!(summary["failed"], 0);
    assert!(summary["customers_per_second"].as_f64().is_some());

    let out = server
        .acorn()
        .args([
            "customers",
            "export",
            "--format",
            "jsonl",
            "--country-code",
            "us",
        ])
        .output()
        .expect("export");
    assert!(out.status.success());
    let emails: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json")["email"].to_string())
        .collect();
    assert_eq!(
        emails,
        ["\"c@example.com\"", "\"a@example.com\""],
        "newest first"
    );
    server
        .acorn()
        .args(["customers", "export", "--status", "approved"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with(
            "id,customer_id,email,first_name,",
        ))
        .stderr(contains("Exported 0 customers to stdout"));
    // An unknown column stops the import before anything is sent.
    let bad = server.dir().join("bad.csv");
    std::fs::write(&bad, "email,shoe_size\nx@example.com,42\n").expect("write");
    server
        .acorn()
        .args(["customers", "import"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(contains("unknown CSV column(s): shoe_size"));
    assert_eq!(server.count_as(&server.merchant), 3);
}

/// Rows go out in batches closed by count and by size; each row keeps its own key, so a file
/// first imported one row per request re-runs in batches with every first answer replayed —
/// refusals included — and a row too large for any request fails alone.
#[test]
fn batches_split_by_size_and_keys_replay_across_batch_sizes() {
    let server = Server::start();
    let dir = server.dir();
    let file = dir.join("mixed.jsonl");
    let huge = "x".repeat(1_100_000);
    std::fs::write(
        &file,
        format!(
            "{{\"email\":\"r1@example.com\"}}\n\
             {{\"email\":\"r2@example.com\",\"first_name\":\"{huge}\"}}\n\
             {{\"email\":\"r3@example.com\"}}\n\
             {{\"email\":\"R1@example.com\"}}\n\
             {{\"email\":\"r5@example.com\",\"country_code\":\"nowhere\"}}\n\
             {{\"email\":\"r6@example.com\"}}\n"
        ),
    )
    .expect("write");
    let run = |batch_size: &str, report: &str| {
        let out = server
            .acorn()
            .args([
                "customers",
                "import",
                "--batch-size",
                batch_size,
                "--report",
            ])
            .arg(dir.join(report))
            .arg(&file)
            .output()
            .expect("import");
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("Imported 3 of 6 rows"),
            "{}",
            stdout(&out)
        );
        read_report(&dir.join(report))
    };
    let one_by_one = run("1", "one.csv");
    let failed: Vec<u64> = one_by_one
        .iter()
        .filter(|(_, (id, _))| id.is_empty())
        .map(|(row, _)| *row)
        .collect();
    assert_eq!(failed, [2, 4, 5]);
    assert!(
        one_by_one[&2].1.contains("too large"),
        "{:?}",
        one_by_one[&2]
    );
    assert!(
        one_by_one[&4].1.contains("already exists"),
        "{:?}",
        one_by_one[&4]
    );
    assert!(
        one_by_one[&5].1.contains("country_code"),
        "{:?}",
        one_by_one[&5]
    );

    assert_eq!(run("100", "batched.csv"), one_by_one);
    assert_eq!(run("2", "pairs.csv"), one_by_one);
    assert_eq!(server.count_as(&server.merchant), 3);
}

/// Rate limiting slows an import down; it never fails a row. A server allowing 4 requests/s
/// refuses most of 24 one-row requests sent 6 at a time with 429 at first; the SDK waits each
/// out (honouring `Retry-After`) and every row is imported.
#[test]
fn rate_limiting_is_waited_out_not_reported_as_failed_rows() {
    let server = Server::start_with(&["--rate-limit", "4", "--rate-limit-burst", "2"]);
    let file = server.dir().join("limited.jsonl");
    let lines: String = (1..=24)
        .map(|i| format!("{{\"email\":\"limited{i}@example.com\"}}\n"))
        .collect();
    std::fs::write(&file, lines).expect("write");
    let summary = server.json(&[
        "customers",
        "import",
        file.to_str().expect("path"),
        "--batch-size",
        "1",
        "--concurrency",
        "6",
    ]);
    assert_eq!(summary["imported"], 24, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");
    assert_eq!(server.count_as(&server.merchant), 24);

    let metrics = server.get_text("/metrics");
    let refused: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("acorn_http_requests_total{") && l.contains("status=\"429\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(
        refused > 0,
        "the server should have answered 429 along the way:\n{metrics}"
    );
}
