//! Measures the honest spread of all-MiniLM-L6-v2's canonical outputs across thread counts,
//! batch sizes and padding, against single-input runs on one thread:
//!
//!     cargo run --release -p infera-engine --example calibrate
//!
//! Prints the smallest cosine and the largest element difference seen, which the model's ε and
//! δ must exceed by at least 10× (docs/adr/0006-minilm-tolerance-calibration.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: a measurement tool
#![allow(clippy::arithmetic_side_effects)] // reason: a measurement tool

use candle_core::Device;
use infera_engine::{synthetic, Engine, LoadedModel, ModelHash, ModelStore};
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

/// Runs `refs` through `engine` in chunks of `batch` on `threads` threads; each chunk is padded
/// to `batch` with the longest input, so shorter texts carry padding.
fn embed(engine: &Engine, refs: &[&str], threads: usize, batch: usize) -> Vec<Vec<i16>> {
	let model = ModelHash::parse(MINILM).unwrap();
	// candle's matrix kernels read the thread count from this variable on every call.
	std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
	// The engine's own kernels split work over the rayon pool they run in.
	let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
	pool.install(|| embed_chunks(engine, &model, refs, batch))
}

fn embed_chunks(engine: &Engine, model: &ModelHash, refs: &[&str], batch: usize) -> Vec<Vec<i16>> {
	let mut out = Vec::new();
	for chunk in refs.chunks(batch) {
		let mut inputs = chunk.to_vec();
		while inputs.len() < batch {
			inputs.push(refs[refs.len() - 1]);
		}
		let r = engine.run_batch(model, &inputs).unwrap();
		out.extend(r.into_iter().take(chunk.len()).map(|o| canon(&o.canonical).to_vec()));
	}
	out
}

/// The smallest cosine and the largest element difference (in quantisation steps) between two
/// runs over the same inputs.
fn spread(baseline: &[Vec<i16>], variant: &[Vec<i16>]) -> (f64, u32) {
	let (mut vc, mut vd) = (1.0f64, 0u32);
	for (a, b) in baseline.iter().zip(variant) {
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
	(vc, vd)
}

fn main() {
	// The CPU explicitly: a build with the `cuda` feature would otherwise compute on the GPU.
	let engine = Engine::with_device(ModelStore::new(ModelStore::default_location()), Device::Cpu);
	let texts = sentences();
	let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
	let baseline = embed(&engine, &refs, 1, 1);
	// Every kernel family computes the same bits: runs with INFERA_KERNELS=avx2 or portable
	// print the same digest.
	let digest = blake2b_simd::blake2b(
		&baseline.iter().flatten().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(),
	);
	println!(
		"{:?} kernels: digest of the baseline outputs {}",
		infera_kernels::Isa::detected(),
		&digest.to_hex()[..16]
	);
	if std::env::args().any(|a| a == "digest") {
		return;
	}
	let mut min_cos = 1.0f64;
	let mut max_diff = 0u32;
	let mut rows = Vec::new();
	for threads in [1usize, 2, 4] {
		for batch in [1usize, 4, 13, 32] {
			let (vc, vd) = spread(&baseline, &embed(&engine, &refs, threads, batch));
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
	let synthetic = Synthetic::import();
	synthetic_models(&refs, &synthetic);
	#[cfg(feature = "cuda")]
	cuda::compare(&refs, &baseline, &synthetic);
}

/// The seeded classifier and decoder, imported into a store of their own.
struct Synthetic {
	_dir: tempfile::TempDir,
	store: std::path::PathBuf,
	classifier: ModelHash,
	llama: ModelHash,
}

impl Synthetic {
	fn import() -> Self {
		let dir = tempfile::tempdir().unwrap();
		let source = ModelStore::new(ModelStore::default_location());
		let minilm = ModelHash::parse(MINILM).unwrap();
		let store = dir.path().join("store");
		let target = ModelStore::new(store.clone());
		let classifier =
			synthetic::import_classifier(&target, dir.path(), &source, &minilm).unwrap();
		let llama =
			synthetic::import_llama(&target, dir.path(), &source.path(&minilm, "tokenizer"), 102)
				.unwrap();
		Self { _dir: dir, store, classifier, llama }
	}

	fn engine(&self, device: Device) -> Engine {
		Engine::with_device(ModelStore::new(self.store.clone()), device)
	}
}

fn logits(o: &CanonicalOutput) -> Vec<i32> {
	match o {
		CanonicalOutput::Classification { logits, .. } => logits.clone(),
		_ => panic!("a classification"),
	}
}

/// The classifier's fixed-point logits for `refs`, in padded chunks of `batch`.
fn classify(engine: &Engine, model: &ModelHash, refs: &[&str], batch: usize) -> Vec<Vec<i32>> {
	let mut out = Vec::new();
	for chunk in refs.chunks(batch) {
		let mut inputs = chunk.to_vec();
		while inputs.len() < batch {
			inputs.push(refs[refs.len() - 1]);
		}
		let r = engine.run_batch(model, &inputs).unwrap();
		out.extend(r.into_iter().take(chunk.len()).map(|o| logits(&o.canonical)));
	}
	out
}

/// The largest absolute difference between two sets of fixed-point logits.
fn logit_diff(a: &[Vec<i32>], b: &[Vec<i32>]) -> u64 {
	a.iter()
		.zip(b)
		.flat_map(|(a, b)| {
			a.iter().zip(b).map(|(x, y)| (i64::from(*x) - i64::from(*y)).unsigned_abs())
		})
		.max()
		.unwrap_or(0)
}

/// The seeded classifier and decoder: the largest fixed-point logit difference between honest
/// variants (1 or 2 threads; the classifier also in padded batches of 4 and 13; the decoder's
/// cached generation against the checker's one full pass), which the tie margin and τ must
/// exceed by at least 10×.
fn synthetic_models(refs: &[&str], set: &Synthetic) {
	let engine = set.engine(Device::Cpu);
	let (classifier, llama) = (&set.classifier, &set.llama);
	let classify = |threads: usize, batch: usize| -> Vec<Vec<i32>> {
		std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
		let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
		pool.install(|| classify(&engine, classifier, refs, batch))
	};
	let baseline = classify(1, 1);
	let mut worst = 0u32;
	for threads in [1usize, 2, 4] {
		for batch in [1usize, 4, 13] {
			let d = logit_diff(&baseline, &classify(threads, batch));
			println!(
				"classifier, threads {threads}, batch {batch:>2}: max logit diff {d} (2^-16 units)"
			);
			worst = worst.max(d as u32);
		}
	}
	println!("classifier overall: max logit diff {worst}");
	// Another implementation as the other honest worker: transformers in float64 on the same
	// files (bench/reference_models.py), as a GPU or another CPU kernel would differ.
	let reference: serde_json::Value =
		serde_json::from_str(include_str!("../tests/fixtures/synthetic_reference.json")).unwrap();
	let scale = infera_primitives::LOGIT_SCALE as f64;
	let mut cross = 0f64;
	for case in reference["classifications"].as_array().unwrap() {
		let out = engine.run(classifier, case["text"].as_str().unwrap()).unwrap();
		for (mine, theirs) in logits(&out.canonical).iter().zip(case["logits"].as_array().unwrap())
		{
			cross = cross.max((f64::from(*mine) - theirs.as_f64().unwrap() * scale).abs());
		}
	}
	println!("classifier vs transformers float64: max logit diff {cross:.1} (2^-16 units)");

	let LoadedModel::Generation(g) = &*engine.model(llama).unwrap() else { panic!("a generator") };
	let mut worst = 0i64;
	let mut diverged = 0usize;
	std::env::set_var("RAYON_NUM_THREADS", "1");
	let baseline: Vec<_> = refs.iter().map(|t| g.generate(t).unwrap().tokens).collect();
	let checks = |_: ()| -> Vec<Vec<i32>> {
		refs.iter()
			.zip(&baseline)
			.map(|(t, tokens)| g.check(t, tokens).unwrap().iter().map(|s| s.top_logit).collect())
			.collect()
	};
	let one_thread = checks(());
	std::env::set_var("RAYON_NUM_THREADS", "2");
	let logit_spread = one_thread
		.iter()
		.zip(checks(()))
		.flat_map(|(a, b)| {
			a.iter().zip(b).map(|(x, y)| (i64::from(*x) - i64::from(y)).abs()).collect::<Vec<_>>()
		})
		.max()
		.unwrap_or(0);
	println!("decoder: checker's logits, 1 vs 2 threads: max diff {logit_spread} (2^-16 units)");
	let mut cross = 0f64;
	for case in reference["generations"].as_array().unwrap() {
		let tokens: Vec<u32> =
			case["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
		let steps = g.check(case["prompt"].as_str().unwrap(), &tokens).unwrap();
		for (mine, theirs) in steps.iter().zip(case["steps"].as_array().unwrap()) {
			let theirs = theirs["top_logit"].as_f64().unwrap() * scale;
			cross = cross.max((f64::from(mine.top_logit) - theirs).abs());
		}
	}
	println!("decoder vs transformers float64: max top-logit diff {cross:.1} (2^-16 units)");
	for threads in [1usize, 2] {
		std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
		for (text, tokens) in refs.iter().zip(&baseline) {
			if g.generate(text).unwrap().tokens != *tokens {
				diverged += 1;
			}
			// The checker's full pass against the cached generation: its choice and logits.
			for step in g.check(text, tokens).unwrap() {
				worst = worst.max(i64::from(step.top_logit) - i64::from(step.candidate_logit));
			}
		}
	}
	println!(
		"decoder: {diverged} generations differ across threads; largest shortfall of a generated token's logit under the checker's top {worst} (2^-16 units)"
	);
}

/// CPU against CUDA (built with `--features cuda`, run where a GPU is): the same inputs through
/// the same files on the GPU, in full f32 and with TF32 matrix units, against the CPU's
/// single-input, single-thread baseline. The GPU margins of ε, δ, the tie margin and τ are set from
/// these figures (docs/adr/0006 and 0008).
#[cfg(feature = "cuda")]
mod cuda {
	use super::*;
	use std::time::Instant;

	pub fn compare(refs: &[&str], baseline: &[Vec<i16>], set: &Synthetic) {
		let device = match Device::new_cuda(0) {
			Ok(d) => d,
			Err(e) => {
				println!("CUDA: no device ({e}); nothing compared");
				return;
			}
		};
		let gpu =
			Engine::with_device(ModelStore::new(ModelStore::default_location()), device.clone());
		let cpu_models = set.engine(Device::Cpu);
		let gpu_models = set.engine(device);
		std::env::set_var("RAYON_NUM_THREADS", "1");
		let cpu_logits = classify(&cpu_models, &set.classifier, refs, 1);
		let LoadedModel::Generation(cpu_g) = &*cpu_models.model(&set.llama).unwrap() else {
			panic!("a generator")
		};
		let cpu_tokens: Vec<_> = refs.iter().map(|t| cpu_g.generate(t).unwrap().tokens).collect();
		let cpu_checks: Vec<Vec<i32>> = refs
			.iter()
			.zip(&cpu_tokens)
			.map(|(t, k)| cpu_g.check(t, k).unwrap().iter().map(|s| s.top_logit).collect())
			.collect();
		let LoadedModel::Generation(gpu_g) = &*gpu_models.model(&set.llama).unwrap() else {
			panic!("a generator")
		};
		for tf32 in [false, true] {
			candle_core::cuda::set_gemm_reduced_precision_f32(tf32);
			let mode = if tf32 { "CUDA TF32" } else { "CUDA f32 " };
			let (mut min_cos, mut max_diff) = (1.0f64, 0u32);
			for batch in [1usize, 4, 13, 32] {
				let started = Instant::now();
				let variant = embed(&gpu, refs, 1, batch);
				let took = started.elapsed();
				let (vc, vd) = spread(baseline, &variant);
				min_cos = min_cos.min(vc);
				max_diff = max_diff.max(vd);
				println!(
					"{mode} vs CPU, MiniLM batch {batch:>2}: 1 - min cosine {:.3e}, max element diff {vd} steps ({took:.1?})",
					1.0 - vc
				);
			}
			println!(
				"{mode} vs CPU, MiniLM overall: 1 - min cosine {:.3e}, max element diff {max_diff} steps",
				1.0 - min_cos
			);
			for batch in [1usize, 4, 13] {
				let d =
					logit_diff(&cpu_logits, &classify(&gpu_models, &set.classifier, refs, batch));
				println!(
					"{mode} vs CPU, classifier batch {batch:>2}: max logit diff {d} (2^-16 units)"
				);
			}
			let mut diverged = 0usize;
			let mut shortfall = 0i64;
			for (text, tokens) in refs.iter().zip(&cpu_tokens) {
				if gpu_g.generate(text).unwrap().tokens != *tokens {
					diverged += 1;
				}
				for step in gpu_g.check(text, tokens).unwrap() {
					shortfall =
						shortfall.max(i64::from(step.top_logit) - i64::from(step.candidate_logit));
				}
			}
			let gpu_checks: Vec<Vec<i32>> = refs
				.iter()
				.zip(&cpu_tokens)
				.map(|(t, k)| gpu_g.check(t, k).unwrap().iter().map(|s| s.top_logit).collect())
				.collect();
			println!(
				"{mode} vs CPU, decoder: checker's top logits max diff {} (2^-16 units); {diverged} of {} generations differ; largest shortfall of a CPU-generated token under the GPU checker's top {shortfall}",
				logit_diff(&cpu_checks, &gpu_checks),
				refs.len()
			);
		}
		candle_core::cuda::set_gemm_reduced_precision_f32(false);
	}
}
