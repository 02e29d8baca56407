//! Models made here, from a seed, for the architectures no package ships: a small llama-style
//! decoder with seeded weights, and a classifier made of the real all-MiniLM-L6-v2 encoder with
//! a seeded linear head. They are written as ordinary model folders (`model.safetensors`,
//! `config.json`, `tokenizer.json`) and go through the same import and loading code as any
//! other model. `examples/synthetic_models.rs` writes them for the Hugging Face reference script
//! (`bench/reference_models.py`).

use crate::{
	error::{EngineError, Result},
	store::{Manifest, ModelHash, ModelStore},
};
use candle_core::{Device, Tensor};
use serde_json::json;
use std::{collections::HashMap, path::Path};

/// Seed of the models the tests and fixtures use.
pub const SEED: u64 = 0x1f2e_3d4c;

/// Deterministic numbers (SplitMix64): the same seed gives the same weights on every machine.
pub struct SplitMix64(u64);

impl SplitMix64 {
	/// A generator starting at `seed`.
	pub fn new(seed: u64) -> Self {
		Self(seed)
	}

	/// The next 64 random bits.
	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
		z ^ (z >> 31)
	}

	/// Uniform in `[-scale, scale)`.
	pub fn uniform(&mut self, scale: f32) -> f32 {
		// 24 random bits: exactly representable, so the value does not depend on rounding mode.
		let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
		(unit * 2.0 - 1.0) * scale
	}

	/// A `rows × cols` tensor (or a vector when `rows` is 0) of `uniform(scale)` plus `offset`.
	pub fn tensor(&mut self, rows: usize, cols: usize, scale: f32, offset: f32) -> Result<Tensor> {
		let n = rows.max(1) * cols;
		let values: Vec<f32> = (0..n).map(|_| offset + self.uniform(scale)).collect();
		let t = if rows == 0 {
			Tensor::from_vec(values, cols, &Device::Cpu)?
		} else {
			Tensor::from_vec(values, (rows, cols), &Device::Cpu)?
		};
		Ok(t)
	}
}

/// The shape of a seeded decoder.
#[derive(Clone, Debug)]
pub struct LlamaShape {
	pub vocab_size: usize,
	pub hidden_size: usize,
	pub intermediate_size: usize,
	pub layers: usize,
	pub heads: usize,
	pub kv_heads: usize,
	pub max_positions: usize,
}

impl LlamaShape {
	/// The decoder the tests use: 2 layers, 4 heads sharing 2 key/value heads, hidden size 64,
	/// over all-MiniLM-L6-v2's 30,522-token vocabulary (its tokenizer is reused).
	pub fn small() -> Self {
		Self {
			vocab_size: 30_522,
			hidden_size: 64,
			intermediate_size: 128,
			layers: 2,
			heads: 4,
			kv_heads: 2,
			max_positions: 128,
		}
	}

	/// The Hugging Face `LlamaConfig` of this shape, ending generation at `eos`.
	pub fn config(&self, eos: u32) -> serde_json::Value {
		json!({
			"architectures": ["LlamaForCausalLM"],
			"model_type": "llama",
			"vocab_size": self.vocab_size,
			"hidden_size": self.hidden_size,
			"intermediate_size": self.intermediate_size,
			"num_hidden_layers": self.layers,
			"num_attention_heads": self.heads,
			"num_key_value_heads": self.kv_heads,
			"max_position_embeddings": self.max_positions,
			"rms_norm_eps": 1e-5,
			"rope_theta": 10000.0,
			"hidden_act": "silu",
			"tie_word_embeddings": false,
			"attention_bias": false,
			"mlp_bias": false,
			"bos_token_id": 101,
			"eos_token_id": eos,
			"torch_dtype": "float32",
		})
	}
}

/// The tensors of a seeded llama-style decoder of `shape`, by Hugging Face name.
pub fn llama_tensors(shape: &LlamaShape, seed: u64) -> Result<HashMap<String, Tensor>> {
	let mut rng = SplitMix64::new(seed);
	let (h, i) = (shape.hidden_size, shape.intermediate_size);
	let kv = shape.kv_heads * (h / shape.heads.max(1));
	// Wider than a trained model's initialisation, so greedy choices are far from ties.
	let w = 0.15;
	let mut t = HashMap::new();
	t.insert("model.embed_tokens.weight".to_string(), rng.tensor(shape.vocab_size, h, 1.0, 0.0)?);
	for l in 0..shape.layers {
		let p = format!("model.layers.{l}");
		for (name, rows, cols) in [
			("self_attn.q_proj", h, h),
			("self_attn.k_proj", kv, h),
			("self_attn.v_proj", kv, h),
			("self_attn.o_proj", h, h),
			("mlp.gate_proj", i, h),
			("mlp.up_proj", i, h),
			("mlp.down_proj", h, i),
		] {
			t.insert(format!("{p}.{name}.weight"), rng.tensor(rows, cols, w, 0.0)?);
		}
		t.insert(format!("{p}.input_layernorm.weight"), rng.tensor(0, h, 0.1, 1.0)?);
		t.insert(format!("{p}.post_attention_layernorm.weight"), rng.tensor(0, h, 0.1, 1.0)?);
	}
	t.insert("model.norm.weight".to_string(), rng.tensor(0, h, 0.1, 1.0)?);
	// A wide output projection spreads the logits, so greedy choices are rarely near-ties.
	t.insert("lm_head.weight".to_string(), rng.tensor(shape.vocab_size, h, 1.0, 0.0)?);
	Ok(t)
}

/// Writes a seeded llama-style decoder of `shape` into `folder`, with `tokenizer` as its
/// tokenizer and `eos` as its end-of-sequence token.
pub fn write_llama(
	folder: &Path,
	shape: &LlamaShape,
	seed: u64,
	tokenizer: &Path,
	eos: u32,
) -> Result<()> {
	write_folder(folder, &llama_tensors(shape, seed)?, &shape.config(eos), tokenizer)
}

/// A BERT of `hidden` units, `layers` layers, `vocab` tokens and `positions` positions, with a
/// classification head of `classes` rows when given: its config and seeded tensors (no `bert.`
/// prefix). Small ones seed the fuzz targets.
pub fn bert(
	hidden: usize,
	layers: usize,
	vocab: usize,
	positions: usize,
	classes: Option<usize>,
	seed: u64,
) -> Result<(serde_json::Value, HashMap<String, Tensor>)> {
	let mut rng = SplitMix64::new(seed);
	let inner = hidden * 2;
	let mut t = HashMap::new();
	let mut put = |name: String, rows: usize, cols: usize, scale: f32, offset: f32| -> Result<()> {
		t.insert(name, rng.tensor(rows, cols, scale, offset)?);
		Ok(())
	};
	put("embeddings.word_embeddings.weight".into(), vocab, hidden, 1.0, 0.0)?;
	put("embeddings.position_embeddings.weight".into(), positions, hidden, 0.1, 0.0)?;
	put("embeddings.token_type_embeddings.weight".into(), 2, hidden, 0.1, 0.0)?;
	put("embeddings.LayerNorm.weight".into(), 0, hidden, 0.1, 1.0)?;
	put("embeddings.LayerNorm.bias".into(), 0, hidden, 0.1, 0.0)?;
	for l in 0..layers {
		let p = format!("encoder.layer.{l}");
		for (name, rows, cols) in [
			("attention.self.query", hidden, hidden),
			("attention.self.key", hidden, hidden),
			("attention.self.value", hidden, hidden),
			("attention.output.dense", hidden, hidden),
			("intermediate.dense", inner, hidden),
			("output.dense", hidden, inner),
		] {
			put(format!("{p}.{name}.weight"), rows, cols, 0.3, 0.0)?;
			put(format!("{p}.{name}.bias"), 0, rows, 0.1, 0.0)?;
		}
		for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
			put(format!("{p}.{norm}.weight"), 0, hidden, 0.1, 1.0)?;
			put(format!("{p}.{norm}.bias"), 0, hidden, 0.1, 0.0)?;
		}
	}
	let mut config = json!({
		"model_type": "bert",
		"vocab_size": vocab,
		"hidden_size": hidden,
		"num_hidden_layers": layers,
		"num_attention_heads": 2,
		"intermediate_size": inner,
		"max_position_embeddings": positions,
		"type_vocab_size": 2,
		"layer_norm_eps": 1e-12,
		"hidden_act": "gelu",
	});
	if let Some(classes) = classes {
		put("pooler.dense.weight".into(), hidden, hidden, 0.3, 0.0)?;
		put("pooler.dense.bias".into(), 0, hidden, 0.1, 0.0)?;
		put("classifier.weight".into(), classes, hidden, 1.0, 0.0)?;
		put("classifier.bias".into(), 0, classes, 0.1, 0.0)?;
		let labels: serde_json::Map<String, serde_json::Value> =
			(0..classes).map(|i| (i.to_string(), json!(format!("class {i}")))).collect();
		if let Some(c) = config.as_object_mut() {
			c.insert("id2label".into(), json!(labels));
		}
	}
	Ok((config, t))
}

/// The classes of the seeded classifier.
pub const CLASSIFIER_LABELS: [&str; 3] = ["negative", "neutral", "positive"];

/// Writes a classifier into `folder`: the encoder (and pooler) of the model `encoder` in `store`
/// under Hugging Face's `bert.` prefix, and a seeded linear head over `CLASSIFIER_LABELS`.
pub fn write_classifier(
	folder: &Path,
	store: &ModelStore,
	encoder: &ModelHash,
	seed: u64,
) -> Result<()> {
	let weights = store.verify(encoder)?;
	let tensors = candle_core::safetensors::load(&weights, &Device::Cpu)?;
	let mut t: HashMap<String, Tensor> =
		tensors.into_iter().map(|(name, tensor)| (format!("bert.{name}"), tensor)).collect();
	let config_path = store.path(encoder, "config");
	let text = std::fs::read_to_string(&config_path).map_err(EngineError::io(&config_path))?;
	let bad = |message: String| EngineError::BadConfig { path: config_path.clone(), message };
	let mut config: serde_json::Map<String, serde_json::Value> =
		serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
	let hidden = config
		.get("hidden_size")
		.and_then(serde_json::Value::as_u64)
		.ok_or_else(|| bad("no hidden_size".into()))? as usize;
	let mut rng = SplitMix64::new(seed);
	let classes = CLASSIFIER_LABELS.len();
	t.insert("classifier.weight".to_string(), rng.tensor(classes, hidden, 1.0, 0.0)?);
	t.insert("classifier.bias".to_string(), rng.tensor(0, classes, 0.1, 0.0)?);
	let id2label: serde_json::Map<String, serde_json::Value> =
		CLASSIFIER_LABELS.iter().enumerate().map(|(i, l)| (i.to_string(), json!(l))).collect();
	let label2id: serde_json::Map<String, serde_json::Value> =
		CLASSIFIER_LABELS.iter().enumerate().map(|(i, l)| (l.to_string(), json!(i))).collect();
	config.insert("architectures".into(), json!(["BertForSequenceClassification"]));
	config.insert("id2label".into(), json!(id2label));
	config.insert("label2id".into(), json!(label2id));
	write_folder(folder, &t, &json!(config), &store.path(encoder, "tokenizer"))
}

fn write_folder(
	folder: &Path,
	tensors: &HashMap<String, Tensor>,
	config: &serde_json::Value,
	tokenizer: &Path,
) -> Result<()> {
	std::fs::create_dir_all(folder).map_err(EngineError::io(folder))?;
	let weights = folder.join("model.safetensors");
	candle_core::safetensors::save(tensors, &weights)?;
	let config_path = folder.join("config.json");
	let text = serde_json::to_string_pretty(config).map_err(|e| EngineError::BadConfig {
		path: config_path.clone(),
		message: e.to_string(),
	})?;
	std::fs::write(&config_path, text).map_err(EngineError::io(&config_path))?;
	let target = folder.join("tokenizer.json");
	std::fs::copy(tokenizer, &target).map(|_| ()).map_err(EngineError::io(target))
}

/// Imports the seeded decoder into `store` (manifest: 128-token context, 16 new tokens) and
/// returns its id.
pub fn import_llama(
	store: &ModelStore,
	scratch: &Path,
	tokenizer: &Path,
	eos: u32,
) -> Result<ModelHash> {
	let folder = scratch.join("llama");
	write_llama(&folder, &LlamaShape::small(), SEED, tokenizer, eos)?;
	let manifest = Manifest { max_new_tokens: Some(16), ..Manifest::new("text-generation", 128) };
	store.import(&folder, &manifest)
}

/// Imports the seeded MiniLM classifier into `store` (256-token inputs) and returns its id.
pub fn import_classifier(
	store: &ModelStore,
	scratch: &Path,
	source: &ModelStore,
	encoder: &ModelHash,
) -> Result<ModelHash> {
	let folder = scratch.join("classifier");
	write_classifier(&folder, source, encoder, SEED)?;
	store.import(&folder, &Manifest::new("text-classification", 256))
}
