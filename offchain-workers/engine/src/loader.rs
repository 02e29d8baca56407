//! What every architecture shares when it loads: the store's files checked against the model's
//! id, the config parsed and validated, the weights turned into a var builder, the tokenizer set
//! up. The byte-level entry points (`*::from_bytes`) are what the fuzz targets drive.

use crate::{
	error::{EngineError, Result},
	store::{Manifest, ModelHash, ModelStore},
};
use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use std::path::{Path, PathBuf};
use tokenizers::{
	PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection, TruncationParams,
};

/// A model config the engine can check before building anything from it.
pub trait ModelConfig: serde::de::DeserializeOwned {
	/// Rejects configs the architecture cannot run, naming what is wrong.
	fn validate(&self) -> std::result::Result<(), String>;
}

/// Parses and validates `config`, then builds a network from `weights` with it. Every failure is
/// `BadConfig` (at `config_path`) or `BadWeights` (at `weights_path`); nothing panics, and nothing
/// is allocated from the config alone before the weights' shapes have been checked against it.
pub fn build<C: ModelConfig, M>(
	config: &[u8],
	config_path: &Path,
	weights: Vec<u8>,
	weights_path: &Path,
	device: &Device,
	build: impl FnOnce(VarBuilder<'static>, &C) -> candle_core::Result<M>,
) -> Result<(M, C)> {
	let bad_config =
		|message: String| EngineError::BadConfig { path: config_path.to_path_buf(), message };
	let cfg: C = serde_json::from_slice(config).map_err(|e| bad_config(e.to_string()))?;
	cfg.validate().map_err(bad_config)?;
	let bad = |e: candle_core::Error| EngineError::BadWeights {
		path: weights_path.to_path_buf(),
		message: e.to_string(),
	};
	let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, device).map_err(bad)?;
	let model = build(vb, &cfg).map_err(bad)?;
	Ok((model, cfg))
}

/// `build` over a config and weights held in memory (what the fuzz targets drive); errors name
/// the files as `config.json` and `model.safetensors`.
pub fn build_from_bytes<C: ModelConfig, M>(
	config: &[u8],
	weights: Vec<u8>,
	device: &Device,
	build_fn: impl FnOnce(VarBuilder<'static>, &C) -> candle_core::Result<M>,
) -> Result<M> {
	let config_path = Path::new("config.json");
	let weights_path = Path::new("model.safetensors");
	build(config, config_path, weights, weights_path, device, build_fn).map(|(model, _)| model)
}

/// The tokenizer of an encoder (embedding or classification): truncating to `max_length` tokens
/// at the end, padding a batch to its longest input.
pub(crate) fn encoder_tokenizer(
	store: &ModelStore,
	model: &ModelHash,
	max_length: usize,
) -> Result<Tokenizer> {
	tokenizer(store, model, max_length, TruncationDirection::Right, true)
}

/// A model's files, read from the store after its weights were checked against its id.
pub(crate) struct Files {
	pub manifest: Manifest,
	pub config: Vec<u8>,
	pub config_path: PathBuf,
	pub weights: Vec<u8>,
	pub weights_path: PathBuf,
}

impl Files {
	/// Reads `model`'s files, refusing a manifest of another architecture than `architecture`.
	pub fn read(store: &ModelStore, model: &ModelHash, architecture: &str) -> Result<Self> {
		let weights_path = store.verify(model)?;
		let manifest = store.manifest(model)?;
		if manifest.architecture != architecture {
			return Err(EngineError::BadConfig {
				path: store.path(model, "manifest"),
				message: format!("architecture {} is not {architecture}", manifest.architecture),
			});
		}
		let config_path = store.path(model, "config");
		let config = std::fs::read(&config_path).map_err(EngineError::io(&config_path))?;
		let weights = std::fs::read(&weights_path).map_err(EngineError::io(&weights_path))?;
		Ok(Self { manifest, config, config_path, weights, weights_path })
	}

	/// Builds the network these files describe.
	pub fn build<C: ModelConfig, M>(
		self,
		device: &Device,
		build: impl FnOnce(VarBuilder<'static>, &C) -> candle_core::Result<M>,
	) -> Result<(M, C, Manifest)> {
		let (model, cfg) = crate::loader::build(
			&self.config,
			&self.config_path,
			self.weights,
			&self.weights_path,
			device,
			build,
		)?;
		Ok((model, cfg, self.manifest))
	}
}

/// The model's tokenizer, truncating to `max_length` tokens from `direction` and, with `pad`,
/// padding a batch to its longest input (without, not padding at all).
pub(crate) fn tokenizer(
	store: &ModelStore,
	model: &ModelHash,
	max_length: usize,
	direction: TruncationDirection,
	pad: bool,
) -> Result<Tokenizer> {
	let err = |e: tokenizers::Error| EngineError::Tokenizer(e.to_string());
	let mut tokenizer = Tokenizer::from_file(store.path(model, "tokenizer")).map_err(err)?;
	tokenizer
		.with_truncation(Some(TruncationParams { max_length, direction, ..Default::default() }))
		.map_err(err)?;
	// Whatever padding the file asks for is replaced: batches pad to their longest input, and
	// a generator's prompt is never padded.
	tokenizer.with_padding(
		pad.then(|| PaddingParams {
			strategy: PaddingStrategy::BatchLongest,
			..Default::default()
		}),
	);
	Ok(tokenizer)
}

/// Index of the largest value, the lowest index on a tie; `None` for an empty slice or one with a
/// NaN. Workers must break ties the same way, so this is the only argmax the engine uses.
pub fn argmax(values: &[f32]) -> Option<usize> {
	if values.iter().any(|v| v.is_nan()) {
		return None;
	}
	first_max(values)
}

/// Index of the largest value, the lowest index on a tie; `None` for an empty slice.
pub fn first_max<T: PartialOrd + Copy>(values: &[T]) -> Option<usize> {
	let mut best: Option<(usize, T)> = None;
	for (i, &v) in values.iter().enumerate() {
		if best.is_none_or(|(_, b)| v > b) {
			best = Some((i, v));
		}
	}
	best.map(|(i, _)| i)
}
