//! The engine: a model store, a device, and a cache of loaded models shared between jobs.

use crate::{
	embedding::TextEmbedder,
	error::{EngineError, Result},
	store::{ModelHash, ModelStore},
};
use candle_core::Device;
use codec::Encode;
use infera_primitives::{
	canonical::{quantise_embedding, CanonicalOutput},
	tolerance::{outputs_match, Verdict},
	Architecture,
};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};

/// The result of running a model on one input.
#[derive(Clone, Debug)]
pub struct RunOutput {
	/// The float embedding, as the model computed it.
	pub embedding: Vec<f32>,
	/// The canonical (quantised) output.
	pub canonical: CanonicalOutput,
	/// Its SCALE encoding: what a provider reveals on chain.
	pub encoded: Vec<u8>,
	/// blake2-256 of `encoded`: what a provider commits to.
	pub output_hash: [u8; 32],
}

/// blake2-256, as the runtime computes it.
pub fn blake2_256(data: &[u8]) -> [u8; 32] {
	let h = blake2b_simd::Params::new().hash_length(32).hash(data);
	let mut out = [0u8; 32];
	out.copy_from_slice(h.as_bytes());
	out
}

/// Canonical form of a float embedding.
pub fn canonical_embedding(v: &[f32]) -> Result<RunOutput> {
	let q = quantise_embedding(v).map_err(EngineError::Canonical)?;
	let canonical = CanonicalOutput::Embedding(q);
	let encoded = canonical.encode();
	Ok(RunOutput { embedding: v.to_vec(), output_hash: blake2_256(&encoded), encoded, canonical })
}

/// How far a candidate output is from a reference, and the runtime's verdict on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
	/// The verdict the runtime would give.
	pub verdict: Verdict,
	/// Cosine similarity of the quantised vectors.
	pub cosine: f64,
	/// Largest element difference, in quantisation steps.
	pub max_element_diff: u32,
}

/// Compares two canonical embeddings under `architecture`'s tolerance, with the distances.
pub fn compare(
	architecture: &Architecture,
	reference: &CanonicalOutput,
	candidate: &CanonicalOutput,
) -> Comparison {
	let verdict = outputs_match(architecture, reference, candidate);
	let (cosine, max_element_diff) = match (reference, candidate) {
		(CanonicalOutput::Embedding(a), CanonicalOutput::Embedding(b)) if a.len() == b.len() => {
			let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
			let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
			let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
			let diff =
				a.iter().zip(b).map(|(x, y)| (i32::from(*x) - i32::from(*y)).unsigned_abs()).max();
			(if na > 0.0 && nb > 0.0 { dot / (na * nb) } else { 0.0 }, diff.unwrap_or(0))
		}
		_ => (0.0, u32::MAX),
	};
	Comparison { verdict, cosine, max_element_diff }
}

/// Runs models from a store, loading each once.
pub struct Engine {
	store: ModelStore,
	device: Device,
	loaded: Mutex<HashMap<ModelHash, Arc<TextEmbedder>>>,
}

impl Engine {
	/// An engine over `store` on the default device (CPU, or CUDA with the `cuda` feature).
	pub fn new(store: ModelStore) -> Self {
		Self::with_device(store, crate::models::bert::default_device())
	}

	/// An engine over `store` on `device`.
	pub fn with_device(store: ModelStore, device: Device) -> Self {
		Self { store, device, loaded: Mutex::new(HashMap::new()) }
	}

	/// The store.
	pub fn store(&self) -> &ModelStore {
		&self.store
	}

	/// The device.
	pub fn device(&self) -> &Device {
		&self.device
	}

	/// The loaded model, loading (and verifying) it on first use.
	pub fn model(&self, model: &ModelHash) -> Result<Arc<TextEmbedder>> {
		if let Some(m) = self.loaded.lock().ok().and_then(|l| l.get(model).cloned()) {
			return Ok(m);
		}
		let loaded = Arc::new(TextEmbedder::load(&self.store, model, &self.device)?);
		if let Ok(mut cache) = self.loaded.lock() {
			cache.insert(*model, loaded.clone());
		}
		Ok(loaded)
	}

	/// Runs `model` on one input.
	pub fn run(&self, model: &ModelHash, input: &str) -> Result<RunOutput> {
		let embedder = self.model(model)?;
		let v = embedder.embed(&[input])?.into_iter().next().ok_or(EngineError::EmptyInput)?;
		canonical_embedding(&v)
	}

	/// Runs `model` on raw input bytes, which must be UTF-8 text (as a job's input on chain).
	pub fn run_bytes(&self, model: &ModelHash, input: &[u8]) -> Result<RunOutput> {
		let text =
			std::str::from_utf8(input).map_err(|e| EngineError::InvalidUtf8(e.valid_up_to()))?;
		self.run(model, text)
	}

	/// Runs `model` on several inputs as one batch.
	pub fn run_batch(&self, model: &ModelHash, inputs: &[&str]) -> Result<Vec<RunOutput>> {
		let embedder = self.model(model)?;
		embedder.embed(inputs)?.iter().map(|v| canonical_embedding(v)).collect()
	}
}
