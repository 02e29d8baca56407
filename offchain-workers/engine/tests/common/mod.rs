//! The seeded models of `infera_engine::synthetic`, imported once per test binary into a
//! temporary store and loaded by the engine's own loading code; the Hugging Face reference of
//! `bench/reference_models.py`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // reason: test code

use infera_engine::{synthetic, Engine, ModelHash, ModelStore};
use std::{path::PathBuf, sync::OnceLock};

pub const MINILM: &str = "a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563";
/// `[SEP]` in MiniLM's vocabulary: the seeded decoder's end-of-sequence token.
pub const EOS: u32 = 102;

pub struct Models {
	pub engine: Engine,
	pub llama: ModelHash,
	pub classifier: ModelHash,
	pub dir: PathBuf,
}

pub fn source() -> (ModelStore, ModelHash) {
	let store = ModelStore::new(ModelStore::default_location());
	let model = ModelHash::parse(MINILM).unwrap();
	assert!(store.contains(&model), "run scripts/fetch-model first");
	(store, model)
}

pub fn models() -> &'static Models {
	static MODELS: OnceLock<Models> = OnceLock::new();
	MODELS.get_or_init(|| {
		let (source, minilm) = source();
		let dir = scratch();
		let store = ModelStore::new(dir.join("store"));
		let llama =
			synthetic::import_llama(&store, &dir, &source.path(&minilm, "tokenizer"), EOS).unwrap();
		let classifier = synthetic::import_classifier(&store, &dir, &source, &minilm).unwrap();
		Models { engine: Engine::new(store), llama, classifier, dir }
	})
}

/// This process's folder for the seeded models (about 200 MB). A static is never dropped, so a
/// temporary directory held by one would outlive every run; instead each run removes the folders
/// of processes that have ended and uses one named by its own id.
fn scratch() -> PathBuf {
	let parent = std::env::temp_dir().join("infera-engine-test-models");
	if let Ok(entries) = std::fs::read_dir(&parent) {
		for entry in entries.flatten() {
			let pid = entry.file_name().to_string_lossy().parse::<u32>().ok();
			let alive = pid.is_some_and(|pid| PathBuf::from(format!("/proc/{pid}")).exists());
			if !alive {
				let _ = std::fs::remove_dir_all(entry.path());
			}
		}
	}
	let dir = parent.join(std::process::id().to_string());
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

#[derive(serde::Deserialize)]
pub struct Reference {
	pub generations: Vec<Generation>,
	pub classifications: Vec<Classification>,
}

#[derive(serde::Deserialize)]
pub struct Generation {
	pub prompt: String,
	pub prompt_ids: Vec<u32>,
	pub tokens: Vec<u32>,
	pub steps: Vec<Step>,
}

#[derive(serde::Deserialize)]
pub struct Step {
	pub top: u32,
	pub top_logit: f64,
	pub second_logit: f64,
}

#[derive(serde::Deserialize)]
pub struct Classification {
	pub text: String,
	pub logits: Vec<f64>,
	pub class: u32,
}

pub fn reference() -> Reference {
	serde_json::from_str(include_str!("../fixtures/synthetic_reference.json")).unwrap()
}
