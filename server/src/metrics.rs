//! `GET /metrics`: the service's counters, the decision latency histogram
//! and the engine's state, in the `OpenMetrics` text format Prometheus scrapes
//! (`docs/server-operations.md` lists every name and label).
//!
//! The request path touches atomics only: every decision counter is created
//! at start and kept as a handle (an `Arc` of one atomic), the latency
//! histogram is a row of atomic buckets, and the HTTP counter's family is
//! looked up under a read lock that is never held across an `.await`. The
//! engine's state (position, journal, audit, feed) is read when scraped.
//!
//! Labels carry codes only (an action's name, `allow`/`deny`, a route
//! pattern, a status code): never an id or a category.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::{
    EncodeLabelSet, EncodeMetric, LabelSetEncoder, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::exemplar::Exemplar;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use zorg_pdp::ActionKind;

use crate::zorg::ZorgDecider;

/// The content type of the answer: `OpenMetrics` text 1.0, which Prometheus
/// scrapes (and asks for first)
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The upper bounds of the decision latency histogram, in seconds: 1 µs to
/// 10 ms, as a decision takes microseconds (`BENCHMARKS.md`) and anything
/// near a millisecond is worth seeing
pub const LATENCY_BUCKETS: [f64; 13] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
];

/// The label of a path no route matched
const UNMATCHED: &str = "unmatched";

/// The label of `route`: one of [`ROUTES`], else `unmatched`
fn route_label(route: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|r| **r == route)
        .copied()
        .unwrap_or(UNMATCHED)
}

/// The routes the HTTP counter names (a request that matches none is
/// counted as `unmatched`, so a scan of random paths adds no series)
const ROUTES: [&str; 14] = [
    "/access/v1/evaluation",
    "/access/v1/evaluations",
    "/access/v1/search/subject",
    "/access/v1/search/resource",
    "/access/v1/search/action",
    "/.well-known/authzen-configuration",
    "/v1/entries",
    "/v1/consent/check",
    "/v1/consent/locate",
    "/v1/consent/overview",
    "/healthz",
    "/readyz",
    "/metrics",
    "unmatched",
];

/// The label of a decision whose action is none of SPEC.md §4's twelve
const OTHER_ACTION: &str = "other";

/// A consent question's outcome (the label `outcome`)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentOutcome {
    /// Answered (200)
    Answered,
    /// Refused as malformed (400)
    Malformed,
    /// It named an id or code the engine does not know (422)
    Unknown,
    /// Its `min_seq` is not applied yet (503)
    Stale,
}

impl ConsentOutcome {
    const ALL: [ConsentOutcome; 4] = [
        ConsentOutcome::Answered,
        ConsentOutcome::Malformed,
        ConsentOutcome::Unknown,
        ConsentOutcome::Stale,
    ];

    fn as_str(self) -> &'static str {
        match self {
            ConsentOutcome::Answered => "answered",
            ConsentOutcome::Malformed => "malformed",
            ConsentOutcome::Unknown => "unknown",
            ConsentOutcome::Stale => "stale",
        }
    }
}

/// The consent questions, by their label `question`
pub const QUESTIONS: [&str; 3] = ["check", "locate", "overview"];

/// The searches, by their label `kind`
pub const SEARCHES: [&str; 3] = ["subject", "resource", "action"];

/// Two labels with fixed names and code values
type Pair = [(&'static str, &'static str); 2];

/// The labels of an HTTP request: its route pattern and status code
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Http {
    route: &'static str,
    status: u16,
}

impl EncodeLabelSet for Http {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        [("route", self.route)].encode(encoder)?;
        [("status", u64::from(self.status))].encode(encoder)
    }
}

/// A histogram of atomics: one counter per bucket, the count and the sum
/// in nanoseconds; observing is three relaxed additions
#[derive(Debug)]
struct Latency {
    /// The bounds in nanoseconds, for [`Latency::observe`]
    bounds_ns: [u64; LATENCY_BUCKETS.len()],
    /// Observations per bucket (not cumulative); the last is `+Inf`
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Latency {
    fn new() -> Self {
        Self {
            bounds_ns: LATENCY_BUCKETS.map(|s| {
                // The bounds are whole nanoseconds (1 µs and up)
                let ns = Duration::from_secs_f64(s).as_nanos();
                u64::try_from(ns).unwrap_or(u64::MAX)
            }),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let i = self.bounds_ns.partition_point(|&b| b < ns);
        if let Some(bucket) = self.buckets.get(i) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// A view of the histogram for one scrape (the registry takes owned metrics)
#[derive(Debug)]
struct LatencyView(Arc<Latency>);

impl EncodeMetric for LatencyView {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let l = &self.0;
        let buckets: Vec<(f64, u64)> = LATENCY_BUCKETS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(l.buckets.iter().map(|b| b.load(Ordering::Relaxed)))
            .collect();
        // Read after the buckets: a scrape racing an observation may see the
        // count one below the buckets' sum, never above it
        let count = l.count.load(Ordering::Relaxed);
        #[expect(
            clippy::cast_precision_loss,
            reason = "a sum of nanoseconds in seconds: f64 keeps microseconds for 285 years"
        )]
        let sum = l.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(
            sum,
            count,
            &buckets,
            None::<&std::collections::HashMap<usize, Exemplar<NoLabelSet, f64>>>,
        )
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// The service's metrics: what the handlers count, and the latency
#[derive(Debug)]
pub struct Metrics {
    decisions: Family<Pair, Counter>,
    /// `decisions`' counters by action (SPEC.md §4's order, then `other`)
    /// and decision (`allow`, `deny`): the handles the request path adds to
    by_action: Vec<[Counter; 2]>,
    latency: Arc<Latency>,
    batches: Counter,
    batch_items: Counter,
    searches: Family<[(&'static str, &'static str); 1], Counter>,
    consent: Family<Pair, Counter>,
    /// `consent`'s counters by question and outcome
    by_question: Vec<[Counter; 4]>,
    http: Family<Http, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every counter at zero, every series of a code label set created
    pub fn new() -> Self {
        let decisions = Family::<Pair, Counter>::default();
        let actions = ActionKind::ALL
            .iter()
            .map(|a| a.as_str())
            .chain(std::iter::once(OTHER_ACTION));
        let by_action = actions
            .map(|action| {
                ["allow", "deny"].map(|decision| {
                    decisions
                        .get_or_create(&[("action", action), ("decision", decision)])
                        .clone()
                })
            })
            .collect();
        let consent = Family::<Pair, Counter>::default();
        let by_question = QUESTIONS
            .iter()
            .map(|question| {
                ConsentOutcome::ALL.map(|o| {
                    consent
                        .get_or_create(&[("question", question), ("outcome", o.as_str())])
                        .clone()
                })
            })
            .collect();
        let searches = Family::default();
        for kind in SEARCHES {
            let _ = searches.get_or_create(&[("kind", kind)]);
        }
        Self {
            decisions,
            by_action,
            latency: Arc::new(Latency::new()),
            batches: Counter::default(),
            batch_items: Counter::default(),
            searches,
            consent,
            by_question,
            http: Family::default(),
        }
    }

    fn action_counters(&self, action: Option<ActionKind>) -> Option<&[Counter; 2]> {
        let i = action
            .and_then(|a| ActionKind::ALL.iter().position(|k| *k == a))
            .unwrap_or(ActionKind::ALL.len());
        self.by_action.get(i)
    }

    /// Counts one decision the engine made, and how long its call took
    pub fn decided(&self, action: ActionKind, allowed: bool, elapsed: Duration) {
        self.latency.observe(elapsed);
        self.answered(Some(action), allowed);
    }

    /// Counts one decision answered: by the engine, or a deny the mapping
    /// gave without asking it (an unknown type, id or action, `None` for an
    /// action that is none of the twelve)
    pub fn answered(&self, action: Option<ActionKind>, allowed: bool) {
        if let Some([allow, deny]) = self.action_counters(action) {
            if allowed { allow } else { deny }.inc();
        }
    }

    /// Counts one batch of `items` evaluations
    pub fn batch(&self, items: usize) {
        self.batches.inc();
        self.batch_items.inc_by(items as u64);
    }

    /// Counts one search of `kind` (one of [`SEARCHES`])
    pub fn searched(&self, kind: &'static str) {
        self.searches.get_or_create(&[("kind", kind)]).inc();
    }

    /// Counts one consent question (`question` one of [`QUESTIONS`])
    pub fn consent(&self, question: &str, outcome: ConsentOutcome) {
        let q = QUESTIONS.iter().position(|q| *q == question);
        let o = ConsentOutcome::ALL.iter().position(|x| *x == outcome);
        if let (Some(q), Some(o)) = (q, o)
            && let Some(c) = self.by_question.get(q).and_then(|row| row.get(o))
        {
            c.inc();
        }
    }

    /// Counts one HTTP request answered on `route` (a route pattern; anything
    /// else is `unmatched`) with `status`
    pub fn request(&self, route: &str, status: StatusCode) {
        self.count_request(route_label(route), status);
    }

    /// [`Metrics::request`] with the label already found
    fn count_request(&self, route: &'static str, status: StatusCode) {
        self.http
            .get_or_create(&Http {
                route,
                status: status.as_u16(),
            })
            .inc();
    }

    /// The metrics as `OpenMetrics` text, with the state of `zorg`'s engine
    /// (position, journal, audit log, feed) when there is one
    pub fn render(&self, zorg: Option<&ZorgDecider>) -> String {
        let mut r = Registry::with_prefix("zorg_pdp");
        r.register(
            "decisions",
            "Decisions answered, by action (SPEC.md §4, `other` for an unknown one) and decision",
            self.decisions.clone(),
        );
        r.register(
            "decision_duration_seconds",
            "Time of the engine's decide call, measured in the handler around it",
            LatencyView(Arc::clone(&self.latency)),
        );
        r.register(
            "batches",
            "POST /access/v1/evaluations bodies with an evaluations array",
            self.batches.clone(),
        );
        r.register(
            "batch_items",
            "Items answered in batches (an early stop answers fewer than were sent)",
            self.batch_items.clone(),
        );
        r.register(
            "searches",
            "AuthZEN searches, by kind",
            self.searches.clone(),
        );
        r.register(
            "consent_questions",
            "Consent questions (/v1/consent/*), by question and outcome",
            self.consent.clone(),
        );
        r.register(
            "http_requests",
            "HTTP requests answered, by route pattern and status code",
            self.http.clone(),
        );
        if let Some(z) = zorg {
            z.register_state(&mut r);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &r).is_err() {
            out.clear();
            let _ = writeln!(out, "# the metrics could not be encoded\n# EOF");
        }
        out
    }
}

/// A gauge read at scrape time
pub(crate) fn gauge(value: i64) -> ConstGauge<i64> {
    ConstGauge::new(value)
}

/// A gauge of a count read at scrape time (saturating at `i64::MAX`)
pub(crate) fn gauge_u64(value: u64) -> ConstGauge<i64> {
    ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX))
}

/// A counter read at scrape time
pub(crate) fn counter(value: u64) -> ConstCounter<u64> {
    ConstCounter::new(value)
}

/// What `GET /metrics` reads
#[derive(Debug, Clone)]
struct Scrape {
    metrics: Arc<Metrics>,
    zorg: Option<Arc<ZorgDecider>>,
}

/// The `/metrics` route, over `metrics` and the engine behind `zorg`
pub fn routes<S: Clone + Send + Sync + 'static>(
    metrics: Arc<Metrics>,
    zorg: Option<Arc<ZorgDecider>>,
) -> Router<S> {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape { metrics, zorg })
}

async fn scrape(State(s): State<Scrape>) -> Response {
    let text = s.metrics.render(s.zorg.as_deref());
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response()
}

/// Middleware: counts every request by its route pattern and status
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, |p| route_label(p.as_str()));
    let response = next.run(request).await;
    metrics.count_request(route, response.status());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_buckets_by_upper_bound() {
        let l = Latency::new();
        l.observe(Duration::from_nanos(500)); // ≤ 1 µs
        l.observe(Duration::from_micros(1)); // ≤ 1 µs (bounds are inclusive)
        l.observe(Duration::from_micros(3)); // ≤ 5 µs
        l.observe(Duration::from_secs(1)); // +Inf
        let counts: Vec<u64> = l
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts.first(), Some(&2));
        assert_eq!(counts.get(2), Some(&1));
        assert_eq!(counts.last(), Some(&1));
        assert_eq!(l.count.load(Ordering::Relaxed), 4);
        assert_eq!(l.sum_ns.load(Ordering::Relaxed), 1_000_004_500);
    }

    #[test]
    fn the_text_names_codes_only_and_ends_with_eof() {
        let m = Metrics::new();
        m.decided(ActionKind::View, true, Duration::from_micros(2));
        m.answered(None, false);
        m.batch(14);
        m.request("/access/v1/evaluation", StatusCode::OK);
        m.request("/no/such/path", StatusCode::NOT_FOUND);
        m.consent("check", ConsentOutcome::Unknown);
        let text = m.render(None);
        assert!(
            text.contains("zorg_pdp_decisions_total{action=\"view\",decision=\"allow\"} 1"),
            "{text}"
        );
        assert!(text.contains("zorg_pdp_decisions_total{action=\"other\",decision=\"deny\"} 1"));
        assert!(text.contains("zorg_pdp_decisions_total{action=\"share\",decision=\"deny\"} 0"));
        assert!(text.contains("zorg_pdp_batch_items_total 14"));
        assert!(text.contains("zorg_pdp_decision_duration_seconds_count 1"));
        assert!(text.contains("zorg_pdp_decision_duration_seconds_bucket{le=\"0.0000025\"} 1"));
        assert!(
            text.contains("zorg_pdp_http_requests_total{route=\"unmatched\",status=\"404\"} 1")
        );
        assert!(text.contains(
            "zorg_pdp_consent_questions_total{question=\"check\",outcome=\"unknown\"} 1"
        ));
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
