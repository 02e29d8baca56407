//! What the fuzz targets drive (`fuzz/`, run by `scripts/fuzz`): the loading path of every
//! architecture from untrusted bytes (a config and a safetensors file), then one forward pass
//! of whatever loaded. Any input must end in `Ok` or a named error, never a panic, and must not
//! allocate more than its own size suggests. The corpus it leaves is replayed by the engine's
//! tests.

use crate::{
	classification::TextClassifier,
	embedding::TextEmbedder,
	error::Result,
	generation::{check_tokens, generate_tokens, TextGenerator},
};
use candle_core::{Device, Tensor};

/// The architectures a fuzz input can name (its first byte, modulo 3).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
	/// BERT encoder (text embedding).
	Encoder,
	/// BERT with a classification head.
	Classifier,
	/// Llama-style decoder (generation).
	Decoder,
}

impl Kind {
	fn tag(self) -> u8 {
		match self {
			Self::Encoder => 0,
			Self::Classifier => 1,
			Self::Decoder => 2,
		}
	}
}

/// A fuzz input: one byte of kind, the config's length (u32 little-endian), the config, then
/// the weights.
pub fn encode(kind: Kind, config: &[u8], weights: &[u8]) -> Vec<u8> {
	let mut out = Vec::with_capacity(5 + config.len() + weights.len());
	out.push(kind.tag());
	out.extend_from_slice(&u32::try_from(config.len()).unwrap_or(u32::MAX).to_le_bytes());
	out.extend_from_slice(config);
	out.extend_from_slice(weights);
	out
}

/// Splits a fuzz input; `None` when it is too short to name a kind and a length.
pub fn decode(data: &[u8]) -> Option<(Kind, &[u8], &[u8])> {
	let (&tag, rest) = data.split_first()?;
	let (len, rest) = rest.split_first_chunk::<4>()?;
	let len = usize::try_from(u32::from_le_bytes(*len)).ok()?.min(rest.len());
	let (config, weights) = rest.split_at(len);
	let kind = match tag % 3 {
		0 => Kind::Encoder,
		1 => Kind::Classifier,
		_ => Kind::Decoder,
	};
	Some((kind, config, weights))
}

/// Loads the model a fuzz input describes and, if it loads, runs it once on a few tokens.
/// Returns what happened; the fuzz target only cares that it returns.
pub fn load_and_run(data: &[u8]) -> Result<()> {
	let Some((kind, config, weights)) = decode(data) else {
		return Ok(());
	};
	let device = Device::Cpu;
	let ids = Tensor::new(&[[0u32, 1, 0]], &device)?;
	let mask = Tensor::new(&[[1u32, 1, 0]], &device)?;
	match kind {
		Kind::Encoder => {
			let bert = TextEmbedder::network_from_bytes(config, weights.to_vec(), &device)?;
			let hidden = bert.forward(&ids, &mask)?;
			crate::models::bert::mean_pool_normalise(&hidden, &mask)?;
		}
		Kind::Classifier => {
			let classifier = TextClassifier::network_from_bytes(config, weights.to_vec(), &device)?;
			classifier.forward(&ids, &mask)?;
		}
		Kind::Decoder => {
			let llama = TextGenerator::network_from_bytes(config, weights.to_vec(), &device)?;
			let tokens = generate_tokens(&llama, &[0, 1], 2, &device)?;
			check_tokens(&llama, &[0, 1], &tokens, &device)?;
		}
	}
	Ok(())
}
