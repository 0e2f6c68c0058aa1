//! BERT's encoder, as much of it as a sentence embedder needs (all-MiniLM-L6-v2: 6 layers, 384
//! wide, 12 heads): token, position and type embeddings, then self-attention and a GELU
//! feed-forward per layer, each followed by a residual LayerNorm. Written here on candle's
//! tensors rather than taken from `candle-transformers`, whose hundred other models were the
//! longest step of every build.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder, embedding, layer_norm, linear};

/// The parts of a BERT `config.json` the encoder reads.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_eps() -> f64 {
    1e-12
}

fn default_act() -> String {
    "gelu".into()
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    out: Linear,
    out_norm: LayerNorm,
}

pub struct Bert {
    words: Embedding,
    positions: Embedding,
    types: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
}

impl Bert {
    /// The weights as Hugging Face names them (`embeddings.*`, `encoder.layer.N.*`), with or
    /// without a `bert.` prefix.
    pub fn load(vb: VarBuilder, c: &BertConfig) -> Result<Bert> {
        if c.hidden_act != "gelu" {
            candle_core::bail!("hidden_act {:?}: this encoder implements \"gelu\" only", c.hidden_act);
        }
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") { vb } else { vb.pp("bert") };
        let (d, eps) = (c.hidden_size, c.layer_norm_eps);
        let e = vb.pp("embeddings");
        let mut layers = Vec::with_capacity(c.num_hidden_layers);
        for i in 0..c.num_hidden_layers {
            let l = vb.pp(format!("encoder.layer.{i}"));
            let a = l.pp("attention");
            layers.push(Layer {
                query: linear(d, d, a.pp("self.query"))?,
                key: linear(d, d, a.pp("self.key"))?,
                value: linear(d, d, a.pp("self.value"))?,
                attention_out: linear(d, d, a.pp("output.dense"))?,
                attention_norm: layer_norm(d, eps, a.pp("output.LayerNorm"))?,
                intermediate: linear(d, c.intermediate_size, l.pp("intermediate.dense"))?,
                out: linear(c.intermediate_size, d, l.pp("output.dense"))?,
                out_norm: layer_norm(d, eps, l.pp("output.LayerNorm"))?,
            });
        }
        Ok(Bert {
            words: embedding(c.vocab_size, d, e.pp("word_embeddings"))?,
            positions: embedding(c.max_position_embeddings, d, e.pp("position_embeddings"))?,
            types: embedding(c.type_vocab_size, d, e.pp("token_type_embeddings"))?,
            norm: layer_norm(d, eps, e.pp("LayerNorm"))?,
            layers,
            heads: c.num_attention_heads,
        })
    }

    /// The last hidden states, `(batch, tokens, hidden)`, of token ids `(batch, tokens)` whose
    /// `mask` is 1 for a token and 0 for padding (padding is attended by nothing).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (batch, n) = ids.dims2()?;
        let positions =
            Tensor::arange(0u32, n as u32, ids.device())?.unsqueeze(0)?.broadcast_as((batch, n))?.contiguous()?;
        let types = ids.zeros_like()?;
        let h =
            self.words.forward(ids)?.add(&self.positions.forward(&positions)?)?.add(&self.types.forward(&types)?)?;
        let mut h = self.norm.forward(&h)?;
        // Added to the attention scores: 0 for a token, a large negative number for padding.
        let bias = mask.to_dtype(DType::F32)?.affine(1.0, -1.0)?.affine(1e4, 0.0)?.unsqueeze(1)?.unsqueeze(1)?;
        for l in &self.layers {
            h = l.forward(&h, &bias, self.heads)?;
        }
        Ok(h)
    }
}

impl Layer {
    fn forward(&self, h: &Tensor, bias: &Tensor, heads: usize) -> Result<Tensor> {
        let (batch, n, d) = h.dims3()?;
        let hd = d / heads;
        // (batch, heads, tokens, head size)
        let split = |x: Tensor| x.reshape((batch, n, heads, hd))?.transpose(1, 2)?.contiguous();
        let q = split(self.query.forward(h)?)?;
        let k = split(self.key.forward(h)?)?;
        let v = split(self.value.forward(h)?)?;
        let scores = q.matmul(&k.t()?.contiguous()?)?.affine(1.0 / (hd as f64).sqrt(), 0.0)?.broadcast_add(bias)?;
        let p = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = p.matmul(&v)?.transpose(1, 2)?.contiguous()?.reshape((batch, n, d))?;
        let a = self.attention_norm.forward(&self.attention_out.forward(&context)?.add(h)?)?;
        let i = self.intermediate.forward(&a)?.gelu_erf()?;
        self.out_norm.forward(&self.out.forward(&i)?.add(&a)?)
    }
}
