//! `memscope index FILE.jsonl`: embed and upsert, batched.

use super::{HeadlessError, refuse_read_only, vector_cfg};
use crate::config::Config;

pub async fn index(
    cfg: &Config,
    file: &std::path::Path,
    namespace: Option<String>,
    batch: usize,
) -> Result<u64, HeadlessError> {
    vector_cfg(cfg)?; // a usage error before reading the file
    let text_in =
        std::fs::read_to_string(file).map_err(|e| HeadlessError::Usage(format!("{}: {e}", file.display())))?;
    let mut items = Vec::new();
    for (n, line) in text_in.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |m: &str| HeadlessError::Usage(format!("{}:{}: {m}", file.display(), n + 1));
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        let id = v.get("id").and_then(|x| x.as_str()).ok_or_else(|| bad("missing string field `id`"))?;
        let t = v.get("text").and_then(|x| x.as_str()).ok_or_else(|| bad("missing string field `text`"))?;
        let metadata = match v.get("metadata") {
            None | Some(serde_json::Value::Null) => Default::default(),
            Some(serde_json::Value::Object(m)) => m.clone(),
            Some(_) => return Err(bad("`metadata` must be an object")),
        };
        items.push(crate::search::TextItem { id: id.to_string(), text: t.to_string(), metadata });
    }
    let total = items.len();
    refuse_read_only(cfg, "index upserts into the vector tier")?;
    let v = crate::tiers::vector(cfg, crate::store::Access::ReadWrite).await?;
    let embedder = v.embedder()?;
    if let (Some(d), Some(e)) = (v.dimension, embedder.dimension()) {
        crate::embed::check_dimension(e, d)?;
    }
    let (store, ns) = (&v.store, namespace.unwrap_or_else(|| v.namespace.clone()));
    let n = crate::search::from_texts(store.as_ref(), embedder.as_ref(), items, &ns, &v.text_field, batch, |done| {
        eprint!("\rindexed {done}/{total}");
    })
    .await?;
    eprintln!();
    println!("upserted {n} vectors into namespace {ns:?} of {}", store.describe());
    Ok(n)
}
