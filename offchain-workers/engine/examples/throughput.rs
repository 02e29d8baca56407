//! Sentences per second of all-MiniLM-L6-v2 at batch 1 and batch 32 × 128 tokens, and (with
//! `worker`) what the offchain worker's batching gives on a block's worth of mixed-length jobs:
//!
//!     cargo run --release -p infera-engine --example throughput [seconds] [worker]
//!
//! The worker cases run 64 inputs of 8–256 and of 8–24 tokens (`bench::mixed_corpus`, seed 18)
//! as the worker did before batching (one `run_bytes_checked` a job) and as it does now
//! (`run_bytes_checked_many`), alternating for 3 rounds, and print the medians.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: a measurement tool
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)] // reason: a measurement tool

use infera_engine::{Engine, ExpectedFiles, ModelHash, ModelStore};
use std::time::Instant;

fn main() {
	let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5.0);
	let worker = std::env::args().any(|a| a == "worker");
	let engine = Engine::new(ModelStore::new(ModelStore::default_location()));
	let model =
		ModelHash::parse("a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563")
			.unwrap();
	let embedder = engine.embedder(&model).unwrap();
	if !worker {
		let mixed = infera_engine::bench::mixed_corpus(&embedder, 64, 18, (8, 256)).unwrap();
		let tokens: usize = mixed.iter().map(|t| embedder.token_count(t).unwrap()).sum();
		println!("mixed corpus: {} sentences, {tokens} tokens", mixed.len());
		// The CPU's peak, for the engine's GFLOP/s to be read against (not a GPU's).
		#[cfg(not(feature = "cuda"))]
		println!(
			"FMA peak {:.1} GFLOP/s measured ({:?} kernels, {} threads)",
			infera_kernels::fma_peak_gflops(1.0),
			infera_kernels::Isa::detected(),
			rayon::current_num_threads()
		);
		for t in infera_engine::bench::measure(&embedder, seconds).unwrap() {
			println!(
				"{:<30} {:>8.1} sentences/s, {:.1} GFLOP/s",
				t.label, t.sentences_per_second, t.gflops_per_second
			);
		}
		return;
	}
	for (label, tokens) in [("mixed, 8-256 tokens", (8, 256)), ("short, 8-24 tokens", (8, 24))] {
		let corpus = infera_engine::bench::mixed_corpus(&embedder, 64, 18, tokens).unwrap();
		worker_case(&engine, &model, label, &corpus);
	}
}

/// A block's worth of jobs one by one and in worker batches, alternating for 3 rounds.
fn worker_case(engine: &Engine, model: &ModelHash, label: &str, corpus: &[String]) {
	let embedder = engine.embedder(model).unwrap();
	let inputs: Vec<&[u8]> = corpus.iter().map(|t| t.as_bytes()).collect();
	let expected = ExpectedFiles::default();
	let tokens: usize = corpus.iter().map(|t| embedder.token_count(t).unwrap()).sum();
	// Warm-up outside the measurement (a GPU compiles its kernels on first use).
	engine.run_bytes_checked_many(model, &expected, &inputs).unwrap();
	let (mut one_by_one, mut batched) = (Vec::new(), Vec::new());
	for _ in 0..3 {
		let started = Instant::now();
		for input in &inputs {
			engine.run_bytes_checked(model, &expected, input).unwrap();
		}
		one_by_one.push(inputs.len() as f64 / started.elapsed().as_secs_f64());
		let started = Instant::now();
		let out = engine.run_bytes_checked_many(model, &expected, &inputs).unwrap();
		batched.push(inputs.len() as f64 / started.elapsed().as_secs_f64());
		assert!(out.iter().all(Result::is_ok));
	}
	let median = |v: &mut Vec<f64>| {
		v.sort_by(f64::total_cmp);
		v[v.len() / 2]
	};
	let (a, b) = (median(&mut one_by_one), median(&mut batched));
	println!(
		"worker, {label} ({} jobs, {tokens} tokens): one by one {a:.1} jobs/s, in worker batches {b:.1} jobs/s: {:.2}x (medians of 3 alternating rounds)",
		inputs.len(),
		b / a
	);
}
