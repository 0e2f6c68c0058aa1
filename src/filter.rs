//! Pinecone's metadata filter language, parsed, validated and evaluated.
//!
//! `{"genre": "drama", "year": {"$gte": 2020}, "$or": [{"tags": {"$in": ["a", "b"]}}, …]}`:
//! several keys mean AND; a bare value means `$eq`; operators `$eq $ne $gt $gte $lt $lte $in
//! $nin $exists $and $or`. Metadata values are strings, numbers, booleans or lists of strings;
//! on a list-valued field `$eq`/`$in` match when any element matches and `$ne`/`$nin` only when
//! none does. As in MongoDB, on which the language is based, a field that is absent matches
//! `$ne` and `$nin` and nothing else but `$exists: false`.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Num(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Eq(Scalar),
    Ne(Scalar),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    In(Vec<Scalar>),
    Nin(Vec<Scalar>),
    Exists(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Field(String, Vec<Cond>),
}

/// A filter error with its position in the text (1-based line and column) when known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct FilterError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

fn scalar(v: &Value) -> Result<Scalar, String> {
    match v {
        Value::String(s) => Ok(Scalar::Str(s.clone())),
        Value::Number(n) => n.as_f64().map(Scalar::Num).ok_or_else(|| "number out of range".into()),
        Value::Bool(b) => Ok(Scalar::Bool(*b)),
        Value::Null => Err("null is not a metadata value (remove the key instead)".into()),
        Value::Array(_) => Err("a list needs $in or $nin".into()),
        Value::Object(_) => Err("expected a value or an operator object".into()),
    }
}

fn number(op: &str, v: &Value) -> Result<f64, String> {
    v.as_f64().ok_or_else(|| format!("{op} needs a number, got {v}"))
}

fn list(op: &str, v: &Value) -> Result<Vec<Scalar>, String> {
    let a = v.as_array().ok_or_else(|| format!("{op} needs a list, got {v}"))?;
    a.iter().map(scalar).collect()
}

/// Build a filter from JSON; errors name the offending key.
pub fn from_json(v: &Value) -> Result<Filter, (String, String)> {
    let obj = v.as_object().ok_or_else(|| (String::new(), "a filter is a JSON object".to_string()))?;
    let mut parts = Vec::new();
    for (k, v) in obj {
        match k.as_str() {
            "$and" | "$or" => {
                let arr = v
                    .as_array()
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| (k.clone(), format!("{k} needs a non-empty list of filters")))?;
                let subs = arr.iter().map(from_json).collect::<Result<Vec<_>, _>>()?;
                parts.push(if k == "$and" { Filter::And(subs) } else { Filter::Or(subs) });
            }
            op if op.starts_with('$') => return Err((k.clone(), format!("unknown operator {op} at the top level"))),
            field => {
                let conds = match v {
                    Value::Object(ops) => {
                        if ops.is_empty() {
                            return Err((k.clone(), format!("`{field}`: empty operator object")));
                        }
                        ops.iter()
                            .map(|(op, x)| {
                                let bad = |m: String| (op.clone(), format!("`{field}`: {m}"));
                                Ok(match op.as_str() {
                                    "$eq" => Cond::Eq(scalar(x).map_err(bad)?),
                                    "$ne" => Cond::Ne(scalar(x).map_err(bad)?),
                                    "$gt" => Cond::Gt(number(op, x).map_err(bad)?),
                                    "$gte" => Cond::Gte(number(op, x).map_err(bad)?),
                                    "$lt" => Cond::Lt(number(op, x).map_err(bad)?),
                                    "$lte" => Cond::Lte(number(op, x).map_err(bad)?),
                                    "$in" => Cond::In(list(op, x).map_err(bad)?),
                                    "$nin" => Cond::Nin(list(op, x).map_err(bad)?),
                                    "$exists" => Cond::Exists(
                                        x.as_bool()
                                            .ok_or_else(|| bad(format!("$exists needs true or false, got {x}")))?,
                                    ),
                                    other => return Err(bad(format!("unknown operator {other}"))),
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()?
                    }
                    other => vec![Cond::Eq(scalar(other).map_err(|m| (k.clone(), format!("`{field}`: {m}")))?)],
                };
                parts.push(Filter::Field(field.to_string(), conds));
            }
        }
    }
    Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::And(parts) })
}

/// Parse filter text as typed in the UI; the error carries a position to point at.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    let v: Value = serde_json::from_str(text).map_err(|e| FilterError {
        message: e.to_string().split(" at line").next().unwrap_or_default().to_string(),
        line: e.line().max(1),
        column: e.column().max(1),
    })?;
    from_json(&v).map_err(|(key, message)| {
        // Point at the offending key where it appears in the text.
        let needle = format!("\"{key}\"");
        let off = if key.is_empty() { 0 } else { text.find(&needle).unwrap_or(0) };
        let before = &text[..off];
        FilterError {
            message,
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1,
        }
    })
}

fn eq_scalar(v: &Value, s: &Scalar) -> bool {
    match (v, s) {
        (Value::String(a), Scalar::Str(b)) => a == b,
        (Value::Number(a), Scalar::Num(b)) => a.as_f64() == Some(*b),
        (Value::Bool(a), Scalar::Bool(b)) => a == b,
        _ => false,
    }
}

/// Does any element (or the value itself) equal `s`?
fn any_eq(v: &Value, s: &Scalar) -> bool {
    match v {
        Value::Array(items) => items.iter().any(|x| eq_scalar(x, s)),
        other => eq_scalar(other, s),
    }
}

fn cond(c: &Cond, v: Option<&Value>) -> bool {
    match (c, v) {
        (Cond::Exists(want), v) => v.is_some() == *want,
        (Cond::Ne(_) | Cond::Nin(_), None) => true,
        (_, None) => false,
        (Cond::Eq(s), Some(v)) => any_eq(v, s),
        (Cond::Ne(s), Some(v)) => !any_eq(v, s),
        (Cond::In(list), Some(v)) => list.iter().any(|s| any_eq(v, s)),
        (Cond::Nin(list), Some(v)) => !list.iter().any(|s| any_eq(v, s)),
        (Cond::Gt(n), Some(v)) => v.as_f64().is_some_and(|x| x > *n),
        (Cond::Gte(n), Some(v)) => v.as_f64().is_some_and(|x| x >= *n),
        (Cond::Lt(n), Some(v)) => v.as_f64().is_some_and(|x| x < *n),
        (Cond::Lte(n), Some(v)) => v.as_f64().is_some_and(|x| x <= *n),
    }
}

/// Evaluate against one record's metadata.
pub fn matches(f: &Filter, meta: &Map<String, Value>) -> bool {
    match f {
        Filter::And(fs) => fs.iter().all(|f| matches(f, meta)),
        Filter::Or(fs) => fs.iter().any(|f| matches(f, meta)),
        Filter::Field(k, conds) => conds.iter().all(|c| cond(c, meta.get(k))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn check(filter: Value, meta: Value) -> bool {
        matches(&from_json(&filter).unwrap(), &m(meta))
    }

    #[test]
    fn documented_semantics_table() {
        let doc = json!({"genre": "drama", "year": 2020, "rating": 4.5, "tags": ["a", "b"], "live": true});
        let cases: &[(Value, bool)] = &[
            (json!({"genre": "drama"}), true),
            (json!({"genre": {"$eq": "comedy"}}), false),
            (json!({"genre": {"$ne": "comedy"}}), true),
            (json!({"year": {"$gt": 2019}}), true),
            (json!({"year": {"$gte": 2020, "$lt": 2021}}), true),
            (json!({"year": {"$lte": 2019}}), false),
            (json!({"rating": {"$in": [4.5, 5]}}), true),
            (json!({"genre": {"$nin": ["drama", "horror"]}}), false),
            (json!({"tags": "a"}), true),
            (json!({"tags": {"$eq": "c"}}), false),
            (json!({"tags": {"$in": ["z", "b"]}}), true),
            (json!({"tags": {"$ne": "a"}}), false),
            (json!({"tags": {"$ne": "c"}}), true),
            (json!({"tags": {"$nin": ["c", "d"]}}), true),
            (json!({"tags": {"$nin": ["b"]}}), false),
            (json!({"live": true}), true),
            (json!({"missing": {"$exists": false}}), true),
            (json!({"genre": {"$exists": true}}), true),
            (json!({"missing": {"$ne": "x"}}), true),
            (json!({"missing": {"$nin": ["x"]}}), true),
            (json!({"missing": "x"}), false),
            (json!({"missing": {"$gt": 1}}), false),
            (json!({"genre": {"$gt": 1}}), false),
            (json!({"genre": "drama", "year": 2021}), false),
            (json!({"$or": [{"genre": "comedy"}, {"year": 2020}]}), true),
            (json!({"$and": [{"genre": "drama"}, {"$or": [{"live": false}, {"tags": "b"}]}]}), true),
            (json!({"year": "2020"}), false),
        ];
        for (f, want) in cases {
            assert_eq!(check(f.clone(), doc.clone()), *want, "{f}");
        }
    }

    #[test]
    fn invalid_filters_point_at_the_key() {
        let e = parse("{\n  \"year\": {\"$gtx\": 1}\n}").unwrap_err();
        assert_eq!((e.line, e.column), (2, 12));
        assert!(e.message.contains("unknown operator $gtx"), "{e}");
        let e = parse("{\"year\": {\"$gt\": \"x\"}}").unwrap_err();
        assert!(e.message.contains("$gt needs a number"), "{e}");
        let e = parse("{\"tags\": [\"a\"]}").unwrap_err();
        assert!(e.message.contains("needs $in"), "{e}");
        let e = parse("{\"$or\": []}").unwrap_err();
        assert!(e.message.contains("non-empty"), "{e}");
        let e = parse("{\"a\": 1,}").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.column >= 8, "{e}");
        assert!(parse("[1]").is_err());
        assert!(parse("{\"x\": null}").is_err());
    }

    /// Property test against a reference evaluator written independently and naively: random
    /// filters over random metadata must agree.
    #[test]
    fn agrees_with_a_reference_evaluator() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let vals = ["a", "b", "c"];
        for _ in 0..3000 {
            let mut meta = Map::new();
            if rnd(3) > 0 {
                meta.insert("s".into(), json!(vals[rnd(3) as usize]));
            }
            if rnd(3) > 0 {
                meta.insert("n".into(), json!(rnd(5)));
            }
            if rnd(3) > 0 {
                let l: Vec<&str> = vals.iter().filter(|_| rnd(2) == 0).copied().collect();
                meta.insert("l".into(), json!(l));
            }
            let field = ["s", "n", "l"][rnd(3) as usize];
            let v = if field == "n" { json!(rnd(5)) } else { json!(vals[rnd(3) as usize]) };
            let op = ["$eq", "$ne", "$in", "$nin", "$gt", "$lte", "$exists"][rnd(7) as usize];
            let arg = match op {
                "$in" | "$nin" => json!([v.clone(), json!(vals[rnd(3) as usize])]),
                "$gt" | "$lte" => json!(rnd(5)),
                "$exists" => json!(rnd(2) == 0),
                _ => v.clone(),
            };
            let f = json!({ field: { op: arg } });
            // Reference: spelled out case by case.
            let present = meta.get(field);
            let elems: Vec<Value> = match present {
                Some(Value::Array(a)) => a.clone(),
                Some(x) => vec![x.clone()],
                None => vec![],
            };
            let want = match op {
                "$exists" => present.is_some() == arg.as_bool().unwrap(),
                "$eq" => elems.contains(&arg),
                "$ne" => !elems.contains(&arg),
                "$in" => arg.as_array().unwrap().iter().any(|x| elems.contains(x)),
                "$nin" => !arg.as_array().unwrap().iter().any(|x| elems.contains(x)),
                "$gt" => present.and_then(Value::as_f64).is_some_and(|x| x > arg.as_f64().unwrap()),
                "$lte" => present.and_then(Value::as_f64).is_some_and(|x| x <= arg.as_f64().unwrap()),
                _ => unreachable!(),
            };
            assert_eq!(matches(&from_json(&f).unwrap(), &meta), want, "{f} on {meta:?}");
        }
    }
}
