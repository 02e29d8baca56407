//! Text embedding: tokenise (truncating to the model's `max_seq_length`), run BERT, mean-pool over
//! the attention mask and L2-normalise, as sentence-transformers does for all-MiniLM-L6-v2.

use crate::{
	error::{EngineError, Result},
	models::bert::{self, Bert},
	store::{read_json, Manifest, ModelHash, ModelStore},
};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// A loaded text-embedding model.
pub struct TextEmbedder {
	model: Bert,
	tokenizer: Tokenizer,
	device: Device,
	/// Dimensions of each embedding.
	pub dimensions: usize,
	/// Longest input in tokens.
	pub max_seq_length: usize,
}

impl TextEmbedder {
	/// Loads `model` from `store` after checking its weights hash to its id.
	pub fn load(store: &ModelStore, model: &ModelHash, device: &Device) -> Result<Self> {
		let weights = store.verify(model)?;
		let manifest: Manifest = store.manifest(model)?;
		if manifest.architecture != "text-embedding" {
			return Err(EngineError::BadConfig {
				path: store.path(model, "manifest"),
				message: format!("architecture {} is not text-embedding", manifest.architecture),
			});
		}
		let config_path = store.path(model, "config");
		let cfg: bert::Config = read_json(&config_path)?;
		cfg.validate().map_err(|message| EngineError::BadConfig { path: config_path, message })?;
		let mut tokenizer = Tokenizer::from_file(store.path(model, "tokenizer"))
			.map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		tokenizer
			.with_truncation(Some(TruncationParams {
				max_length: manifest.max_seq_length,
				..Default::default()
			}))
			.map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		tokenizer.with_padding(Some(PaddingParams {
			strategy: PaddingStrategy::BatchLongest,
			..Default::default()
		}));
		let bytes = std::fs::read(&weights).map_err(EngineError::io(&weights))?;
		let bad = |e: candle_core::Error| EngineError::BadWeights {
			path: weights.clone(),
			message: e.to_string(),
		};
		let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device).map_err(bad)?;
		let model = Bert::load(vb, &cfg).map_err(bad)?;
		Ok(Self {
			dimensions: model.hidden_size,
			model,
			tokenizer,
			device: device.clone(),
			max_seq_length: manifest.max_seq_length,
		})
	}

	/// Embeddings of `texts`, computed as one padded batch: unit vectors of `dimensions` floats.
	pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
		if texts.is_empty() {
			return Ok(Vec::new());
		}
		if texts.iter().any(|t| t.is_empty()) {
			return Err(EngineError::EmptyInput);
		}
		let encodings = self
			.tokenizer
			.encode_batch(texts.to_vec(), true)
			.map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		let len = encodings.first().map(|e| e.get_ids().len()).unwrap_or(0);
		let mut ids = Vec::with_capacity(texts.len() * len);
		let mut mask = Vec::with_capacity(texts.len() * len);
		for e in &encodings {
			ids.extend_from_slice(e.get_ids());
			mask.extend_from_slice(e.get_attention_mask());
		}
		let shape = (encodings.len(), len);
		let ids = Tensor::from_vec(ids, shape, &self.device)?;
		let mask = Tensor::from_vec(mask, shape, &self.device)?;
		let hidden = self.model.forward(&ids, &mask)?;
		let pooled = bert::mean_pool_normalise(&hidden, &mask)?;
		Ok(pooled.to_device(&Device::Cpu)?.to_vec2::<f32>()?)
	}

	/// Number of tokens `text` becomes (after truncation).
	pub fn token_count(&self, text: &str) -> Result<usize> {
		let e =
			self.tokenizer.encode(text, true).map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		Ok(e.get_ids().len())
	}
}
