//! The replicas example (`postgres/examples/replicas.rs`) told against the
//! test server: its answers are the ones its text promises.

use zorg_pdp::Reason;

#[path = "../../examples/replicas.rs"]
#[expect(
    dead_code,
    reason = "the example's main and its cluster start are not used here"
)]
mod replicas;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replicas_example_denies_with_the_token_and_allows_only_before() {
    let s = replicas::story(&crate::common::base_url()).await.unwrap();
    let p = s.withdrawal;
    let answers: Vec<_> = s
        .answers
        .iter()
        .map(|a| {
            (
                a.replica,
                a.min_seq,
                a.response.is_allowed(),
                a.response.reasons.clone(),
            )
        })
        .collect();
    let [a1, b1, a2, b2, b_untokened, b3] = answers.as_slice() else {
        panic!("{answers:?}");
    };
    // Before the withdrawal both allow
    assert!(a1.2 && b1.2, "{answers:?}");
    // With the token: A denies on the withdrawal, lagging B on stale facts
    assert_eq!((a2.0, a2.1, a2.2), ("A", Some(p), false));
    assert!(!a2.3.contains(&Reason::StaleFacts));
    assert_eq!((b2.0, b2.1, b2.2), ("B", Some(p), false));
    assert_eq!(b2.3, vec![Reason::StaleFacts]);
    // Without it, lagging B still allows: what the token is for
    assert_eq!((b_untokened.1, b_untokened.2), (None, true));
    // Caught up, B denies on the withdrawal
    assert_eq!((b3.0, b3.1, b3.2), ("B", Some(p), false));
    assert!(!b3.3.contains(&Reason::StaleFacts));
    assert!(
        s.text.contains("stale_facts") && s.text.contains(&format!("position {p}")),
        "{}",
        s.text
    );
}
