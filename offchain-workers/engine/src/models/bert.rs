//! BERT encoder (the architecture of all-MiniLM-L6-v2), written against candle's tensors. The
//! weight names follow Hugging Face's `BertModel` without a prefix, as sentence-transformers
//! saves them.

use super::ops::{attention, packed_attention, LinearBias, LinearGelu};
use candle_core::{DType, Device, IndexOp, Module, Tensor, D};
use candle_nn::{embedding, layer_norm, linear, Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

/// The fields of `config.json` the encoder needs.
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
	pub vocab_size: usize,
	pub hidden_size: usize,
	pub num_hidden_layers: usize,
	pub num_attention_heads: usize,
	pub intermediate_size: usize,
	pub max_position_embeddings: usize,
	pub type_vocab_size: usize,
	pub layer_norm_eps: f64,
	#[serde(default = "default_act")]
	pub hidden_act: String,
	/// `bert` for the models this engine runs (absent in some hand-written configs).
	#[serde(default)]
	pub model_type: Option<String>,
	/// Class names of a classifier, by class id as a decimal string (Hugging Face's `id2label`).
	#[serde(default)]
	pub id2label: Option<std::collections::BTreeMap<String, String>>,
}

impl crate::loader::ModelConfig for Config {
	fn validate(&self) -> Result<(), String> {
		if let Some(t) = self.model_type.as_deref().filter(|t| *t != "bert") {
			return Err(format!("config is for a `{t}` model, not BERT"));
		}
		if self.hidden_size == 0
			|| self.num_attention_heads == 0
			|| !self.hidden_size.is_multiple_of(self.num_attention_heads)
		{
			return Err(format!(
				"hidden_size {} is not a positive multiple of num_attention_heads {}",
				self.hidden_size, self.num_attention_heads
			));
		}
		if self.num_hidden_layers == 0 || self.vocab_size == 0 || self.max_position_embeddings == 0
		{
			return Err("a BERT needs layers, a vocabulary and positions".into());
		}
		if self.hidden_act != "gelu" {
			return Err(format!("activation `{}` is not supported (gelu is)", self.hidden_act));
		}
		Ok(())
	}
}

fn default_act() -> String {
	"gelu".into()
}

struct Embeddings {
	word: Embedding,
	position: Embedding,
	token_type: Embedding,
	norm: LayerNorm,
}

impl Embeddings {
	fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
		Ok(Self {
			word: embedding(cfg.vocab_size, cfg.hidden_size, vb.pp("word_embeddings"))?,
			position: embedding(
				cfg.max_position_embeddings,
				cfg.hidden_size,
				vb.pp("position_embeddings"),
			)?,
			token_type: embedding(
				cfg.type_vocab_size,
				cfg.hidden_size,
				vb.pp("token_type_embeddings"),
			)?,
			norm: layer_norm(cfg.hidden_size, cfg.layer_norm_eps, vb.pp("LayerNorm"))?,
		})
	}

	fn forward(&self, ids: &Tensor, types: &Tensor) -> candle_core::Result<Tensor> {
		let (_, len) = ids.dims2()?;
		let positions = Tensor::arange(0u32, len as u32, ids.device())?;
		self.embed(ids, types, &positions)
	}

	/// `ids`, `types`: `[1, tokens]` of inputs packed one after another; `positions`: each
	/// token's position within its own input, `[tokens]`.
	fn embed(
		&self,
		ids: &Tensor,
		types: &Tensor,
		positions: &Tensor,
	) -> candle_core::Result<Tensor> {
		let x = self.word.forward(ids)?.add(&self.token_type.forward(types)?)?;
		let x = x.broadcast_add(&self.position.forward(positions)?)?;
		self.norm.forward(&x)
	}
}

struct Layer {
	/// Query, key and value projections as one `[3 · hidden, hidden]` matrix: one GEMM.
	qkv: LinearBias,
	attention_out: LinearBias,
	attention_norm: LayerNorm,
	intermediate: LinearGelu,
	out: LinearBias,
	out_norm: LayerNorm,
	heads: usize,
	head_dim: usize,
}

impl Layer {
	fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
		let h = cfg.hidden_size;
		let attention = vb.pp("attention");
		let this = attention.pp("self");
		let (q, k, v) = (
			linear(h, h, this.pp("query"))?,
			linear(h, h, this.pp("key"))?,
			linear(h, h, this.pp("value"))?,
		);
		let weight = Tensor::cat(&[q.weight(), k.weight(), v.weight()], 0)?;
		let bias = match (q.bias(), k.bias(), v.bias()) {
			(Some(a), Some(b), Some(c)) => Some(Tensor::cat(&[a, b, c], 0)?),
			_ => candle_core::bail!("BERT attention projections have biases"),
		};
		let intermediate = linear(h, cfg.intermediate_size, vb.pp("intermediate").pp("dense"))?;
		Ok(Self {
			qkv: LinearBias::new(Linear::new(weight, bias))?,
			attention_out: LinearBias::new(linear(h, h, attention.pp("output").pp("dense"))?)?,
			attention_norm: layer_norm(
				h,
				cfg.layer_norm_eps,
				attention.pp("output").pp("LayerNorm"),
			)?,
			intermediate: LinearGelu::new(intermediate)?,
			out: LinearBias::new(linear(cfg.intermediate_size, h, vb.pp("output").pp("dense"))?)?,
			out_norm: layer_norm(h, cfg.layer_norm_eps, vb.pp("output").pp("LayerNorm"))?,
			heads: cfg.num_attention_heads,
			head_dim: h / cfg.num_attention_heads.max(1),
		})
	}

	/// `x`: `[batch, len, hidden]`; `mask`: additive, `[batch, len]`.
	fn forward(&self, x: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
		x.dims3()?;
		let context = attention(&self.qkv.forward(x)?, mask, self.heads, self.head_dim)?;
		self.after_attention(x, &context)
	}

	/// `x`: `[1, tokens, hidden]` of inputs packed one after another, `lengths` tokens each.
	fn forward_packed(&self, x: &Tensor, lengths: &[usize]) -> candle_core::Result<Tensor> {
		let (one, tokens, _) = x.dims3()?;
		if one != 1 {
			candle_core::bail!("packed inputs come as one row of tokens, not {one}");
		}
		let qkv = self.qkv.forward(x)?.squeeze(0)?;
		let context = packed_attention(&qkv, lengths, self.heads, self.head_dim)?;
		self.after_attention(x, &context.reshape((1, tokens, ()))?)
	}

	/// Everything after attention works token by token.
	fn after_attention(&self, x: &Tensor, context: &Tensor) -> candle_core::Result<Tensor> {
		let x = self.attention_norm.forward(&self.attention_out.forward_residual(context, x)?)?;
		let inner = self.intermediate.forward(&x)?;
		self.out_norm.forward(&self.out.forward_residual(&inner, &x)?)
	}
}

/// The encoder: embeddings and `num_hidden_layers` transformer layers.
pub struct Bert {
	embeddings: Embeddings,
	layers: Vec<Layer>,
	pub(crate) hidden_size: usize,
	intermediate_size: usize,
}

impl Bert {
	/// Builds the encoder from weights under `vb`.
	pub fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
		if cfg.hidden_act != "gelu" {
			candle_core::bail!("unsupported activation {}", cfg.hidden_act);
		}
		let embeddings = Embeddings::load(vb.pp("embeddings"), cfg)?;
		let layers = (0..cfg.num_hidden_layers)
			.map(|i| Layer::load(vb.pp("encoder").pp("layer").pp(i), cfg))
			.collect::<candle_core::Result<Vec<_>>>()?;
		Ok(Self {
			embeddings,
			layers,
			hidden_size: cfg.hidden_size,
			intermediate_size: cfg.intermediate_size,
		})
	}

	/// Floating-point operations of one input of `tokens` tokens through the layers: per layer,
	/// the QKV, output and feed-forward products (2 flops a multiply-add) and attention's two
	/// `tokens²` products. Embedding lookups, norms and activations are left out.
	pub fn flops(&self, tokens: usize) -> f64 {
		let (t, h, i) = (tokens as f64, self.hidden_size as f64, self.intermediate_size as f64);
		let per_layer = 2.0 * t * (4.0 * h * h + 2.0 * h * i) + 4.0 * t * t * h;
		per_layer * self.layers.len() as f64
	}

	/// Hidden states `[batch, len, hidden]` for token ids and an attention mask (1 = token,
	/// 0 = padding), both `[batch, len]` u32.
	pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
		let types = ids.zeros_like()?;
		let mut x = self.embeddings.forward(ids, &types)?;
		// 0 where attended, a large negative number where padded.
		let additive = ((mask.to_dtype(DType::F32)? - 1.0)? * 1e9f64)?;
		for layer in &self.layers {
			x = layer.forward(&x, &additive)?;
		}
		Ok(x)
	}

	/// Hidden states `[1, tokens, hidden]` of inputs packed one after another without padding
	/// (CPU): `ids` `[1, tokens]` u32, `lengths` each input's token count in order. Each input
	/// attends only to its own tokens, and every other step works token by token, so each input's
	/// rows are what [`Bert::forward`] computes for it alone; no work is spent on padding.
	pub fn forward_packed(&self, ids: &Tensor, lengths: &[usize]) -> candle_core::Result<Tensor> {
		let (_, tokens) = ids.dims2()?;
		if lengths.iter().sum::<usize>() != tokens || lengths.contains(&0) {
			candle_core::bail!("lengths {lengths:?} do not cover {tokens} packed tokens");
		}
		let positions: Vec<u32> = lengths.iter().flat_map(|&len| 0..len as u32).collect();
		let positions = Tensor::from_vec(positions, tokens, ids.device())?;
		let mut x = self.embeddings.embed(ids, &ids.zeros_like()?, &positions)?;
		for layer in &self.layers {
			x = layer.forward_packed(&x, lengths)?;
		}
		Ok(x)
	}
}

/// A sequence classifier, as Hugging Face's `BertForSequenceClassification`: the encoder, its
/// pooler (`tanh` of a dense layer over the first token) and a linear head with one logit per
/// class. Weights may carry the `bert.` prefix that Hugging Face saves, or none.
pub struct BertClassifier {
	encoder: Bert,
	pooler: Linear,
	head: Linear,
	/// Number of classes (rows of the head).
	pub classes: usize,
}

/// A classifier's config: BERT's, whose `id2label` must name every class `0..n`.
#[derive(Clone, Debug, Deserialize)]
#[serde(transparent)]
pub struct ClassifierConfig(pub Config);

impl ClassifierConfig {
	/// Class names in id order (after `validate`, every id `0..n` is named once).
	pub fn labels(&self) -> Vec<String> {
		let mut named: Vec<(usize, String)> = self
			.0
			.id2label
			.iter()
			.flatten()
			.filter_map(|(k, v)| Some((k.parse().ok()?, v.clone())))
			.collect();
		named.sort_unstable();
		named.into_iter().map(|(_, name)| name).collect()
	}
}

impl crate::loader::ModelConfig for ClassifierConfig {
	fn validate(&self) -> Result<(), String> {
		self.0.validate()?;
		let labels = self.0.id2label.as_ref().filter(|m| !m.is_empty());
		let labels = labels.ok_or("a classifier's config names its classes in id2label")?;
		// Keys sort as strings; each must be the decimal id of its place, so 0..n with no gap.
		let mut ids: Vec<usize> = Vec::with_capacity(labels.len());
		for key in labels.keys() {
			ids.push(key.parse().map_err(|_| format!("id2label key `{key}` is not a class id"))?);
		}
		ids.sort_unstable();
		if let Some(missing) = ids.iter().enumerate().find(|(i, id)| i != *id).map(|(i, _)| i) {
			return Err(format!("id2label has no name for class {missing} of {}", labels.len()));
		}
		Ok(())
	}
}

impl BertClassifier {
	/// Builds the classifier from weights under `vb`; the head must have one row per class.
	pub fn load(vb: VarBuilder, cfg: &ClassifierConfig) -> candle_core::Result<Self> {
		let cfg = &cfg.0;
		let encoder_vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
			vb.pp("bert")
		} else {
			vb.clone()
		};
		let h = cfg.hidden_size;
		let classes = cfg.id2label.as_ref().map_or(0, |labels| labels.len());
		Ok(Self {
			pooler: linear(h, h, encoder_vb.pp("pooler").pp("dense"))?,
			encoder: Bert::load(encoder_vb, cfg)?,
			head: linear(h, classes, vb.pp("classifier"))?,
			classes,
		})
	}

	/// Logits `[batch, classes]` for token ids and an attention mask, both `[batch, len]` u32.
	pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
		let hidden = self.encoder.forward(ids, mask)?;
		let first = hidden.i((.., 0, ..))?.contiguous()?;
		let pooled = self.pooler.forward(&first)?.tanh()?;
		self.head.forward(&pooled)
	}
}

/// Mean of the hidden states over attended tokens, then L2-normalised: sentence-transformers'
/// `Pooling(mean)` + `Normalize`.
pub fn mean_pool_normalise(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
	let mask = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?;
	let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
	let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
	let mean = summed.broadcast_div(&counts)?;
	let norm = mean.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
	mean.broadcast_div(&norm)
}

/// The device the engine computes on: CUDA 0 with the `cuda` feature when present, else CPU.
pub fn default_device() -> Device {
	#[cfg(feature = "cuda")]
	if let Ok(d) = Device::new_cuda(0) {
		return d;
	}
	Device::Cpu
}
