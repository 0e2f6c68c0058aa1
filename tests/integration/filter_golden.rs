//! Golden cases for Pinecone's metadata filter language, from the examples in Pinecone's
//! documentation and OpenAPI files (`../shared/reference/pinecone-api-2025-10`: the query
//! example `{"genre": {"$in": ["comedy", "documentary", "drama"]}, "year": {"$eq": 2019}}` over
//! records like `{"genre": "documentary", "year": 2019}`). Each expectation is written here by
//! hand and checked against memscope's implementation and against the independent one the
//! loopback Pinecone uses, so neither is checked against itself.

use serde_json::{Map, Value, json};

fn md(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

pub(crate) fn records() -> Vec<(&'static str, Map<String, Value>)> {
    vec![
        ("doc-2019", md(json!({"genre": "documentary", "year": 2019}))),
        ("com-2019", md(json!({"genre": "comedy", "year": 2019}))),
        ("drama-2020", md(json!({"genre": "drama", "year": 2020}))),
        ("drama-2021", md(json!({"genre": "drama", "year": 2021.0}))),
        ("tagged", md(json!({"genre": ["comedy", "documentary"], "year": 2018}))),
        ("no-genre", md(json!({"year": 2022, "watched": true}))),
    ]
}

/// (filter, the ids it admits, in `records()` order).
pub(crate) fn golden() -> Vec<(Value, Vec<&'static str>)> {
    vec![
        // The OpenAPI query example.
        (
            json!({"genre": {"$in": ["comedy", "documentary", "drama"]}, "year": {"$eq": 2019}}),
            vec!["doc-2019", "com-2019"],
        ),
        // Shorthand equality; several keys are all required.
        (json!({"genre": "documentary", "year": 2019}), vec!["doc-2019"]),
        (json!({"genre": {"$eq": "documentary"}}), vec!["doc-2019", "tagged"]),
        // Lists in metadata: $eq / $in match when any element does; $ne / $nin when none does.
        (json!({"genre": "comedy"}), vec!["com-2019", "tagged"]),
        (json!({"genre": {"$ne": "comedy"}}), vec!["doc-2019", "drama-2020", "drama-2021", "no-genre"]),
        (json!({"genre": {"$nin": ["comedy", "drama"]}}), vec!["doc-2019", "no-genre"]),
        // Numbers: integers and floats compare as numbers.
        (json!({"year": {"$gt": 2019}}), vec!["drama-2020", "drama-2021", "no-genre"]),
        (json!({"year": {"$gte": 2020, "$lt": 2022}}), vec!["drama-2020", "drama-2021"]),
        (json!({"year": {"$lte": 2018}}), vec!["tagged"]),
        (json!({"year": 2021}), vec!["drama-2021"]),
        // $exists, booleans.
        (json!({"genre": {"$exists": false}}), vec!["no-genre"]),
        (json!({"watched": true}), vec!["no-genre"]),
        // $and / $or as documented.
        (json!({"$and": [{"genre": {"$eq": "drama"}}, {"year": {"$gte": 2020}}]}), vec!["drama-2020", "drama-2021"]),
        (
            json!({"$or": [{"genre": {"$eq": "drama"}}, {"year": {"$gte": 2022}}]}),
            vec!["drama-2020", "drama-2021", "no-genre"],
        ),
        (
            json!({"$or": [{"$and": [{"genre": "comedy"}, {"year": 2019}]}, {"year": {"$lt": 2019}}]}),
            vec!["com-2019", "tagged"],
        ),
    ]
}

#[test]
fn memscopes_filter_language_gives_the_documented_answers() {
    for (f, want) in golden() {
        let parsed = memscope::filter::from_json(&f).unwrap_or_else(|e| panic!("{f}: {e:?}"));
        let got: Vec<&str> =
            records().into_iter().filter(|(_, m)| memscope::filter::matches(&parsed, m)).map(|(id, _)| id).collect();
        assert_eq!(got, want, "memscope on {f}");
    }
}

#[test]
fn the_loopback_pinecones_filter_gives_the_documented_answers() {
    for (f, want) in golden() {
        let got: Vec<&str> = records()
            .into_iter()
            .filter(|(_, m)| crate::support::fake_filter::matches(&f, m).unwrap_or_else(|e| panic!("{f}: {e}")))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(got, want, "the loopback Pinecone on {f}");
    }
}

#[test]
fn unknown_operators_are_errors_in_both() {
    let f = json!({"year": {"$gtx": 1}});
    assert!(memscope::filter::from_json(&f).is_err());
    assert!(crate::support::fake_filter::matches(&f, &records()[0].1).is_err());
}
