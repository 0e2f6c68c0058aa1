//! The Search tab's unit tests: the diff against a pin, saved parameters, the threshold, opening a
//! result's conversation.

use super::*;

mod diff_tests {
    use super::*;

    fn m(id: &str) -> VectorMatch {
        VectorMatch { id: id.into(), score: 0.5, values: None, metadata: None }
    }

    #[test]
    fn diff_against_the_pin() {
        let d = diff(&[m("a"), m("b"), m("c")], &[m("b"), m("d"), m("a")]);
        assert_eq!(d.moves, vec![Some(1), None, Some(-2)]);
        assert_eq!(d.dropped, vec!["c".to_string()]);
        assert_eq!((d.overlap, d.k), (2, 3));
    }
}

impl SearchTab {
    /// A configured tab over a local index, for unit tests.
    fn for_tests() -> SearchTab {
        let mut cfg = crate::config::Config::with_redis("redis://x");
        cfg.vector = Some(crate::config::VectorConfig::local(None));
        SearchTab::new(&cfg)
    }
}

mod saved_tests {
    use super::*;

    #[test]
    fn parameters_round_trip() {
        let mut a = SearchTab::for_tests();
        a.top_k = 20;
        a.namespace = "docs".into();
        a.threshold = Some(0.4);
        a.filter = line_area("{\"role\": \"user\"}");
        a.query = LineEdit::with_history("", vec!["one".into(), "two".into()]);
        let mut b = SearchTab::for_tests();
        b.restore(&a.saved());
        assert_eq!(
            (b.top_k, b.namespace.as_str(), b.threshold, b.filter_text()),
            (20, "docs", Some(0.4), "{\"role\": \"user\"}".to_string())
        );
        assert_eq!(b.query.history(), ["one", "two"]);
        assert!(b.params().is_some());
    }
}

mod threshold_tests {
    use super::*;

    #[test]
    fn a_search_that_failed_while_connecting_runs_again_when_the_tier_is_up() {
        let mut t = SearchTab::for_tests();
        t.query = line_area("refund");
        t.error = Some("unreachable: vector store / embedder: still connecting".into());
        let cmds = t.start(&mut Cx::default());
        assert!(cmds.iter().any(|c| matches!(c, Command::Vector(_, VectorCmd::Search { .. }))), "{cmds:?}");
        assert!(t.error.is_none());
    }

    /// A Search tab under `preset` showing one result with metadata `md` (JSON).
    fn one_result(preset: crate::config::LayoutPreset, md: &str) -> (crate::config::Config, SearchTab) {
        let mut cfg = crate::config::Config::with_redis("redis://x");
        cfg.vector = Some(crate::config::VectorConfig::local(None));
        cfg.layout = crate::config::LayoutConfig::preset(preset);
        let mut t = SearchTab::new(&cfg);
        let md: serde_json::Map<String, serde_json::Value> = serde_json::from_str(md).unwrap();
        t.outcome = Some(SearchOutcome {
            result: crate::domain::QueryResult {
                matches: vec![VectorMatch { id: "v1".into(), score: 0.9, values: None, metadata: Some(md) }],
                namespace: String::new(),
                read_units: None,
            },
            embed_ms: 0.0,
            query_ms: 0.0,
            total_ms: 0.0,
        });
        (cfg, t)
    }

    /// A record of redisvl's SemanticMessageHistory (its fields as the Redis index returns them)
    /// opens its session's message under the redisvl preset.
    #[test]
    fn a_redisvl_record_opens_its_session() {
        let (_, mut t) = one_result(
            crate::config::LayoutPreset::Redisvl,
            r#"{"entry_id":"sess-ivy:1796670318.38","role":"user","content":"refund order 1182","session_tag":"sess-ivy"}"#,
        );
        let mut cx = Cx::default();
        t.on_action(Action::Open, &mut cx);
        let asks = cx.take_asks();
        assert!(
            matches!(&asks[..], [Ask::OpenMessage { conversation, message: Some(m) }] if conversation == "sess-ivy" && m == "sess-ivy:1796670318.38"),
            "{asks:?}"
        );
    }

    #[test]
    fn a_result_opens_its_conversation_by_the_layouts_metadata_names() {
        let (mut cfg, mut t) = one_result(
            crate::config::LayoutPreset::Mem0,
            r#"{"data":"I am vegetarian","user_id":"user-lena","hash":"h1"}"#,
        );
        let mut cx = Cx::default();
        t.on_action(Action::Open, &mut cx);
        let asks = cx.take_asks();
        assert!(
            matches!(&asks[..], [Ask::OpenMessage { conversation, message: Some(m) }] if conversation == "user-lena" && m == "h1"),
            "{asks:?}"
        );
        cfg.layout = crate::config::LayoutConfig::default();
        let mut t2 = SearchTab::new(&cfg);
        t2.outcome = t.outcome.take();
        let mut cx = Cx::default();
        t2.on_action(Action::Open, &mut cx);
        assert!(
            cx.take_asks()
                .iter()
                .any(|a| matches!(a, Ask::Status { text, error: true } if text.contains("vector_conversation_field")))
        );
    }

    #[test]
    fn the_threshold_stops_at_one_for_cosine() {
        let mut t = SearchTab::for_tests();
        t.stats = Some(IndexStats {
            dimension: Some(3),
            metric: Some(Metric::Cosine),
            total: 0,
            fullness: None,
            namespaces: vec![],
            detail: None,
        });
        t.threshold = Some(0.95);
        let mut cx = Cx::default();
        for _ in 0..5 {
            t.on_action(Action::ThresholdUp, &mut cx);
        }
        assert_eq!(t.threshold, Some(1.0));
    }

    /// From no threshold, `]` starts just under the lowest score shown, `[` does nothing.
    #[test]
    fn the_first_threshold_cuts_nothing_yet() {
        let mut t = SearchTab::for_tests();
        let mut cx = Cx::default();
        t.on_action(Action::ThresholdDown, &mut cx);
        assert_eq!(t.threshold, None);
        t.on_action(Action::ThresholdUp, &mut cx);
        assert_eq!(t.threshold, Some(0.05), "no results: the first step");
        t.threshold = None;
        let m =
            |id: &str, score: f32| crate::domain::VectorMatch { id: id.into(), score, values: None, metadata: None };
        t.outcome = Some(SearchOutcome {
            result: crate::domain::QueryResult {
                matches: vec![m("a", 0.83), m("b", 0.41)],
                namespace: String::new(),
                read_units: None,
            },
            embed_ms: 0.0,
            query_ms: 0.0,
            total_ms: 0.0,
        });
        t.on_action(Action::ThresholdUp, &mut cx);
        assert_eq!(t.threshold, Some(0.4));
        t.on_action(Action::ThresholdUp, &mut cx);
        assert_eq!(t.threshold, Some(0.45));
    }
}
