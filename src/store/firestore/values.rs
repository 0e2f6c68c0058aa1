//! Firestore's typed values to and from memscope's, and a conversation filter as a query filter.

use super::*;

pub(super) fn from_pb(v: &pb::Value, root: &str) -> FsValue {
    use pb::value::ValueType as V;
    match &v.value_type {
        None | Some(V::NullValue(_)) => FsValue::Null,
        Some(V::BooleanValue(b)) => FsValue::Bool(*b),
        Some(V::IntegerValue(i)) => FsValue::Int(*i),
        Some(V::DoubleValue(d)) => FsValue::Double(*d),
        Some(V::TimestampValue(t)) => FsValue::Timestamp(Ts { secs: t.seconds, nanos: t.nanos.max(0) as u32 }),
        Some(V::StringValue(s)) => FsValue::String(s.clone()),
        Some(V::BytesValue(b)) => FsValue::Bytes(b.to_vec()),
        Some(V::ReferenceValue(r)) => {
            FsValue::Reference(r.strip_prefix(root).unwrap_or(r).trim_start_matches('/').to_string())
        }
        Some(V::GeoPointValue(g)) => FsValue::GeoPoint { lat: g.latitude, lng: g.longitude },
        Some(V::ArrayValue(a)) => FsValue::Array(a.values.iter().map(|x| from_pb(x, root)).collect()),
        Some(V::MapValue(m)) => FsValue::Map(sorted_fields(&m.fields, root)),
        #[allow(unreachable_patterns)]
        Some(_) => FsValue::Null,
    }
}

pub(super) fn sorted_fields(m: &std::collections::HashMap<String, pb::Value>, root: &str) -> Vec<(String, FsValue)> {
    let mut v: Vec<(String, FsValue)> = m.iter().map(|(k, x)| (k.clone(), from_pb(x, root))).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

pub(super) fn to_pb(v: &FsValue, root: &str) -> pb::Value {
    use pb::value::ValueType as V;
    let t = match v {
        FsValue::Null => V::NullValue(0),
        FsValue::Bool(b) => V::BooleanValue(*b),
        FsValue::Int(i) => V::IntegerValue(*i),
        FsValue::Double(d) => V::DoubleValue(*d),
        FsValue::Timestamp(t) => {
            V::TimestampValue(firestore::gcloud_sdk::prost_types::Timestamp { seconds: t.secs, nanos: t.nanos as i32 })
        }
        FsValue::String(s) => V::StringValue(s.clone()),
        FsValue::Bytes(b) => V::BytesValue(b.clone()),
        FsValue::Reference(r) => V::ReferenceValue(format!("{root}/{r}")),
        FsValue::GeoPoint { lat, lng } => {
            V::GeoPointValue(firestore::gcloud_sdk::google::r#type::LatLng { latitude: *lat, longitude: *lng })
        }
        FsValue::Array(a) => V::ArrayValue(pb::ArrayValue { values: a.iter().map(|x| to_pb(x, root)).collect() }),
        FsValue::Map(m) => {
            V::MapValue(pb::MapValue { fields: m.iter().map(|(k, x)| (k.clone(), to_pb(x, root))).collect() })
        }
    };
    pb::Value { value_type: Some(t) }
}

/// The Firestore filters of a conversation filter (prefixes as ranges on the field).
pub(super) fn conv_filters(
    q: &firestore::select_filter_builder::FirestoreQueryFilterBuilder,
    f: &ConvFilter,
    root: &str,
) -> Vec<Option<FirestoreQueryFilter>> {
    let reference = |p: String| FirestoreValue::from(to_pb(&FsValue::Reference(p), root));
    match f {
        // A substring is not a Firestore query: the conversation readers filter the pages
        // (`layout::TitleSearch`), so it never reaches the store through them.
        ConvFilter::All | ConvFilter::TitleContains(_) => vec![],
        ConvFilter::User(u) => vec![q.field("user_id").eq(u.clone())],
        ConvFilter::Agent(a) => vec![q.field("agent_id").eq(a.clone())],
        ConvFilter::TitlePrefix(p) => {
            vec![q.field("title").greater_than_or_equal(p.clone()), q.field("title").less_than(format!("{p}\u{f8ff}"))]
        }
        ConvFilter::IdPrefix(p) => vec![
            q.field("__name__").greater_than_or_equal(reference(format!("conversations/{p}"))),
            q.field("__name__").less_than(reference(format!("conversations/{p}\u{f8ff}"))),
        ],
    }
}
