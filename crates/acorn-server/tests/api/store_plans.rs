//! The list queries use indexes, not scans of the customers table (contract §4.3), checked on
//! the engines' own plans over 100,000 customers.

use acorn_server::admin::Store;
use acorn_server::testing::{Dialect, ListQuery, Page, RegistrationFilter};
use acorn_types::{CustomerId, MerchantId};
use sqlx::Executor;

use crate::pg::TestDatabase;

const ROWS: i64 = 100_000;

pub(crate) async fn fill(url: &str, dialect: Dialect, merchant: MerchantId, other: MerchantId) {
    let pool = sqlx::AnyPool::connect(url).await.expect("connect");
    let m = merchant.uuid().to_string();
    let o = other.uuid().to_string();
    for id in [&m, &o] {
        pool.execute(format!("INSERT INTO merchants (id, name, client_id, secret_hash, created_at) VALUES ('{id}', 'm', 'c{id}', 'h', 0)").as_str())
            .await.expect("merchant");
    }
    let (series, fmt_id) = match dialect {
        Dialect::Postgres => ("SELECT g AS i FROM generate_series(1, {n}) g", "'00000000-0000-7000-8000-' || lpad(i::text, 12, '0')"),
        Dialect::Sqlite => ("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s", "printf('00000000-0000-7000-8000-%012d', i)"),
    };
    let series = series.replace("{n}", &ROWS.to_string());
    let sql = format!(
        "INSERT INTO customers (id, merchant_id, email, email_key, country_code, document_type, status, version, created_at, updated_at) \
         SELECT {fmt_id}, CASE WHEN i % 4 = 0 THEN '{o}' ELSE '{m}' END, 'u' || i || '@example.com', 'u' || i || '@example.com', \
         CASE i % 20 WHEN 0 THEN 'br' WHEN 1 THEN 'us' ELSE 'mx' END, CASE i % 7 WHEN 0 THEN 'cpf' ELSE NULL END, \
         CASE i % 50 WHEN 0 THEN 'APPROVED' ELSE 'NOT_STARTED' END, 1, i, i FROM ({series}) AS gen"
    );
    pool.execute(sql.as_str()).await.expect("bulk insert");
    // Plans are checked as the server meets them: PostgreSQL's autovacuum gathers statistics,
    // SQLite has none (nothing runs ANALYZE on it).
    if dialect == Dialect::Postgres {
        pool.execute("ANALYZE").await.expect("analyze");
    }
    pool.close().await;
}

pub(crate) fn query(page: Page) -> ListQuery {
    ListQuery {
        emails: vec![],
        countries: vec![],
        document_types: vec![],
        statuses: vec![],
        registration: RegistrationFilter::default(),
        page,
        limit: 10,
    }
}

async fn check(url: &str, dialect: Dialect) {
    let store = Store::open(url).await.expect("store");
    let (merchant, other) = (MerchantId::new(), MerchantId::new());
    fill(url, dialect, merchant, other).await;
    let cursor = CustomerId::parse("00000000-0000-7000-8000-000000050001").expect("id");
    let mut cases = vec![
        ("newest first", query(Page::Offset(0))),
        ("offset", query(Page::Offset(500))),
        ("after cursor", query(Page::After(cursor))),
        ("before cursor", query(Page::Before(cursor))),
    ];
    let mut q = query(Page::Offset(0));
    q.countries = vec!["br".into()];
    cases.push(("country", q.clone()));
    q.page = Page::After(cursor);
    cases.push(("country after cursor", q.clone()));
    let mut q = query(Page::Offset(0));
    q.document_types = vec!["cpf".into()];
    q.statuses = vec!["APPROVED".into()];
    cases.push(("document type and status (COUNT path)", q));
    let mut q = query(Page::Offset(0));
    q.emails = vec!["u5@example.com".into(), "u6@example.com".into()];
    cases.push(("email", q));
    let mut q = query(Page::Offset(0));
    q.statuses = vec!["APPROVED".into(), "REJECTED".into()];
    cases.push(("status list", q));
    let mut q = query(Page::Offset(0));
    q.registration.providers = vec!["stripe".into()];
    q.registration.statuses = vec!["approved".into()];
    cases.push(("registration filter", q));

    for (name, q) in cases {
        let plan = store.explain_list(merchant, &q).await.expect("plan");
        let full_scan = plan.lines().any(|l| match dialect {
            Dialect::Sqlite => l.trim_start().starts_with("SCAN customers") && !l.contains("INDEX"),
            Dialect::Postgres => l.contains("Seq Scan on customers"),
        });
        assert!(
            !full_scan,
            "{name}: the plan scans the customers table:\n{plan}"
        );
    }
    // Two or three of country, document type and status count from the cube's cells, never
    // by counting customer rows (a table of a few cells per merchant: the engine may read it
    // whole while it is this small).
    let mut q = query(Page::Offset(0));
    q.countries = vec!["br".into(), "mx".into()];
    q.document_types = vec!["cpf".into()];
    q.statuses = vec!["APPROVED".into()];
    let plan = store.explain_list(merchant, &q).await.expect("plan");
    let count_plan = plan
        .lines()
        .skip_while(|l| !l.contains("customer_cube"))
        .collect::<Vec<_>>();
    assert!(
        !count_plan.is_empty(),
        "the count reads customer_cube:\n{plan}"
    );
    assert!(
        count_plan.iter().all(|l| !l.contains("customers ")),
        "the cube count does not read customers:\n{plan}"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_plans_use_indexes_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("plans.db").display());
    check(&url, Dialect::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_plans_use_indexes_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    check(&db.url, Dialect::Postgres).await;
}

/// The statements a server runs as it starts read their partial indexes, not every customer
/// or every key (at a million customers the scans took 35 s before the server listened).
async fn check_start_up(url: &str, dialect: Dialect) {
    let store = Store::open(url).await.expect("store");
    let (merchant, other) = (MerchantId::new(), MerchantId::new());
    fill(url, dialect, merchant, other).await;
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect");
    // Sealed rows carry a blind index; a few legacy ones keep their plaintext key.
    conn.execute(
        "UPDATE customers SET email_key = 'bi2:' || email_key WHERE created_at % 1000 <> 7",
    )
    .await
    .expect("blind");
    if dialect == Dialect::Postgres {
        conn.execute("ANALYZE").await.expect("analyze");
        // Whether the index can serve the statement at all, whatever the tiny tables' costs.
        conn.execute("SET enable_seqscan = off").await.expect("set");
    }
    let statements = [
        ("SELECT id, email, email_key FROM customers WHERE email_key NOT LIKE 'bi2:%' AND length(email_key) <> octet_length(email_key)", "customers_legacy_email_key"),
        (if dialect == Dialect::Sqlite {
            "SELECT DISTINCT merchant_id FROM customers INDEXED BY customers_legacy_email_key WHERE email_key NOT LIKE 'bi2:%'"
        } else {
            "SELECT DISTINCT merchant_id FROM customers WHERE email_key NOT LIKE 'bi2:%'"
        }, "customers_legacy_email_key"),
        ("DELETE FROM idempotency_keys WHERE status = 'in_flight' AND instance_id = 'i-1'", "idempotency_keys_in_flight"),
    ];
    assert_through(&mut conn, dialect, &statements).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_reads_use_their_partial_indexes_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("startup.db").display());
    check_start_up(&url, Dialect::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_reads_use_their_partial_indexes_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    check_start_up(&db.url, Dialect::Postgres).await;
}

/// Asserts that each statement's plan names its index.
async fn assert_through(
    conn: &mut sqlx::AnyConnection,
    dialect: Dialect,
    statements: &[(&str, &str)],
) {
    for &(statement, index) in statements {
        let prefix = if dialect == Dialect::Sqlite {
            "EXPLAIN QUERY PLAN "
        } else {
            "EXPLAIN "
        };
        let rows = sqlx::query(&format!("{prefix}{statement}"))
            .fetch_all(&mut *conn)
            .await
            .expect("explain");
        let plan: Vec<String> = rows
            .iter()
            .map(|r| {
                use sqlx::Row;
                if dialect == Dialect::Sqlite {
                    r.try_get("detail")
                } else {
                    r.try_get(0)
                }
                .expect("plan line")
            })
            .collect();
        assert!(
            plan.iter().any(|l| l.contains(index)),
            "{statement}: not through {index}:\n{}",
            plan.join("\n")
        );
    }
}

/// Events are keyed by (merchant_id, id) (migration 0013): reads of one event, the
/// notifications' join and the webhook fan-out go through that index; the generated category
/// is the one each event kind names.
async fn check_events(url: &str, dialect: Dialect) {
    let store = Store::open(url).await.expect("store");
    let (merchant, other) = (MerchantId::new(), MerchantId::new());
    fill(url, dialect, merchant, other).await;
    let m = merchant.uuid().to_string();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("connect");
    conn.execute(
        "INSERT INTO events (id, merchant_id, customer_id, event, data, created_at) \
         SELECT id, merchant_id, id, 'customer.created', '{}', created_at FROM customers",
    )
    .await
    .expect("events");
    let kinds: Vec<acorn_types::events::EventKind> =
        acorn_types::events::EventKind::all().collect();
    for (i, kind) in kinds.iter().enumerate() {
        sqlx::query("INSERT INTO events (id, merchant_id, event, data, created_at) VALUES ($1, $2, $3, '{}', 0)")
            .bind(format!("00000000-0000-7000-9000-{i:012}"))
            .bind(m.clone())
            .bind(kind.as_str().to_owned())
            .execute(&mut conn)
            .await
            .expect("event");
    }
    for (i, kind) in kinds.iter().enumerate() {
        let category: String =
            sqlx::query_scalar("SELECT category FROM events WHERE merchant_id = $1 AND id = $2")
                .bind(m.clone())
                .bind(format!("00000000-0000-7000-9000-{i:012}"))
                .fetch_one(&mut conn)
                .await
                .expect("category");
        assert_eq!(category, kind.category().as_str(), "{}", kind.as_str());
    }
    if dialect == Dialect::Postgres {
        conn.execute("ANALYZE").await.expect("analyze");
        conn.execute("SET enable_seqscan = off").await.expect("set");
    }
    let one = "00000000-0000-7000-8000-000000000042";
    let statements = [
        format!("SELECT 1 FROM events WHERE merchant_id = '{m}' AND id = '{one}'"),
        format!("SELECT n.id, e.data FROM webhook_notifications n JOIN events e ON e.merchant_id = n.merchant_id AND e.id = n.event_id WHERE n.merchant_id = '{m}'"),
        format!("SELECT e.id, w.id FROM events e JOIN webhook_endpoints w ON w.merchant_id = e.merchant_id WHERE w.is_active = 1 AND e.merchant_id IN ('{m}') AND e.id IN ('{one}')"),
    ];
    let statements: Vec<(&str, &str)> = statements
        .iter()
        .map(|s| (s.as_str(), "events_merchant_id"))
        .collect();
    assert_through(&mut conn, dialect, &statements).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_reads_use_the_merchant_key_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("events.db").display());
    check_events(&url, Dialect::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_reads_use_the_merchant_key_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    check_events(&db.url, Dialect::Postgres).await;
}

/// The offset marks (migration 0014, SQLite): a deep offset page reads the merchant's marks by
/// their key and walks the newest-first index from a mark; keeping them looks a range up by key
/// and closes one at the newest live id through the index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_marks_use_their_key_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("marks.db").display());
    let store = Store::open(&url).await.expect("store");
    let (merchant, other) = (MerchantId::new(), MerchantId::new());
    fill(&url, Dialect::Sqlite, merchant, other).await;
    let m = merchant.uuid().to_string();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    // Marks as the migration builds them for the rows `fill` wrote behind the store's back.
    conn.execute(
        format!(
            "INSERT INTO customer_marks (merchant_id, upper, n) \
             SELECT '{m}', '00000000-0000-7000-8000-000000050000', 37500 UNION ALL SELECT '{m}', '~', 37500"
        )
        .as_str(),
    )
    .await
    .expect("marks");
    let statements = [
        format!("SELECT upper, n FROM customer_marks WHERE merchant_id = '{m}' ORDER BY upper DESC"),
        format!("SELECT MIN(upper) FROM customer_marks WHERE merchant_id = '{m}' AND upper >= '00000000-0000-7000-8000-000000000042'"),
    ];
    let mut checks: Vec<(&str, &str)> = statements
        .iter()
        .map(|s| (s.as_str(), "PRIMARY KEY"))
        .collect();
    let newest =
        format!("SELECT MAX(id) FROM customers WHERE merchant_id = '{m}' AND deleted_at IS NULL");
    checks.push((&newest, "customers_merchant_id"));
    assert_through(&mut conn, Dialect::Sqlite, &checks).await;
    // The page at 60,000 starts 22,500 below the older mark, through the index, unsorted.
    let plan = store
        .explain_list(merchant, &query(Page::Offset(60_000)))
        .await
        .expect("plan");
    let page: Vec<&str> = plan
        .lines()
        .take_while(|l| !l.contains("customer_counts"))
        .collect();
    assert!(
        page.iter()
            .any(|l| l.contains("customers_merchant_id") && l.contains("id<?")),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    store.close().await;
}
