//! The demo's vector records and their precomputed embeddings.

/// Embeddings of the demo's texts (all-MiniLM-L6-v2), computed once and shipped, so that the
/// demo starts in a second on a fresh machine. Layout, little-endian: u32 count, u32 dimension,
/// then per text: u64 FNV-1a of the text, `dimension` f32. Regenerate after editing the
/// fixture: `memscope demo --write-embeddings assets/demo_embeddings.bin` (a test says when).
pub const PRECOMPUTED: &[u8] = include_bytes!("../../assets/demo_embeddings.bin");

pub(super) fn text_key(text: &str) -> u64 {
    crate::memory::stable_hash(&[text])
}

/// The shipped embeddings, by text hash.
pub fn precomputed() -> std::collections::HashMap<u64, Vec<f32>> {
    let mut out = std::collections::HashMap::new();
    let u32_at = |b: &[u8], i: usize| b.get(i..i + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    let (Some(n), Some(dim)) = (u32_at(PRECOMPUTED, 0), u32_at(PRECOMPUTED, 4)) else { return out };
    let (n, dim) = (n as usize, dim as usize);
    let rec = 8 + dim * 4;
    for k in 0..n {
        let Some(r) = PRECOMPUTED.get(8 + k * rec..8 + (k + 1) * rec) else { break };
        let mut h = [0u8; 8];
        h.copy_from_slice(&r[..8]);
        let v = r[8..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        out.insert(u64::from_le_bytes(h), v);
    }
    out
}

/// Embed every distinct text of the demo with `embedder` and write them in the layout of
/// [`PRECOMPUTED`].
pub async fn write_precomputed(
    path: &std::path::Path,
    items: &[crate::search::TextItem],
    embedder: &dyn crate::embed::Embedder,
) -> Result<usize, crate::error::StoreError> {
    let mut texts: Vec<String> = items.iter().map(|i| i.text.clone()).collect();
    texts.sort();
    texts.dedup();
    let mut out = Vec::new();
    let mut dim = 0u32;
    let mut body = Vec::new();
    for chunk in texts.chunks(32) {
        for (t, v) in chunk.iter().zip(embedder.embed(chunk, crate::embed::InputType::Passage).await?) {
            dim = v.len() as u32;
            body.extend_from_slice(&text_key(t).to_le_bytes());
            for x in v {
                body.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
    out.extend_from_slice(&(texts.len() as u32).to_le_bytes());
    out.extend_from_slice(&dim.to_le_bytes());
    out.extend_from_slice(&body);
    std::fs::write(path, out).map_err(|e| crate::error::StoreError::Other(format!("{}: {e}", path.display())))?;
    Ok(texts.len())
}

/// Write the demo's vector index at `path` from the shipped embeddings; texts they lack (a
/// fixture edited without regenerating them) are embedded with the embedder `load` gives,
/// loaded only then. Returns (records written, texts embedded now).
pub async fn seed_vectors(
    path: &str,
    items: Vec<crate::search::TextItem>,
    load: impl FnOnce() -> Result<Box<dyn crate::embed::Embedder>, crate::error::StoreError>,
) -> Result<(u64, usize), crate::error::StoreError> {
    use crate::domain::Metric;
    use crate::store::VectorStore;
    use crate::store::local_vectors::LocalVectors;
    let mut known = precomputed();
    let mut missing: Vec<String> =
        items.iter().filter(|i| !known.contains_key(&text_key(&i.text))).map(|i| i.text.clone()).collect();
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        let embedder = load()?;
        for chunk in missing.chunks(64) {
            for (t, v) in chunk.iter().zip(embedder.embed(chunk, crate::embed::InputType::Passage).await?) {
                known.insert(text_key(t), v);
            }
        }
    }
    let p = path.to_string();
    let store = tokio::task::spawn_blocking(move || LocalVectors::open(&p, Metric::Cosine))
        .await
        .map_err(|e| crate::error::StoreError::Other(e.to_string()))??;
    let mut written = 0;
    for chunk in items.chunks(1000) {
        let records =
            chunk.iter().filter_map(|i| known.get(&text_key(&i.text)).map(|v| i.record(v.clone(), "text"))).collect();
        written += store.upsert(records, "").await?;
    }
    Ok((written, missing.len()))
}
