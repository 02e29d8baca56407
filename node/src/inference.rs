//! `infera-node inference run|bench|verify`: the engine outside the chain, for providers checking
//! their setup and validators reproducing a disputed job.

use codec::Decode;
use infera_engine::{compare, Engine, ModelHash, ModelStore};
use infera_primitives::{canonical::CanonicalOutput, Architecture, EmbeddingTolerance};
use sp_runtime::Perbill;
use std::{path::PathBuf, time::Instant};

/// Where the models are.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
	/// Model store folder (default: $INFERA_MODEL_STORE or ~/.local/share/infera/models).
	#[arg(long)]
	pub store: Option<PathBuf>,
	/// The model: blake2-256 hash of its weights (64 hex digits).
	#[arg(long)]
	pub model: String,
}

impl StoreArgs {
	fn open(&self) -> Result<(Engine, ModelHash), String> {
		let model = ModelHash::parse(&self.model).map_err(|e| e.to_string())?;
		let root = self.store.clone().unwrap_or_else(ModelStore::default_location);
		Ok((Engine::new(ModelStore::new(root)), model))
	}
}

/// Inference without a chain.
#[derive(Debug, clap::Subcommand)]
pub enum InferenceCmd {
	/// Runs a model on one input and prints the output hash (with `--json`, the output too).
	Run {
		#[command(flatten)]
		store: StoreArgs,
		/// The input text.
		#[arg(long)]
		input: String,
		/// Print a JSON object: model, output_hash, dimensions, embedding, canonical output.
		#[arg(long)]
		json: bool,
	},
	/// Measures throughput at batch 1 (a short sentence) and batch 32 (128-token inputs).
	Bench {
		#[command(flatten)]
		store: StoreArgs,
		/// Seconds to measure each batch size.
		#[arg(long, default_value_t = 5.0)]
		seconds: f64,
	},
	/// Re-runs a model and judges a claimed output (hex of the SCALE-encoded canonical output, as
	/// revealed on chain) with the runtime's tolerance rule.
	Verify {
		#[command(flatten)]
		store: StoreArgs,
		/// The input text.
		#[arg(long)]
		input: String,
		/// The claimed output, hex (0x optional).
		#[arg(long)]
		output: String,
		/// The model's ε as a fraction (its registry entry's `min_cosine` = 1 − ε).
		#[arg(long, default_value_t = infera_engine::calibration::MINILM_EPSILON)]
		epsilon: f64,
		/// The model's δ in quantisation steps (its registry entry's `max_element_diff`).
		#[arg(long, default_value_t = infera_engine::calibration::MINILM_DELTA)]
		delta: u16,
	},
}

impl InferenceCmd {
	/// Runs the subcommand, printing to stdout.
	pub fn run(&self) -> Result<(), String> {
		match self {
			Self::Run { store, input, json } => {
				let (engine, model) = store.open()?;
				let started = Instant::now();
				let out = engine.run(&model, input).map_err(|e| e.to_string())?;
				let elapsed = started.elapsed();
				let hash = format!("0x{}", hex::encode(out.output_hash));
				if *json {
					let value = serde_json::json!({
						"model": format!("0x{model}"),
						"input": input,
						"output_hash": hash,
						"dimensions": out.embedding.len(),
						"embedding": out.embedding,
						"canonical": format!("0x{}", hex::encode(&out.encoded)),
						"elapsed_ms": elapsed.as_secs_f64() * 1e3,
					});
					println!("{value}");
				} else {
					println!("{hash}");
				}
				Ok(())
			}
			Self::Bench { store, seconds } => {
				let (engine, model) = store.open()?;
				let embedder = engine.model(&model).map_err(|e| e.to_string())?;
				let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
				println!("model 0x{model}, {threads} threads");
				for t in
					infera_engine::bench::measure(&embedder, *seconds).map_err(|e| e.to_string())?
				{
					println!("{:<24} {:>8.1} sentences/s", t.label, t.sentences_per_second);
				}
				Ok(())
			}
			Self::Verify { store, input, output, epsilon, delta } => {
				let (engine, model) = store.open()?;
				let bytes = hex::decode(output.trim_start_matches("0x"))
					.map_err(|e| format!("--output is not hex: {e}"))?;
				let claimed = CanonicalOutput::decode(&mut bytes.as_slice())
					.map_err(|e| format!("--output is not a canonical output: {e}"))?;
				let mine = engine.run(&model, input).map_err(|e| e.to_string())?;
				let min_cosine = Perbill::from_float(1.0 - epsilon);
				let architecture = Architecture::TextEmbedding {
					dimensions: mine.embedding.len() as u32,
					tolerance: EmbeddingTolerance { min_cosine, max_element_diff: *delta },
				};
				let c = compare(&architecture, &mine.canonical, &claimed);
				let pass = c.verdict == infera_primitives::tolerance::Verdict::Pass;
				println!(
					"{}: cosine {:.9} (needs ≥ {:.9}), max element difference {} (allowed {}), verdict {:?}",
					if pass { "PASS" } else { "FAIL" },
					c.cosine,
					1.0 - epsilon,
					c.max_element_diff,
					delta,
					c.verdict
				);
				if pass {
					Ok(())
				} else {
					Err("the claimed output does not match within tolerance".into())
				}
			}
		}
	}
}
