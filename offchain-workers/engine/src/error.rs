//! What can go wrong when loading or running a model.

use std::path::PathBuf;

/// The engine's error type.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
	/// The store has no file for this model.
	#[error("model {model} is not in the store ({path}); fetch it with scripts/fetch-model")]
	ModelMissing { model: String, path: PathBuf },
	/// The weights file does not hash to the model's id.
	#[error("weights of model {expected} hash to {actual}: the file is corrupt or not this model")]
	HashMismatch { expected: String, actual: String },
	/// The store's `config.json` or `tokenizer.json` of a model is not the file the caller (the
	/// chain's registry) names: running it would not be running the registered model.
	#[error(
		"model {model}: the store's {file} hashes to {actual} but the registry names {expected}: \
		 this store does not hold the registered model; fetch its registered files"
	)]
	FileMismatch { model: String, file: &'static str, expected: String, actual: String },
	/// A model id is not 64 hex digits.
	#[error("`{0}` is not a model hash (64 hex digits, optionally 0x-prefixed)")]
	BadModelId(String),
	/// A model file could not be read or written.
	#[error("{path}: {source}")]
	Io { path: PathBuf, source: std::io::Error },
	/// `config.json` or the manifest is not what the engine expects.
	#[error("{path}: {message}")]
	BadConfig { path: PathBuf, message: String },
	/// The weights file is not valid safetensors for this model: a truncated file, a header
	/// that lies about shapes or dtypes, or tensors the config does not describe.
	#[error("{path}: the weights do not load: {message}")]
	BadWeights { path: PathBuf, message: String },
	/// The input is not UTF-8 text.
	#[error("the input is not UTF-8 text (invalid byte at offset {0})")]
	InvalidUtf8(usize),
	/// The tokenizer failed.
	#[error("tokenizer: {0}")]
	Tokenizer(String),
	/// Tensor maths failed (shapes, missing weights, device).
	#[error("model: {0}")]
	Candle(#[from] candle_core::Error),
	/// The output has no canonical form (e.g. NaN).
	#[error("output has no canonical form: {0:?}")]
	Canonical(infera_primitives::canonical::CanonicalError),
	/// The input is empty.
	#[error("the input is empty")]
	EmptyInput,
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, EngineError>;

impl EngineError {
	pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
		let path = path.into();
		move |source| Self::Io { path, source }
	}
}
