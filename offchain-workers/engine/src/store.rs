//! Content-addressed model store: `<store>/<blake2-256 hex>.safetensors` with its
//! `<hash>.config.json`, `<hash>.tokenizer.json` and `<hash>.manifest.json`. A model's id is the
//! hash of its weights file; loading verifies it.

use crate::error::{EngineError, Result};
use serde::{Deserialize, Serialize};
use std::{
	fmt,
	io::Read,
	path::{Path, PathBuf},
};

/// A model's id: the blake2-256 hash of its weights file.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelHash(pub [u8; 32]);

impl ModelHash {
	/// Parses 64 hex digits, with or without `0x`.
	pub fn parse(s: &str) -> Result<Self> {
		let digits = s.strip_prefix("0x").unwrap_or(s);
		let mut out = [0u8; 32];
		hex::decode_to_slice(digits, &mut out).map_err(|_| EngineError::BadModelId(s.into()))?;
		Ok(Self(out))
	}

	/// Lower-case hex without prefix.
	pub fn to_hex(&self) -> String {
		hex::encode(self.0)
	}
}

impl fmt::Display for ModelHash {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(&self.to_hex())
	}
}

impl fmt::Debug for ModelHash {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "ModelHash({})", self.to_hex())
	}
}

/// How the store says a model is to be run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
	/// `text-embedding` (BERT with mean pooling and L2 normalisation), `text-classification`
	/// (BERT with a linear head) or `text-generation` (a llama-style decoder, greedy).
	pub architecture: String,
	/// Longest input in tokens; longer inputs are truncated (sentence-transformers'
	/// `max_seq_length`). For generation: prompt and generated tokens together.
	pub max_seq_length: usize,
	/// Most tokens one generation produces (generation only).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub max_new_tokens: Option<usize>,
}

impl Manifest {
	/// A manifest of `architecture` truncating inputs to `max_seq_length` tokens.
	pub fn new(architecture: &str, max_seq_length: usize) -> Self {
		Self { architecture: architecture.into(), max_seq_length, max_new_tokens: None }
	}
}

/// blake2-256 of a file, streamed.
pub fn hash_file(path: &Path) -> Result<ModelHash> {
	let mut file = std::fs::File::open(path).map_err(EngineError::io(path))?;
	let mut state = blake2_state();
	let mut buf = vec![0u8; 1 << 20];
	loop {
		let n = file.read(&mut buf).map_err(EngineError::io(path))?;
		if n == 0 {
			break;
		}
		state.update(buf.get(..n).unwrap_or_default());
	}
	let digest = state.finalize();
	let mut out = [0u8; 32];
	out.copy_from_slice(digest.as_bytes());
	Ok(ModelHash(out))
}

fn blake2_state() -> blake2b_simd::State {
	blake2b_simd::Params::new().hash_length(32).to_state()
}

/// A folder of models by hash.
#[derive(Clone, Debug)]
pub struct ModelStore {
	root: PathBuf,
}

impl ModelStore {
	/// The store at `root`.
	pub fn new(root: impl Into<PathBuf>) -> Self {
		Self { root: root.into() }
	}

	/// `$INFERA_MODEL_STORE`, else `$XDG_DATA_HOME/infera/models`, else
	/// `~/.local/share/infera/models`.
	pub fn default_location() -> PathBuf {
		if let Some(p) = std::env::var_os("INFERA_MODEL_STORE") {
			return PathBuf::from(p);
		}
		let data = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).unwrap_or_else(|| {
			let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| ".".into());
			home.join(".local").join("share")
		});
		data.join("infera").join("models")
	}

	/// The store's folder.
	pub fn root(&self) -> &Path {
		&self.root
	}

	/// Path of one of a model's files: `weights`, `config`, `tokenizer` or `manifest`.
	pub fn path(&self, model: &ModelHash, file: &str) -> PathBuf {
		let name = match file {
			"weights" => format!("{model}.safetensors"),
			other => format!("{model}.{other}.json"),
		};
		self.root.join(name)
	}

	/// Whether the store has the model's weights.
	pub fn contains(&self, model: &ModelHash) -> bool {
		self.path(model, "weights").is_file()
	}

	/// Copies a model folder (`model.safetensors`, `config.json`, `tokenizer.json`) into the
	/// store under the hash of its weights and writes its manifest; returns the hash.
	pub fn import(&self, folder: &Path, manifest: &Manifest) -> Result<ModelHash> {
		std::fs::create_dir_all(&self.root).map_err(EngineError::io(&self.root))?;
		let weights = folder.join("model.safetensors");
		let hash = hash_file(&weights)?;
		let copy = |from: PathBuf, to: PathBuf| -> Result<()> {
			std::fs::copy(&from, &to).map(|_| ()).map_err(EngineError::io(from))
		};
		copy(weights, self.path(&hash, "weights"))?;
		copy(folder.join("config.json"), self.path(&hash, "config"))?;
		copy(folder.join("tokenizer.json"), self.path(&hash, "tokenizer"))?;
		let manifest_path = self.path(&hash, "manifest");
		let text = serde_json::to_string_pretty(manifest).map_err(|e| EngineError::BadConfig {
			path: manifest_path.clone(),
			message: e.to_string(),
		})?;
		std::fs::write(&manifest_path, text).map_err(EngineError::io(&manifest_path))?;
		Ok(hash)
	}

	/// The model's manifest.
	pub fn manifest(&self, model: &ModelHash) -> Result<Manifest> {
		let path = self.path(model, "manifest");
		read_json(&path)
	}

	/// blake2-256 of the model's `config.json` and `tokenizer.json` in the store.
	pub fn file_hashes(&self, model: &ModelHash) -> Result<crate::engine::LoadedFiles> {
		Ok(crate::engine::LoadedFiles {
			config: hash_file(&self.path(model, "config"))?,
			tokenizer: hash_file(&self.path(model, "tokenizer"))?,
		})
	}

	/// Checks that the model is present and its weights hash to its id.
	pub fn verify(&self, model: &ModelHash) -> Result<PathBuf> {
		let path = self.path(model, "weights");
		if !path.is_file() {
			return Err(EngineError::ModelMissing { model: model.to_hex(), path });
		}
		let actual = hash_file(&path)?;
		if &actual != model {
			return Err(EngineError::HashMismatch {
				expected: model.to_hex(),
				actual: actual.to_hex(),
			});
		}
		Ok(path)
	}
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
	let text = std::fs::read_to_string(path).map_err(EngineError::io(path))?;
	serde_json::from_str(&text)
		.map_err(|e| EngineError::BadConfig { path: path.to_path_buf(), message: e.to_string() })
}
