//! A llama-style decoder (Hugging Face's `LlamaForCausalLM` weight names): RMS norm, rotary
//! position embeddings (half-rotation, as Hugging Face computes them), grouped-query causal
//! attention with a key/value cache, and a SiLU-gated MLP.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{embedding, linear_no_bias, rms_norm, Embedding, Linear, RmsNorm, VarBuilder};
use serde::Deserialize;

/// One token id or several (Hugging Face writes `eos_token_id` either way).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum TokenIds {
	One(u32),
	Many(Vec<u32>),
}

impl TokenIds {
	/// The ids as a list.
	pub fn to_vec(&self) -> Vec<u32> {
		match self {
			Self::One(id) => vec![*id],
			Self::Many(ids) => ids.clone(),
		}
	}
}

/// The fields of `config.json` the decoder needs.
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
	pub vocab_size: usize,
	pub hidden_size: usize,
	pub intermediate_size: usize,
	pub num_hidden_layers: usize,
	pub num_attention_heads: usize,
	/// Key/value heads (grouped-query attention); all heads when absent.
	#[serde(default)]
	pub num_key_value_heads: Option<usize>,
	pub rms_norm_eps: f64,
	#[serde(default = "default_rope_theta")]
	pub rope_theta: f64,
	pub max_position_embeddings: usize,
	/// Whether the output projection reuses the token embeddings (else `lm_head.weight`).
	#[serde(default)]
	pub tie_word_embeddings: bool,
	#[serde(default = "default_act")]
	pub hidden_act: String,
	pub model_type: String,
	/// Generation stops after any of these.
	#[serde(default)]
	pub eos_token_id: Option<TokenIds>,
}

fn default_rope_theta() -> f64 {
	10_000.0
}

fn default_act() -> String {
	"silu".into()
}

impl Config {
	fn kv_heads(&self) -> usize {
		self.num_key_value_heads.unwrap_or(self.num_attention_heads)
	}

	fn head_dim(&self) -> usize {
		self.hidden_size / self.num_attention_heads.max(1)
	}
}

impl crate::loader::ModelConfig for Config {
	fn validate(&self) -> Result<(), String> {
		if self.model_type != "llama" {
			return Err(format!("config is for a `{}` model, not llama", self.model_type));
		}
		let heads = self.num_attention_heads;
		if heads == 0 || self.hidden_size == 0 || !self.hidden_size.is_multiple_of(heads) {
			return Err(format!(
				"hidden_size {} is not a positive multiple of num_attention_heads {heads}",
				self.hidden_size
			));
		}
		if !self.head_dim().is_multiple_of(2) {
			return Err(format!(
				"head size {} is odd; rotary embeddings need pairs",
				self.head_dim()
			));
		}
		let kv = self.kv_heads();
		if kv == 0 || !heads.is_multiple_of(kv) {
			return Err(format!(
				"num_attention_heads {heads} is not a multiple of num_key_value_heads {kv}"
			));
		}
		if self.num_hidden_layers == 0 || self.vocab_size == 0 || self.max_position_embeddings == 0
		{
			return Err("a decoder needs layers, a vocabulary and positions".into());
		}
		if self.hidden_act != "silu" {
			return Err(format!("activation `{}` is not supported (silu is)", self.hidden_act));
		}
		if !(self.rope_theta.is_finite() && self.rope_theta > 1.0) {
			return Err(format!("rope_theta {} is not a number above 1", self.rope_theta));
		}
		if !(self.rms_norm_eps.is_finite() && self.rms_norm_eps >= 0.0) {
			return Err(format!("rms_norm_eps {} is not a non-negative number", self.rms_norm_eps));
		}
		Ok(())
	}
}

struct Attention {
	q: Linear,
	k: Linear,
	v: Linear,
	o: Linear,
	heads: usize,
	kv_heads: usize,
	head_dim: usize,
}

struct Layer {
	attention: Attention,
	attention_norm: RmsNorm,
	gate: Linear,
	up: Linear,
	down: Linear,
	mlp_norm: RmsNorm,
}

/// Keys and values of the tokens seen so far, per layer: `[1, kv_heads, seen, head_dim]`.
#[derive(Default)]
pub struct Cache {
	layers: Vec<Option<(Tensor, Tensor)>>,
}

impl Cache {
	/// Tokens already in the cache.
	pub fn len(&self) -> usize {
		self.layers.first().and_then(|l| l.as_ref()).and_then(|(k, _)| k.dim(2).ok()).unwrap_or(0)
	}

	/// Whether nothing is cached yet.
	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}
}

/// The decoder.
pub struct Llama {
	embed: Embedding,
	layers: Vec<Layer>,
	norm: RmsNorm,
	lm_head: Linear,
	rope_theta: f64,
	head_dim: usize,
	/// Longest sequence the position embeddings were trained for.
	pub max_positions: usize,
	/// Generation stops after one of these.
	pub eos: Vec<u32>,
	/// Vocabulary size (logits per position).
	pub vocab_size: usize,
}

impl Llama {
	/// Builds the decoder from weights under `vb`.
	pub fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
		let (h, hd) = (cfg.hidden_size, cfg.head_dim());
		let kv = cfg.kv_heads() * hd;
		let m = vb.pp("model");
		let embed = embedding(cfg.vocab_size, h, m.pp("embed_tokens"))?;
		let layers = (0..cfg.num_hidden_layers)
			.map(|i| {
				let l = m.pp("layers").pp(i);
				let a = l.pp("self_attn");
				let mlp = l.pp("mlp");
				Ok(Layer {
					attention: Attention {
						q: linear_no_bias(h, h, a.pp("q_proj"))?,
						k: linear_no_bias(h, kv, a.pp("k_proj"))?,
						v: linear_no_bias(h, kv, a.pp("v_proj"))?,
						o: linear_no_bias(h, h, a.pp("o_proj"))?,
						heads: cfg.num_attention_heads,
						kv_heads: cfg.kv_heads(),
						head_dim: hd,
					},
					attention_norm: rms_norm(h, cfg.rms_norm_eps, l.pp("input_layernorm"))?,
					gate: linear_no_bias(h, cfg.intermediate_size, mlp.pp("gate_proj"))?,
					up: linear_no_bias(h, cfg.intermediate_size, mlp.pp("up_proj"))?,
					down: linear_no_bias(cfg.intermediate_size, h, mlp.pp("down_proj"))?,
					mlp_norm: rms_norm(h, cfg.rms_norm_eps, l.pp("post_attention_layernorm"))?,
				})
			})
			.collect::<candle_core::Result<Vec<_>>>()?;
		let lm_head = if cfg.tie_word_embeddings {
			Linear::new(embed.embeddings().clone(), None)
		} else {
			linear_no_bias(h, cfg.vocab_size, vb.pp("lm_head"))?
		};
		Ok(Self {
			embed,
			layers,
			norm: rms_norm(h, cfg.rms_norm_eps, m.pp("norm"))?,
			lm_head,
			rope_theta: cfg.rope_theta,
			head_dim: hd,
			max_positions: cfg.max_position_embeddings,
			eos: cfg.eos_token_id.as_ref().map(TokenIds::to_vec).unwrap_or_default(),
			vocab_size: cfg.vocab_size,
		})
	}

	/// Cosines and sines of the rotary embedding for positions `start..start + len`, each
	/// `[len, head_dim / 2]`.
	fn rotary(
		&self,
		start: usize,
		len: usize,
		device: &Device,
	) -> candle_core::Result<(Tensor, Tensor)> {
		let half = self.head_dim / 2;
		let inv_freq: Vec<f32> = (0..half)
			.map(|i| (1.0 / self.rope_theta.powf((2 * i) as f64 / self.head_dim as f64)) as f32)
			.collect();
		let mut angles = Vec::with_capacity(len * half);
		for pos in start..start + len {
			angles.extend(inv_freq.iter().map(|f| pos as f32 * f));
		}
		let angles = Tensor::from_vec(angles, (len, half), device)?;
		Ok((angles.cos()?, angles.sin()?))
	}

	/// Logits `[len, vocab]` (or `[1, vocab]` for the last token only, with `last_only`) for
	/// `ids` (`[len]` u32), which follow the tokens already in `cache`; `cache` grows by `len`.
	pub fn forward(
		&self,
		ids: &Tensor,
		cache: &mut Cache,
		last_only: bool,
	) -> candle_core::Result<Tensor> {
		let len = ids.dim(0)?;
		let start = cache.len();
		if len == 0 {
			candle_core::bail!("no tokens to run");
		}
		if start + len > self.max_positions {
			candle_core::bail!(
				"{} tokens exceed the model's {} positions",
				start + len,
				self.max_positions
			);
		}
		cache.layers.resize_with(self.layers.len(), || None);
		let (cos, sin) = self.rotary(start, len, ids.device())?;
		let mask = causal_mask(start, len, ids.device())?;
		let mut x = self.embed.forward(&ids.unsqueeze(0)?)?;
		for (layer, kv) in self.layers.iter().zip(cache.layers.iter_mut()) {
			let a = layer.attention.forward(
				&layer.attention_norm.forward(&x)?,
				&cos,
				&sin,
				&mask,
				kv,
			)?;
			x = (x + a)?;
			let n = layer.mlp_norm.forward(&x)?;
			let gated =
				(candle_nn::ops::silu(&layer.gate.forward(&n)?)? * layer.up.forward(&n)?)?;
			x = (x + layer.down.forward(&gated)?)?;
		}
		let x = x.squeeze(0)?;
		let x = if last_only { x.narrow(0, len - 1, 1)? } else { x };
		self.lm_head.forward(&self.norm.forward(&x)?)
	}
}

/// Additive mask `[len, start + len]`: query `i` (at position `start + i`) sees keys up to its own
/// position.
fn causal_mask(start: usize, len: usize, device: &Device) -> candle_core::Result<Tensor> {
	let total = start + len;
	let values: Vec<f32> = (0..len)
		.flat_map(|i| (0..total).map(move |j| if j <= start + i { 0.0 } else { f32::NEG_INFINITY }))
		.collect();
	Tensor::from_vec(values, (len, total), device)
}

impl Attention {
	fn forward(
		&self,
		x: &Tensor,
		cos: &Tensor,
		sin: &Tensor,
		mask: &Tensor,
		cache: &mut Option<(Tensor, Tensor)>,
	) -> candle_core::Result<Tensor> {
		let (b, len, hidden) = x.dims3()?;
		let split = |t: Tensor, heads: usize| {
			t.reshape((b, len, heads, self.head_dim))?.transpose(1, 2)?.contiguous()
		};
		let q = split(self.q.forward(x)?, self.heads)?;
		let k = split(self.k.forward(x)?, self.kv_heads)?;
		let v = split(self.v.forward(x)?, self.kv_heads)?;
		let q = candle_nn::rotary_emb::rope(&q, cos, sin)?;
		let k = candle_nn::rotary_emb::rope(&k, cos, sin)?;
		let (k, v) = match cache.take() {
			Some((pk, pv)) => (Tensor::cat(&[&pk, &k], 2)?, Tensor::cat(&[&pv, &v], 2)?),
			None => (k, v),
		};
		*cache = Some((k.clone(), v.clone()));
		let groups = self.heads / self.kv_heads.max(1);
		let repeat = |t: &Tensor| -> candle_core::Result<Tensor> {
			if groups == 1 {
				return Ok(t.clone());
			}
			let (b, kvh, seen, d) = t.dims4()?;
			t.unsqueeze(2)?.expand((b, kvh, groups, seen, d))?.reshape((b, kvh * groups, seen, d))
		};
		let (k, v) = (repeat(&k)?, repeat(&v)?);
		let scale = 1.0 / (self.head_dim as f64).sqrt();
		let scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(mask)?;
		let probs = candle_nn::ops::softmax_last_dim(&scores)?;
		let context = probs.matmul(&v.contiguous()?)?;
		let context = context.transpose(1, 2)?.reshape((b, len, hidden))?;
		self.o.forward(&context)
	}
}

/// Float logits of one position as a vector, checked for NaN.
pub(crate) fn row(logits: &Tensor, i: usize) -> candle_core::Result<Vec<f32>> {
	logits.get(i)?.to_dtype(DType::F32)?.to_device(&Device::Cpu)?.to_vec1::<f32>()
}
