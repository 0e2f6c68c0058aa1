//! `memscope search TEXT`: embed the text and query the vector tier.

use super::{HeadlessError, vector_cfg};
use crate::config::Config;
use crate::text;
use std::io::Write;

/// `memscope search TEXT [--top-k N] [--namespace NS] [--filter JSON] [--json] [--recall]`.
pub async fn search(
    cfg: &Config,
    text: &str,
    top_k: u32,
    namespace: Option<String>,
    filter: Option<String>,
    json: bool,
    recall: bool,
) -> Result<(), HeadlessError> {
    let vc = vector_cfg(cfg)?;
    let filter = match filter {
        Some(f) => Some(
            crate::filter::parse(&f)
                .map(|_| serde_json::from_str(&f).unwrap_or_default())
                .map_err(|e| HeadlessError::Usage(format!("--filter {e}")))?,
        ),
        None => None,
    };
    let v = crate::tiers::vector(cfg, crate::store::Access::ReadOnly).await?;
    let params = crate::search::SearchParams {
        text: text.to_string(),
        top_k,
        namespace: namespace.unwrap_or_else(|| vc.namespace.clone()),
        filter,
        include_values: false,
    };
    let out = crate::search::search(v.store.as_ref(), v.query_embedder(), v.dimension, &params).await?;
    // recall@k: the query's vector again (the embedder's cache keeps it), scored exactly.
    let recall = if recall {
        let ids: Vec<String> = out.result.matches.iter().map(|m| m.id.clone()).collect();
        Some(crate::search::recall_of(&*v.store, v.query_embedder(), &params, &ids, crate::backend::RECALL_CAP).await?)
    } else {
        None
    };
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    if json {
        let v = serde_json::json!({
            "query": text,
            "namespace": out.result.namespace,
            "matches": out.result.matches.iter().enumerate().map(|(i, m)| serde_json::json!({
                "rank": i + 1, "id": m.id, "score": m.score, "metadata": m.metadata,
            })).collect::<Vec<_>>(),
            "read_units": out.result.read_units,
            "embed_ms": out.embed_ms, "query_ms": out.query_ms, "total_ms": out.total_ms,
            "recall": recall.as_ref().map(|r| serde_json::json!({
                "k": r.k, "found": r.found, "scanned": r.scanned, "measured": !r.capped,
                "recall": (!r.capped).then(|| r.found as f64 / r.k.max(1) as f64),
            })),
        });
        writeln!(o, "{}", text::json_safe(v.to_string()))?;
    } else {
        for (i, m) in out.result.matches.iter().enumerate() {
            let t = m.metadata.as_ref().and_then(|md| md.get(&vc.text_field)).and_then(|v| v.as_str()).unwrap_or("");
            writeln!(
                o,
                "{:>3}  {:.4}  {}  {}",
                i + 1,
                m.score,
                text::sanitize_str(&m.id),
                text::truncate(&text::sanitize_str(t), 80)
            )?;
        }
        writeln!(
            o,
            "{} matches · embed {:.1} ms · query {:.1} ms · total {:.1} ms{}",
            out.result.matches.len(),
            out.embed_ms,
            out.query_ms,
            out.total_ms,
            out.result.read_units.map(|r| format!(" · {r} read units")).unwrap_or_default()
        )?;
        if let Some(r) = &recall {
            writeln!(o, "{}", r.said())?;
        }
    }
    Ok(())
}
