//! Text embedding: tokenise (truncating to the model's `max_seq_length`), run BERT, mean-pool over
//! the attention mask and L2-normalise, as sentence-transformers does for all-MiniLM-L6-v2.

use crate::{
	error::{EngineError, Result},
	loader::{self, Files},
	models::bert::{self, Bert},
	store::{ModelHash, ModelStore},
};
use candle_core::{Device, Tensor};
use tokenizers::Tokenizer;

/// The manifest's name for this architecture.
pub const ARCHITECTURE: &str = "text-embedding";

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
		let files = Files::read(store, model, ARCHITECTURE)?;
		let (model_net, _, manifest) = files.build(device, Bert::load)?;
		let tokenizer = loader::encoder_tokenizer(store, model, manifest.max_seq_length)?;
		Ok(Self {
			dimensions: model_net.hidden_size,
			model: model_net,
			tokenizer,
			device: device.clone(),
			max_seq_length: manifest.max_seq_length,
		})
	}

	/// The encoder built from a config and weights in memory (what the fuzz targets drive); the
	/// paths only name the files in errors.
	pub fn network_from_bytes(config: &[u8], weights: Vec<u8>, device: &Device) -> Result<Bert> {
		loader::build_from_bytes(config, weights, device, Bert::load)
	}

	/// Embeddings of `texts`, computed as one batch: unit vectors of `dimensions` floats. On the
	/// CPU several texts are packed one after another without padding; elsewhere they are padded
	/// to the longest.
	pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
		if texts.is_empty() {
			return Ok(Vec::new());
		}
		if texts.len() > 1 && self.device.is_cpu() {
			return self.embed_packed(texts);
		}
		let (ids, mask) = padded_batch(&self.tokenizer, texts, &self.device)?;
		let hidden = self.model.forward(&ids, &mask)?;
		let pooled = bert::mean_pool_normalise(&hidden, &mask)?;
		Ok(pooled.to_device(&Device::Cpu)?.to_vec2::<f32>()?)
	}

	/// [`TextEmbedder::embed`] of several texts packed into one row of tokens: each text's
	/// embedding is what it gets alone (tested bit for bit), without computing padding.
	fn embed_packed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
		if texts.iter().any(|t| t.is_empty()) {
			return Err(EngineError::EmptyInput);
		}
		let mut ids = Vec::new();
		let mut lengths = Vec::with_capacity(texts.len());
		for text in texts {
			let e = self
				.tokenizer
				.encode(*text, true)
				.map_err(|e| EngineError::Tokenizer(e.to_string()))?;
			ids.extend_from_slice(e.get_ids());
			lengths.push(e.get_ids().len());
		}
		let tokens = ids.len();
		let ids = Tensor::from_vec(ids, (1, tokens), &self.device)?;
		let hidden = self.model.forward_packed(&ids, &lengths)?;
		let mut out = Vec::with_capacity(texts.len());
		let mut first = 0usize;
		for len in lengths {
			// Pooled as the input alone is: its rows with an all-ones mask.
			let rows = hidden.narrow(1, first, len)?;
			let mask = Tensor::ones((1, len), candle_core::DType::U32, &self.device)?;
			let pooled = bert::mean_pool_normalise(&rows, &mask)?;
			out.extend(pooled.to_device(&Device::Cpu)?.to_vec2::<f32>()?);
			first = first.saturating_add(len);
		}
		Ok(out)
	}

	/// Floating-point operations of embedding one input of `tokens` tokens (its matrix products).
	pub fn flops(&self, tokens: usize) -> f64 {
		self.model.flops(tokens)
	}

	/// Number of tokens `text` becomes (after truncation).
	pub fn token_count(&self, text: &str) -> Result<usize> {
		let e =
			self.tokenizer.encode(text, true).map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		Ok(e.get_ids().len())
	}
}

/// Token ids and attention mask of `texts` as one batch padded to its longest input, both
/// `[batch, len]` u32.
pub(crate) fn padded_batch(
	tokenizer: &Tokenizer,
	texts: &[&str],
	device: &Device,
) -> Result<(Tensor, Tensor)> {
	if texts.iter().any(|t| t.is_empty()) {
		return Err(EngineError::EmptyInput);
	}
	let encodings = tokenizer
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
	Ok((Tensor::from_vec(ids, shape, device)?, Tensor::from_vec(mask, shape, device)?))
}
