//! Sentences per second of all-MiniLM-L6-v2 at batch 1 and batch 32 × 128 tokens:
//!
//!     cargo run --release -p infera-engine --example throughput [seconds]
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: a measurement tool

use infera_engine::{Engine, ModelHash, ModelStore};

fn main() {
	let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5.0);
	let engine = Engine::new(ModelStore::new(ModelStore::default_location()));
	let model =
		ModelHash::parse("a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563")
			.unwrap();
	let embedder = engine.embedder(&model).unwrap();
	for t in infera_engine::bench::measure(&embedder, seconds).unwrap() {
		println!("{:<24} {:>8.1} sentences/s", t.label, t.sentences_per_second);
	}
}
