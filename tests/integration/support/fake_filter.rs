//! Pinecone's metadata filter language, evaluated independently of memscope's implementation
//! (`memscope::filter`), straight from the documentation: a filter is an object whose
//! keys are all required (AND); a key is a metadata field or `$and`/`$or`; a field's condition is
//! a value (shorthand for `$eq`) or an object of operators. Metadata values are strings,
//! numbers, booleans or lists of strings; `$eq`/`$in` on a list match when any element does,
//! `$ne`/`$nin` when none does. `$gt`/`$gte`/`$lt`/`$lte` compare numbers only. A field the
//! record lacks matches `$ne`, `$nin` and `$exists: false`, and nothing else.

use serde_json::{Map, Value};

pub fn matches(filter: &Value, md: &Map<String, Value>) -> Result<bool, String> {
    let obj = filter.as_object().ok_or("a filter is a JSON object")?;
    for (k, cond) in obj {
        let ok = match k.as_str() {
            "$and" => all_of(cond, md)?,
            "$or" => any_of(cond, md)?,
            op if op.starts_with('$') => return Err(format!("unknown top-level operator {op}")),
            field => field_matches(md.get(field), cond)?,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn all_of(list: &Value, md: &Map<String, Value>) -> Result<bool, String> {
    let items = list.as_array().ok_or("$and takes a list")?;
    for f in items {
        if !matches(f, md)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn any_of(list: &Value, md: &Map<String, Value>) -> Result<bool, String> {
    let items = list.as_array().ok_or("$or takes a list")?;
    for f in items {
        if matches(f, md)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn field_matches(value: Option<&Value>, cond: &Value) -> Result<bool, String> {
    let ops = match cond {
        Value::Object(o) => o.clone(),
        plain => {
            let mut o = Map::new();
            o.insert("$eq".into(), plain.clone());
            o
        }
    };
    for (op, arg) in &ops {
        if !one(value, op, arg)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The record's value(s) for a field: a list's elements, or the value itself.
fn elements(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn one(value: Option<&Value>, op: &str, arg: &Value) -> Result<bool, String> {
    let list = |arg: &Value| arg.as_array().cloned().ok_or(format!("{op} takes a list"));
    Ok(match op {
        "$eq" => value.is_some_and(|v| elements(v).iter().any(|e| same(e, arg))),
        "$ne" => !value.is_some_and(|v| elements(v).iter().any(|e| same(e, arg))),
        "$in" => {
            let wanted = list(arg)?;
            value.is_some_and(|v| elements(v).iter().any(|e| wanted.iter().any(|w| same(e, w))))
        }
        "$nin" => {
            let unwanted = list(arg)?;
            !value.is_some_and(|v| elements(v).iter().any(|e| unwanted.iter().any(|w| same(e, w))))
        }
        "$exists" => value.is_some() == arg.as_bool().ok_or("$exists takes true or false")?,
        "$gt" | "$gte" | "$lt" | "$lte" => {
            let bound = arg.as_f64().ok_or(format!("{op} takes a number"))?;
            match value.and_then(Value::as_f64) {
                None => false,
                Some(x) => match op {
                    "$gt" => x > bound,
                    "$gte" => x >= bound,
                    "$lt" => x < bound,
                    _ => x <= bound,
                },
            }
        }
        other => return Err(format!("unknown operator {other}")),
    })
}
