//! The engine: a model store, a device, and a cache of loaded models shared between jobs.

use crate::{
	classification::TextClassifier,
	embedding::TextEmbedder,
	error::{EngineError, Result},
	generation::{Generated, TextGenerator},
	store::{ModelHash, ModelStore},
};
use candle_core::Device;
use codec::Encode;
use infera_primitives::{
	canonical::{quantise_embedding, quantise_logit, CanonicalError, CanonicalOutput},
	tolerance::{outputs_match, Check},
	Architecture,
};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};

/// What a model computed, in floats (or token ids), before the canonical form.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
	/// A unit-length embedding.
	Embedding(Vec<f32>),
	/// The chosen class (the top of the fixed-point logits), its name and every class's logit.
	Classification { class: u32, label: String, logits: Vec<f32> },
	/// Generated token ids and their text.
	Generation { tokens: Vec<u32>, text: String },
}

/// The result of running a model on one input.
#[derive(Clone, Debug)]
pub struct RunOutput {
	/// What the model computed.
	pub output: Output,
	/// The canonical output.
	pub canonical: CanonicalOutput,
	/// Its SCALE encoding: what a provider reveals on chain.
	pub encoded: Vec<u8>,
	/// blake2-256 of `encoded`: what a provider commits to.
	pub output_hash: [u8; 32],
}

impl RunOutput {
	fn new(output: Output, canonical: CanonicalOutput) -> Self {
		let encoded = canonical.encode();
		Self { output, output_hash: blake2_256(&encoded), encoded, canonical }
	}

	/// The float embedding, for an embedding model.
	pub fn embedding(&self) -> Option<&[f32]> {
		match &self.output {
			Output::Embedding(v) => Some(v),
			_ => None,
		}
	}
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
	Ok(RunOutput::new(Output::Embedding(v.to_vec()), CanonicalOutput::Embedding(q)))
}

/// Canonical form of a classifier's logits: every logit in fixed point, and the class whose
/// fixed-point logit is highest (the lowest id on a tie), so the class follows from the logits.
pub fn canonical_classification(logits: &[f32], labels: &[String]) -> Result<RunOutput> {
	let fixed = logits
		.iter()
		.map(|&x| quantise_logit(x))
		.collect::<std::result::Result<Vec<i32>, _>>()
		.map_err(EngineError::Canonical)?;
	let index =
		crate::loader::first_max(&fixed).ok_or(EngineError::Canonical(CanonicalError::Empty))?;
	let class =
		u32::try_from(index).map_err(|_| EngineError::Canonical(CanonicalError::TooLong))?;
	let label = labels.get(index).cloned().unwrap_or_default();
	Ok(RunOutput::new(
		Output::Classification { class, label, logits: logits.to_vec() },
		CanonicalOutput::Classification { class, logits: fixed },
	))
}

/// Canonical form of a generation: its token ids.
pub fn canonical_generation(generated: Generated) -> RunOutput {
	let canonical = CanonicalOutput::Generation(generated.tokens.clone());
	RunOutput::new(Output::Generation { tokens: generated.tokens, text: generated.text }, canonical)
}

/// How far a candidate output is from a reference, and the runtime's verdict on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
	/// The verdict the runtime would give.
	pub verdict: Check,
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

/// A loaded model of any architecture the engine runs.
pub enum LoadedModel {
	/// `text-embedding`.
	Embedding(Arc<TextEmbedder>),
	/// `text-classification`.
	Classification(TextClassifier),
	/// `text-generation`.
	Generation(TextGenerator),
}

impl LoadedModel {
	/// Loads `model` as its manifest's architecture says.
	pub fn load(store: &ModelStore, model: &ModelHash, device: &Device) -> Result<Self> {
		// The manifest is read again (and the weights verified) by the architecture's loader.
		// A missing manifest of a missing model reports the missing model.
		let manifest = store.manifest(model).map_err(|e| store.verify(model).err().unwrap_or(e))?;
		match manifest.architecture.as_str() {
			crate::embedding::ARCHITECTURE => {
				TextEmbedder::load(store, model, device).map(|m| Self::Embedding(Arc::new(m)))
			}
			crate::classification::ARCHITECTURE => {
				TextClassifier::load(store, model, device).map(Self::Classification)
			}
			crate::generation::ARCHITECTURE => {
				TextGenerator::load(store, model, device).map(Self::Generation)
			}
			other => Err(EngineError::BadConfig {
				path: store.path(model, "manifest"),
				message: format!(
					"architecture {other} is not text-embedding, text-classification or text-generation"
				),
			}),
		}
	}

	/// The manifest name of the model's architecture.
	pub fn architecture(&self) -> &'static str {
		match self {
			Self::Embedding(_) => crate::embedding::ARCHITECTURE,
			Self::Classification(_) => crate::classification::ARCHITECTURE,
			Self::Generation(_) => crate::generation::ARCHITECTURE,
		}
	}

	/// Runs the model on `inputs`: one padded batch for encoders, one input after another for
	/// the generator.
	pub fn run_batch(&self, inputs: &[&str]) -> Result<Vec<RunOutput>> {
		match self {
			Self::Embedding(m) => m.embed(inputs)?.iter().map(|v| canonical_embedding(v)).collect(),
			Self::Classification(m) => m
				.classify(inputs)?
				.iter()
				.map(|c| canonical_classification(&c.logits, &m.labels))
				.collect(),
			Self::Generation(m) => {
				inputs.iter().map(|t| m.generate(t).map(canonical_generation)).collect()
			}
		}
	}
}

/// blake2-256 of the files a model was loaded from besides its weights (whose hash is its id).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LoadedFiles {
	/// `config.json`.
	pub config: ModelHash,
	/// `tokenizer.json`.
	pub tokenizer: ModelHash,
}

/// The hashes a caller expects a model's files to have (the registry's): `None` skips a file.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ExpectedFiles {
	/// `config.json`.
	pub config: Option<ModelHash>,
	/// `tokenizer.json`.
	pub tokenizer: Option<ModelHash>,
}

impl ExpectedFiles {
	/// Checks `loaded` against these hashes: the first file that differs is an error.
	pub fn check(&self, model: &ModelHash, loaded: &LoadedFiles) -> Result<()> {
		for (file, expected, actual) in [
			("config.json", self.config, loaded.config),
			("tokenizer.json", self.tokenizer, loaded.tokenizer),
		] {
			if let Some(expected) = expected {
				if expected != actual {
					return Err(EngineError::FileMismatch {
						model: model.to_hex(),
						file,
						expected: expected.to_hex(),
						actual: actual.to_hex(),
					});
				}
			}
		}
		Ok(())
	}
}

/// The most inputs [`Engine::run_bytes_checked_many`] puts into one batch.
pub const WORKER_BATCH: usize = 16;

/// Runs models from a store, loading each once.
pub struct Engine {
	store: ModelStore,
	device: Device,
	loaded: Mutex<HashMap<ModelHash, (Arc<LoadedModel>, LoadedFiles)>>,
}

impl Engine {
	/// An engine over `store` on the default device (CPU, or CUDA with the `cuda` feature).
	pub fn new(store: ModelStore) -> Self {
		Self::with_device(store, crate::models::bert::default_device())
	}

	/// An engine over `store` on `device`. On a GPU, matrix products run in full f32: TF32 matrix
	/// units move classifier logits by 67 and decoder logits by 393 fixed-point units from the CPU's,
	/// beyond the registered τ of 64, while full f32 stays within 1 (docs/adr/0013).
	pub fn with_device(store: ModelStore, device: Device) -> Self {
		if device.is_cuda() {
			candle_core::cuda::set_gemm_reduced_precision_f32(false);
			candle_core::cuda::set_gemm_reduced_precision_f16(false);
			candle_core::cuda::set_gemm_reduced_precision_bf16(false);
		}
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
	pub fn model(&self, model: &ModelHash) -> Result<Arc<LoadedModel>> {
		self.model_with_files(model).map(|(m, _)| m)
	}

	/// The loaded model and the hashes of the config and tokenizer it was loaded from (hashed
	/// just before loading, once per model).
	pub fn model_with_files(&self, model: &ModelHash) -> Result<(Arc<LoadedModel>, LoadedFiles)> {
		if let Some(m) = self.loaded.lock().ok().and_then(|l| l.get(model).cloned()) {
			return Ok(m);
		}
		let files = self.store.file_hashes(model).map_err(|e| match self.store.verify(model) {
			// A missing model reports the missing model rather than its missing config.
			Err(missing @ EngineError::ModelMissing { .. }) => missing,
			_ => e,
		})?;
		let loaded = Arc::new(LoadedModel::load(&self.store, model, &self.device)?);
		if let Ok(mut cache) = self.loaded.lock() {
			cache.insert(*model, (loaded.clone(), files));
		}
		Ok((loaded, files))
	}

	/// The loaded model if its config and tokenizer are the files `expected` names; else
	/// [`EngineError::FileMismatch`] and nothing runs.
	pub fn model_checked(
		&self,
		model: &ModelHash,
		expected: &ExpectedFiles,
	) -> Result<Arc<LoadedModel>> {
		let (loaded, files) = self.model_with_files(model)?;
		expected.check(model, &files)?;
		Ok(loaded)
	}

	/// The loaded model, which must be a text-embedding model (for `inference bench`).
	pub fn embedder(&self, model: &ModelHash) -> Result<Arc<TextEmbedder>> {
		match &*self.model(model)? {
			LoadedModel::Embedding(embedder) => Ok(embedder.clone()),
			other => Err(EngineError::BadConfig {
				path: self.store.path(model, "manifest"),
				message: format!("architecture {} is not text-embedding", other.architecture()),
			}),
		}
	}

	/// Runs `model` on one input.
	pub fn run(&self, model: &ModelHash, input: &str) -> Result<RunOutput> {
		self.model(model)?.run_batch(&[input])?.into_iter().next().ok_or(EngineError::EmptyInput)
	}

	/// Runs `model` on raw input bytes, which must be UTF-8 text (as a job's input on chain).
	pub fn run_bytes(&self, model: &ModelHash, input: &[u8]) -> Result<RunOutput> {
		self.run_bytes_checked(model, &ExpectedFiles::default(), input)
	}

	/// Runs `model` on raw input bytes for an audit panel's checker: as
	/// [`run_bytes_checked`](Self::run_bytes_checked), except that a generation model's output is
	/// the checked form (its tokens and the near-ties at each step) the runtime judges a
	/// provider's generation by.
	pub fn run_bytes_checked_as_checker(
		&self,
		model: &ModelHash,
		expected: &ExpectedFiles,
		input: &[u8],
	) -> Result<RunOutput> {
		let loaded = self.model_checked(model, expected)?;
		let LoadedModel::Generation(generator) = &*loaded else {
			return self.run_bytes_checked(model, expected, input);
		};
		let text =
			std::str::from_utf8(input).map_err(|e| EngineError::InvalidUtf8(e.valid_up_to()))?;
		let (generated, near) = generator.generate_checked(text)?;
		let canonical =
			CanonicalOutput::CheckedGeneration { tokens: generated.tokens.clone(), near };
		Ok(RunOutput::new(
			Output::Generation { tokens: generated.tokens, text: generated.text },
			canonical,
		))
	}

	/// Whether `model` (loaded, or loaded now) is a generation model.
	pub fn is_generator(&self, model: &ModelHash) -> bool {
		self.model(model).is_ok_and(|m| matches!(*m, LoadedModel::Generation(_)))
	}

	/// Runs `model` on raw input bytes after checking its config and tokenizer against
	/// `expected` (the registry's hashes): what the offchain worker runs for a job.
	pub fn run_bytes_checked(
		&self,
		model: &ModelHash,
		expected: &ExpectedFiles,
		input: &[u8],
	) -> Result<RunOutput> {
		let text =
			std::str::from_utf8(input).map_err(|e| EngineError::InvalidUtf8(e.valid_up_to()))?;
		self.model_checked(model, expected)?
			.run_batch(&[text])?
			.into_iter()
			.next()
			.ok_or(EngineError::EmptyInput)
	}

	/// Runs `model` on many raw inputs (the jobs a worker must commit in one block) after checking
	/// its config and tokenizer against `expected`: one result per input, in order, each what
	/// [`Engine::run_bytes_checked`] would give that input alone. A model that cannot be loaded
	/// fails the call; an input that cannot run (not UTF-8, empty, untokenisable) fails alone.
	///
	/// Encoder inputs are computed in batches of up to [`WORKER_BATCH`] inputs, sorted by length:
	/// an embedding model's packed without padding on the CPU, others padded among inputs of
	/// similar length. A batch that fails is run input by input, so one bad input cannot fail
	/// the others.
	pub fn run_bytes_checked_many(
		&self,
		model: &ModelHash,
		expected: &ExpectedFiles,
		inputs: &[&[u8]],
	) -> Result<Vec<Result<RunOutput>>> {
		let loaded = self.model_checked(model, expected)?;
		let mut out: Vec<Option<Result<RunOutput>>> = inputs.iter().map(|_| None).collect();
		let mut texts: Vec<(usize, &str)> = Vec::with_capacity(inputs.len());
		for (i, input) in inputs.iter().enumerate() {
			match std::str::from_utf8(input) {
				Ok(text) => texts.push((i, text)),
				Err(e) => {
					if let Some(slot) = out.get_mut(i) {
						*slot = Some(Err(EngineError::InvalidUtf8(e.valid_up_to())));
					}
				}
			}
		}
		texts.sort_by_key(|(i, text)| (text.len(), *i));
		// Batches of similar lengths: a new one starts when the current one is full or the next
		// input is longer than its shortest by more than the slack. On the CPU embedding models
		// pack their inputs without padding, so length does not matter; other batches are padded
		// to their longest input: on the CPU, where a padded token costs what a real one does,
		// within an eighth (plus a few bytes) of the shortest; on a GPU (bound by calls, not
		// arithmetic, at these sizes) up to twice.
		let cpu = self.device.is_cpu();
		let packed = cpu && matches!(*loaded, LoadedModel::Embedding(_));
		let mut batches: Vec<&[(usize, &str)]> = Vec::new();
		let mut from = 0usize;
		for (at, (_, text)) in texts.iter().enumerate() {
			let shortest = texts.get(from).map_or(0, |(_, t)| t.len());
			let slack = match (packed, cpu) {
				(true, _) => usize::MAX,
				(false, true) => shortest / 8 + 16,
				(false, false) => shortest.saturating_add(64),
			};
			let full = at.saturating_sub(from) >= WORKER_BATCH;
			if at > from && (full || text.len() > shortest.saturating_add(slack)) {
				batches.extend(texts.get(from..at));
				from = at;
			}
		}
		batches.extend(texts.get(from..).filter(|rest| !rest.is_empty()));
		for chunk in batches {
			let batch: Vec<&str> = chunk.iter().map(|(_, t)| *t).collect();
			let results: Vec<Result<RunOutput>> = match loaded.run_batch(&batch) {
				Ok(outputs) if outputs.len() == batch.len() => {
					outputs.into_iter().map(Ok).collect()
				}
				_ => batch
					.iter()
					.map(|t| {
						loaded.run_batch(&[t])?.into_iter().next().ok_or(EngineError::EmptyInput)
					})
					.collect(),
			};
			for ((i, _), result) in chunk.iter().zip(results) {
				if let Some(slot) = out.get_mut(*i) {
					*slot = Some(result);
				}
			}
		}
		Ok(out.into_iter().map(|r| r.unwrap_or(Err(EngineError::EmptyInput))).collect())
	}

	/// Runs `model` on several inputs as one batch.
	pub fn run_batch(&self, model: &ModelHash, inputs: &[&str]) -> Result<Vec<RunOutput>> {
		self.model(model)?.run_batch(inputs)
	}
}
