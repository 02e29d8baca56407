//! Measures the honest spread of all-MiniLM-L6-v2's canonical outputs across thread counts,
//! batch sizes and padding, against single-input runs on one thread:
//!
//!     cargo run --release -p infera-engine --example calibrate
//!
//! Prints the smallest cosine and the largest element difference seen, which the model's ε and
//! δ must exceed by at least 10× (docs/adr/0006-minilm-tolerance-calibration.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: a measurement tool
#![allow(clippy::arithmetic_side_effects)] // reason: a measurement tool

use infera_engine::{Engine, ModelHash, ModelStore};
use infera_primitives::canonical::CanonicalOutput;

const MINILM: &str = "a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563";

fn sentences() -> Vec<String> {
	let mut s: Vec<String> = [
		"The quick brown fox jumps over the lazy dog.",
		"A fast auburn fox leaps above a sleepy hound.",
		"Infera settles inference jobs on chain.",
		"Ünïcödé, emoji 🚀 and numbers 12345 survive tokenisation.",
		"x",
		"What is the capital of France?",
		"Paris is the capital and most populous city of France.",
		"Stake-weighted randomness assigns a provider to every job.",
		"def fibonacci(n): return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
		"I loved this film, the acting was superb!",
		"Terrible service, I will never come back.",
	]
	.iter()
	.map(|s| s.to_string())
	.collect();
	s.push(["verification"; 300].join(" "));
	s.push(["honest providers compute the same embedding"; 12].join(", "));
	s
}

fn canon(o: &CanonicalOutput) -> &[i16] {
	match o {
		CanonicalOutput::Embedding(v) => v,
		_ => panic!("an embedding"),
	}
}

fn main() {
	let engine = Engine::new(ModelStore::new(ModelStore::default_location()));
	let model = ModelHash::parse(MINILM).unwrap();
	let texts = sentences();
	let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
	let run = |threads: usize, batch: usize| -> Vec<Vec<i16>> {
		// candle's matrix kernels read the thread count from this variable on every call.
		std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
		let mut out = Vec::new();
		for chunk in refs.chunks(batch) {
			// Pad each chunk to `batch` with a long input, so shorter texts carry padding.
			let mut inputs = chunk.to_vec();
			while inputs.len() < batch {
				inputs.push(refs[refs.len() - 1]);
			}
			let r = engine.run_batch(&model, &inputs).unwrap();
			out.extend(r.into_iter().take(chunk.len()).map(|o| canon(&o.canonical).to_vec()));
		}
		out
	};
	let baseline = run(1, 1);
	let mut min_cos = 1.0f64;
	let mut max_diff = 0u32;
	let mut rows = Vec::new();
	for threads in [1usize, 2] {
		for batch in [1usize, 4, 13, 32] {
			let variant = run(threads, batch);
			let (mut vc, mut vd) = (1.0f64, 0u32);
			for (a, b) in baseline.iter().zip(&variant) {
				let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
				let na = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
				let nb = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
				vc = vc.min(dot / (na * nb));
				let d = a
					.iter()
					.zip(b)
					.map(|(x, y)| (i32::from(*x) - i32::from(*y)).unsigned_abs())
					.max()
					.unwrap_or(0);
				vd = vd.max(d);
			}
			min_cos = min_cos.min(vc);
			max_diff = max_diff.max(vd);
			rows.push(format!(
				"threads {threads}, batch {batch:>2}: 1 - min cosine {:.3e}, max element diff {vd}",
				1.0 - vc
			));
		}
	}
	for r in rows {
		println!("{r}");
	}
	println!("overall: 1 - min cosine {:.3e}, max element diff {max_diff} steps", 1.0 - min_cos);
}
