//! Bad models and bad inputs: each is a named error from the engine, never a panic. Broken models
//! are made from the real all-MiniLM-L6-v2 and stored under their own hash, so they pass the hash
//! check and reach the loading code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use infera_engine::{Engine, EngineError, Manifest, ModelHash, ModelStore};
use std::path::Path;

const MINILM: &str = "a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563";

fn source() -> (ModelStore, ModelHash) {
	let store = ModelStore::new(ModelStore::default_location());
	let model = ModelHash::parse(MINILM).unwrap();
	assert!(store.contains(&model), "run scripts/fetch-model first");
	(store, model)
}

/// Stores MiniLM with its weights bytes, config and manifest changed by the callers; returns the
/// engine over the new store and the altered model's hash.
fn altered(
	dir: &Path,
	weights: impl FnOnce(Vec<u8>) -> Vec<u8>,
	config: impl FnOnce(serde_json::Value) -> serde_json::Value,
	manifest: Manifest,
) -> (Engine, ModelHash) {
	let (store, model) = source();
	let folder = dir.join("model");
	std::fs::create_dir_all(&folder).unwrap();
	let bytes = weights(std::fs::read(store.path(&model, "weights")).unwrap());
	std::fs::write(folder.join("model.safetensors"), bytes).unwrap();
	let cfg: serde_json::Value =
		serde_json::from_str(&std::fs::read_to_string(store.path(&model, "config")).unwrap())
			.unwrap();
	std::fs::write(folder.join("config.json"), config(cfg).to_string()).unwrap();
	std::fs::copy(store.path(&model, "tokenizer"), folder.join("tokenizer.json")).unwrap();
	let target = ModelStore::new(dir.join("store"));
	let hash = target.import(&folder, &manifest).unwrap();
	(Engine::new(target), hash)
}

fn text_embedding() -> Manifest {
	Manifest::new("text-embedding", 256)
}

/// The safetensors header: 8 bytes of little-endian length, then JSON.
fn edit_header(mut bytes: Vec<u8>, edit: impl FnOnce(&str) -> String) -> Vec<u8> {
	let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
	let header = std::str::from_utf8(&bytes[8..8 + len]).unwrap().to_string();
	let edited = edit(&header);
	assert_eq!(edited.len(), header.len(), "the edit keeps the header's length");
	assert_ne!(edited, header, "the edit changed something");
	bytes.splice(8..8 + len, edited.into_bytes());
	bytes
}

fn load_error(engine: &Engine, model: &ModelHash) -> EngineError {
	match engine.run(model, "hello") {
		Ok(_) => panic!("a broken model ran"),
		Err(e) => e,
	}
}

#[test]
fn a_truncated_weights_file_is_bad_weights() {
	let dir = tempfile::tempdir().unwrap();
	let (engine, model) =
		altered(dir.path(), |b| b[..b.len() / 2].to_vec(), |c| c, text_embedding());
	let err = load_error(&engine, &model);
	assert!(matches!(err, EngineError::BadWeights { .. }), "{err}");
	assert!(err.to_string().contains("the weights do not load"), "{err}");
}

#[test]
fn a_header_lying_about_a_shape_is_bad_weights() {
	let dir = tempfile::tempdir().unwrap();
	let (engine, model) = altered(
		dir.path(),
		|b| edit_header(b, |h| h.replacen("[384,384]", "[385,384]", 1)),
		|c| c,
		text_embedding(),
	);
	let err = load_error(&engine, &model);
	assert!(matches!(err, EngineError::BadWeights { .. }), "{err}");
}

#[test]
fn a_header_lying_about_a_dtype_is_bad_weights() {
	let dir = tempfile::tempdir().unwrap();
	let (engine, model) = altered(
		dir.path(),
		|b| edit_header(b, |h| h.replacen("\"F32\"", "\"F16\"", 1)),
		|c| c,
		text_embedding(),
	);
	let err = load_error(&engine, &model);
	assert!(matches!(err, EngineError::BadWeights { .. }), "{err}");
}

#[test]
fn a_config_for_another_architecture_is_a_bad_config() {
	let dir = tempfile::tempdir().unwrap();
	let (engine, model) = altered(
		dir.path(),
		|b| b,
		|mut c| {
			c["model_type"] = "llama".into();
			c
		},
		text_embedding(),
	);
	let err = load_error(&engine, &model);
	assert!(matches!(err, EngineError::BadConfig { .. }), "{err}");
	assert!(err.to_string().contains("`llama` model, not BERT"), "{err}");

	// A config that disagrees with the weights' shapes fails at load, naming the weights.
	let dir = tempfile::tempdir().unwrap();
	let (engine, model) = altered(
		dir.path(),
		|b| b,
		|mut c| {
			c["intermediate_size"] = 1024.into();
			c
		},
		text_embedding(),
	);
	let err = load_error(&engine, &model);
	assert!(matches!(err, EngineError::BadWeights { .. }), "{err}");

	// A config missing what a BERT needs is a bad config, not a panic.
	let dir = tempfile::tempdir().unwrap();
	let (engine, model) = altered(dir.path(), |b| b, |_| serde_json::json!({}), text_embedding());
	assert!(matches!(load_error(&engine, &model), EngineError::BadConfig { .. }));

	// A manifest naming an architecture the engine does not run.
	let dir = tempfile::tempdir().unwrap();
	let manifest = Manifest::new("generation", 256);
	let (engine, model) = altered(dir.path(), |b| b, |c| c, manifest);
	assert!(matches!(load_error(&engine, &model), EngineError::BadConfig { .. }));
}

#[test]
fn empty_invalid_and_overlong_inputs() {
	let (store, model) = source();
	let engine = Engine::new(store);
	assert!(matches!(engine.run(&model, ""), Err(EngineError::EmptyInput)));
	assert!(matches!(engine.run_bytes(&model, b""), Err(EngineError::EmptyInput)));
	let err = engine.run_bytes(&model, b"caf\xc3\x28 au lait").unwrap_err();
	assert!(matches!(err, EngineError::InvalidUtf8(3)), "{err}");
	// Far over the maximum length: truncated to 256 tokens, as sentence-transformers does, so
	// it is exactly the embedding of its first 254 words ("hello" is one word piece).
	let embedder = engine.embedder(&model).unwrap();
	assert_eq!(embedder.token_count("hello").unwrap(), 3, "[CLS] hello [SEP]");
	let long = "hello ".repeat(5_000);
	assert_eq!(embedder.token_count(&long).unwrap(), 256);
	let out = engine.run(&model, &long).unwrap();
	let prefix = engine.run(&model, "hello ".repeat(254).trim_end()).unwrap();
	assert_eq!(out.output_hash, prefix.output_hash);
}
