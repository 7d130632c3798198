//! The metrics recorder behind `GET /metrics` (served by `http::metrics`): Prometheus text format (contract §10), through the `metrics` crate and
//! `metrics-exporter-prometheus`: request counts and latency by method, route template and
//! status, the database pools' size, idle connections and wait for a connection, and the job queue's depth and oldest
//! pending job by kind. Routes are templates (`/api/v1/customers/{id}`), never concrete paths,
//! so the series stay few and carry no customer data; the exporter escapes label values.
//!
//! Each server has its own recorder (not the process-global one), so several servers in one
//! process (the tests) keep separate counts. Recording goes through the exporter's atomic
//! handles: no lock is taken per request.

use std::time::Duration;

use metrics::{counter, gauge, histogram, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Latency histogram bounds, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// Bounds of the wait for a database connection, in seconds (most checkouts take microseconds).
const WAIT_BUCKETS: [f64; 12] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0,
];

const REQUESTS: &str = "acorn_http_requests_total";
const POOL_WAIT: &str = "acorn_db_pool_acquire_seconds";
const DURATION: &str = "acorn_http_request_duration_seconds";

/// The metrics of one server.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        // Setting buckets fails only for an empty list; these are constants.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), &BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(POOL_WAIT.to_owned()), &WAIT_BUCKETS)
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics { recorder, handle };
        metrics.describe();
        metrics
    }
}

impl Metrics {
    fn describe(&self) {
        metrics::with_local_recorder(&self.recorder, || {
            metrics::describe_counter!(
                REQUESTS,
                "Requests served, by method, route template and status."
            );
            metrics::describe_histogram!(DURATION, Unit::Seconds, "Request latency.");
            metrics::describe_gauge!(
                "acorn_db_pool_connections",
                "Open connections of each database pool."
            );
            metrics::describe_gauge!(
                "acorn_db_pool_idle_connections",
                "Idle connections of each database pool."
            );
            metrics::describe_histogram!(
                POOL_WAIT,
                Unit::Seconds,
                "Wait for a connection of each database pool (a transaction: checkout and BEGIN)."
            );
            metrics::describe_gauge!("acorn_jobs_pending", "Jobs waiting or running, by kind.");
            metrics::describe_counter!(
                "acorn_webhook_deliveries_total",
                "Webhook delivery attempts of this process, by outcome."
            );
            for outcome in ["delivered", "failed", "dead_lettered"] {
                counter!("acorn_webhook_deliveries_total", "outcome" => outcome).increment(0);
            }
            metrics::describe_gauge!(
                "acorn_webhook_queue_depth",
                "Notifications waiting for delivery (every process)."
            );
            metrics::describe_gauge!(
                "acorn_webhook_oldest_pending_seconds",
                Unit::Seconds,
                "Age of the oldest notification waiting for delivery (0 when there is none)."
            );
            metrics::describe_gauge!(
                "acorn_jobs_oldest_pending_age_seconds",
                Unit::Seconds,
                "Age of the oldest job of each kind (0 when there is none)."
            );
        });
    }

    /// Records one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, latency: Duration) {
        let labels = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        metrics::with_local_recorder(&self.recorder, || {
            counter!(REQUESTS, &labels).increment(1);
            histogram!(DURATION, &labels).record(latency.as_secs_f64());
        });
    }

    /// Counts one request refused before routing (hyper could not parse its head): no route,
    /// no method and no latency, only the status.
    pub fn refused(&self, status: u16) {
        let labels = [
            ("method", "(unparsed)".to_owned()),
            ("route", "(unparsed)".to_owned()),
            ("status", status.to_string()),
        ];
        metrics::with_local_recorder(&self.recorder, || {
            counter!(REQUESTS, &labels).increment(1);
        });
    }

    /// The histogram of waits for a connection of `pool` (`read`, `write`), for the store to
    /// record into.
    pub fn pool_wait(&self, pool: &'static str) -> metrics::Histogram {
        metrics::with_local_recorder(&self.recorder, || histogram!(POOL_WAIT, "pool" => pool))
    }

    /// Sets the gauges read at scrape time.
    pub fn set_gauges(
        &self,
        pools: &[(&'static str, u32, usize)],
        kinds: &[&'static str],
        jobs: &[JobQueue],
    ) {
        metrics::with_local_recorder(&self.recorder, || {
            for (pool, size, idle) in pools {
                gauge!("acorn_db_pool_connections", "pool" => *pool).set(f64::from(*size));
                #[allow(clippy::cast_precision_loss)]
                gauge!("acorn_db_pool_idle_connections", "pool" => *pool).set(*idle as f64);
            }
            for kind in kinds {
                let q = jobs.iter().find(|q| q.kind == *kind);
                #[allow(clippy::cast_precision_loss)]
                let (depth, age) = q.map_or((0.0, 0.0), |q| (q.depth as f64, q.oldest_age_secs));
                gauge!("acorn_jobs_pending", "kind" => *kind).set(depth);
                gauge!("acorn_jobs_oldest_pending_age_seconds", "kind" => *kind).set(age);
            }
        });
    }

    /// Counts one webhook delivery attempt (`delivered`, `failed`, `dead_lettered`).
    pub fn delivery(&self, outcome: &'static str) {
        metrics::with_local_recorder(&self.recorder, || {
            counter!("acorn_webhook_deliveries_total", "outcome" => outcome).increment(1);
        });
    }

    /// Sets the webhook queue gauges (all processes): pending notifications and the age of the
    /// oldest, in seconds (0 when there is none).
    pub fn set_webhook_queue(&self, depth: i64, oldest: Option<i64>, now: i64) {
        #[allow(clippy::cast_precision_loss)]
        let (depth, age) = (
            depth as f64,
            oldest.map_or(0.0, |t| (now - t).max(0) as f64 / 1e6),
        );
        metrics::with_local_recorder(&self.recorder, || {
            gauge!("acorn_webhook_queue_depth").set(depth);
            gauge!("acorn_webhook_oldest_pending_seconds").set(age);
        });
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

/// One kind's queue, as the store reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobQueue {
    /// The stored `jobs.kind`.
    pub kind: String,
    /// How many jobs of the kind exist.
    pub depth: i64,
    /// Seconds since the oldest was created.
    pub oldest_age_secs: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_cumulative_buckets() {
        let m = Metrics::default();
        m.observe(
            "GET",
            "/api/v1/customers/{id}",
            200,
            Duration::from_millis(2),
        );
        m.observe(
            "GET",
            "/api/v1/customers/{id}",
            200,
            Duration::from_millis(30),
        );
        let text = m.render();
        assert!(text.contains("acorn_http_requests_total{method=\"GET\",route=\"/api/v1/customers/{id}\",status=\"200\"} 2"), "{text}");
        assert!(text.contains("le=\"0.0025\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(text
            .contains("_count{method=\"GET\",route=\"/api/v1/customers/{id}\",status=\"200\"} 2"));
    }

    #[test]
    fn pool_waits_are_a_histogram_by_pool() {
        let m = Metrics::default();
        m.pool_wait("write").record(0.0003);
        m.pool_wait("write").record(0.02);
        let text = m.render();
        assert!(
            text.contains("# TYPE acorn_db_pool_acquire_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains("acorn_db_pool_acquire_seconds_bucket{pool=\"write\",le=\"0.0005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("acorn_db_pool_acquire_seconds_count{pool=\"write\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn labels_are_escaped_and_gauges_cover_every_job_kind() {
        let m = Metrics::default();
        m.observe("GET", "/a\"b\\c\nd", 200, Duration::from_millis(1));
        m.set_gauges(
            &[("write", 3, 1)],
            &["sandbox.advance", "sync.attempt"],
            &[],
        );
        let text = m.render();
        assert!(text.contains(r#"route="/a\"b\\c\nd""#), "{text}");
        assert!(
            text.contains("acorn_db_pool_connections{pool=\"write\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("acorn_jobs_pending{kind=\"sync.attempt\"} 0"),
            "{text}"
        );
    }
}
