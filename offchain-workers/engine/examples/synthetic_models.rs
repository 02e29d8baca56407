//! Writes the seeded test models (`infera_engine::synthetic`) as model folders under a directory,
//! for `bench/reference_models.py` to run with Hugging Face transformers:
//!   cargo run -p infera-engine --example synthetic_models -- /tmp/infera-synthetic
#![allow(clippy::expect_used)] // reason: a developer tool; failing loudly is what it should do

use infera_engine::{synthetic, ModelHash, ModelStore};
use std::path::PathBuf;

const MINILM: &str = "a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563";

fn main() {
	let out = PathBuf::from(std::env::args().nth(1).expect("usage: synthetic_models <dir>"));
	let store = ModelStore::new(ModelStore::default_location());
	let minilm = ModelHash::parse(MINILM).expect("hash");
	let tokenizer = store.path(&minilm, "tokenizer");
	synthetic::write_llama(
		&out.join("llama"),
		&synthetic::LlamaShape::small(),
		synthetic::SEED,
		&tokenizer,
		102,
	)
	.expect("write the decoder");
	synthetic::write_classifier(&out.join("classifier"), &store, &minilm, synthetic::SEED)
		.expect("write the classifier (run scripts/fetch-model first)");
	println!("{}", out.display());
}
