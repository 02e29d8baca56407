//! Text classification: a BERT encoder with a linear head (Hugging Face's
//! `BertForSequenceClassification`). The output is the class id and every class's logit, which
//! the canonical form turns into fixed point.

use crate::{
	embedding::padded_batch,
	error::Result,
	loader::{self, Files},
	models::bert::BertClassifier,
	store::{ModelHash, ModelStore},
};
use candle_core::Device;
use tokenizers::Tokenizer;

/// The manifest's name for this architecture.
pub const ARCHITECTURE: &str = "text-classification";

/// A loaded classifier.
pub struct TextClassifier {
	model: BertClassifier,
	tokenizer: Tokenizer,
	device: Device,
	/// Class names by id, from the config's `id2label`.
	pub labels: Vec<String>,
	/// Longest input in tokens.
	pub max_seq_length: usize,
}

/// One input's classification.
#[derive(Clone, Debug, PartialEq)]
pub struct Classified {
	/// Every class's logit, by class id.
	pub logits: Vec<f32>,
}

impl TextClassifier {
	/// Loads `model` from `store` after checking its weights hash to its id.
	pub fn load(store: &ModelStore, model: &ModelHash, device: &Device) -> Result<Self> {
		let files = Files::read(store, model, ARCHITECTURE)?;
		let (net, cfg, manifest) = files.build(device, BertClassifier::load)?;
		let labels = cfg.labels();
		let tokenizer = loader::encoder_tokenizer(store, model, manifest.max_seq_length)?;
		Ok(Self {
			model: net,
			tokenizer,
			device: device.clone(),
			labels,
			max_seq_length: manifest.max_seq_length,
		})
	}

	/// The classifier built from a config and weights in memory (what the fuzz targets drive).
	pub fn network_from_bytes(
		config: &[u8],
		weights: Vec<u8>,
		device: &Device,
	) -> Result<BertClassifier> {
		loader::build_from_bytes(config, weights, device, BertClassifier::load)
	}

	/// Logits of each of `texts`, computed as one padded batch.
	pub fn classify(&self, texts: &[&str]) -> Result<Vec<Classified>> {
		if texts.is_empty() {
			return Ok(Vec::new());
		}
		let (ids, mask) = padded_batch(&self.tokenizer, texts, &self.device)?;
		let logits = self.model.forward(&ids, &mask)?.to_device(&Device::Cpu)?.to_vec2::<f32>()?;
		Ok(logits.into_iter().map(|logits| Classified { logits }).collect())
	}
}
