//! `infera-node inference run|bench|verify`: the engine outside the chain, for providers checking
//! their setup and validators reproducing a disputed job. Any architecture the engine runs
//! (text embedding, classification, generation); `bench` measures embedding models.

use codec::Decode;
use infera_engine::{
	compare, store::hash_file, Engine, LoadedModel, Manifest, ModelHash, ModelStore, Output,
};
use infera_primitives::{
	canonical::CanonicalOutput,
	tolerance::{compare_generation, Check},
	Architecture, ClassificationTolerance, EmbeddingTolerance, GenerationTolerance,
};
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
	/// Adds a model folder (`model.safetensors`, `config.json`, `tokenizer.json`) to the store
	/// under the hash of its weights, checks that it loads, and prints (as JSON) the model id and
	/// the file hashes and size to register it on chain with.
	Import {
		/// Model store folder (default: $INFERA_MODEL_STORE or ~/.local/share/infera/models).
		#[arg(long)]
		store: Option<PathBuf>,
		/// The folder holding the model's files.
		#[arg(long)]
		folder: PathBuf,
		/// `text-embedding`, `text-classification` or `text-generation`.
		#[arg(long)]
		architecture: String,
		/// Longest input in tokens (for generation: prompt and generated tokens together).
		#[arg(long)]
		max_seq_length: usize,
		/// Most tokens one generation produces (generation only).
		#[arg(long)]
		max_new_tokens: Option<usize>,
	},
	/// Runs a model on one input and prints the output hash (with `--json`, the output too).
	Run {
		#[command(flatten)]
		store: StoreArgs,
		/// The input text.
		#[arg(long)]
		input: String,
		/// Print a JSON object: model, architecture, output_hash, canonical output, and the output
		/// (`embedding`; `class`, `label`, `logits`; or `tokens` and `text`).
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
		/// A classifier's tie margin in fixed-point logit units (its registry entry's
		/// `tie_margin`).
		#[arg(long, default_value_t = infera_engine::calibration::CLASSIFIER_TIE_MARGIN)]
		tie_margin: u32,
		/// A generator's τ in fixed-point logit units (its registry entry's `logit_margin`).
		#[arg(long, default_value_t = infera_engine::calibration::GENERATION_LOGIT_MARGIN)]
		logit_margin: u32,
	},
}

impl InferenceCmd {
	/// Runs the subcommand, printing to stdout.
	pub fn run(&self) -> Result<(), String> {
		match self {
			Self::Import { store, folder, architecture, max_seq_length, max_new_tokens } => {
				let root = store.clone().unwrap_or_else(ModelStore::default_location);
				let store = ModelStore::new(root);
				let manifest = Manifest {
					max_new_tokens: *max_new_tokens,
					..Manifest::new(architecture, *max_seq_length)
				};
				let weights = folder.join("model.safetensors");
				let id = hash_file(&weights).map_err(|e| e.to_string())?;
				if store.contains(&id) {
					// Never replace a model already in the store (workers may be running it).
					let existing = store.manifest(&id).map_err(|e| e.to_string())?;
					if existing != manifest {
						return Err(format!(
							"model 0x{id} is already in the store as {existing:?}; not replaced"
						));
					}
				}
				let model = store.import(folder, &manifest).map_err(|e| e.to_string())?;
				// A model that does not load is taken out again, so the store only holds models
				// a worker can run.
				if let Err(e) = Engine::new(store.clone()).model(&model) {
					for file in ["weights", "config", "tokenizer", "manifest"] {
						let _ = std::fs::remove_file(store.path(&model, file));
					}
					return Err(format!("{} does not load, not imported: {e}", folder.display()));
				}
				let hash = |file: &str| -> Result<String, String> {
					hash_file(&store.path(&model, file))
						.map(|h| format!("0x{h}"))
						.map_err(|e| e.to_string())
				};
				let size = std::fs::metadata(store.path(&model, "weights"))
					.map_err(|e| e.to_string())?
					.len();
				let value = serde_json::json!({
					"model": format!("0x{model}"),
					"architecture": architecture,
					"weights_hash": format!("0x{model}"),
					"weights_size": size,
					"config_hash": hash("config")?,
					"tokenizer_hash": hash("tokenizer")?,
					"store": store.root().display().to_string(),
				});
				println!("{value}");
				Ok(())
			}
			Self::Run { store, input, json } => {
				let (engine, model) = store.open()?;
				let started = Instant::now();
				let out = engine.run(&model, input).map_err(|e| e.to_string())?;
				let elapsed = started.elapsed();
				let hash = format!("0x{}", hex::encode(out.output_hash));
				if *json {
					let mut value = serde_json::json!({
						"model": format!("0x{model}"),
						"input": input,
						"output_hash": hash,
						"canonical": format!("0x{}", hex::encode(&out.encoded)),
						"elapsed_ms": elapsed.as_secs_f64() * 1e3,
					});
					match &out.output {
						Output::Embedding(v) => {
							value["architecture"] = "text-embedding".into();
							value["dimensions"] = v.len().into();
							value["embedding"] = serde_json::json!(v);
						}
						Output::Classification { class, label, logits } => {
							value["architecture"] = "text-classification".into();
							value["class"] = (*class).into();
							value["label"] = label.clone().into();
							value["logits"] = serde_json::json!(logits);
						}
						Output::Generation { tokens, text } => {
							value["architecture"] = "text-generation".into();
							value["tokens"] = serde_json::json!(tokens);
							value["text"] = text.clone().into();
						}
					}
					println!("{value}");
				} else {
					println!("{hash}");
				}
				Ok(())
			}
			Self::Bench { store, seconds } => {
				let (engine, model) = store.open()?;
				let embedder = engine.embedder(&model).map_err(|e| e.to_string())?;
				let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
				println!("model 0x{model}, {threads} threads");
				for t in
					infera_engine::bench::measure(&embedder, *seconds).map_err(|e| e.to_string())?
				{
					println!("{:<24} {:>8.1} sentences/s", t.label, t.sentences_per_second);
				}
				Ok(())
			}
			Self::Verify { store, input, output, epsilon, delta, tie_margin, logit_margin } => {
				let (engine, model) = store.open()?;
				let bytes = hex::decode(output.trim_start_matches("0x"))
					.map_err(|e| format!("--output is not hex: {e}"))?;
				let claimed = CanonicalOutput::decode(&mut bytes.as_slice())
					.map_err(|e| format!("--output is not a canonical output: {e}"))?;
				let loaded = engine.model(&model).map_err(|e| e.to_string())?;
				let (pass, report) = match (&*loaded, &claimed) {
					(LoadedModel::Generation(g), CanonicalOutput::Generation(tokens)) => {
						// The claim is judged step by step against this node's logits (τ).
						let steps = g.check(input, tokens).map_err(|e| e.to_string())?;
						let tolerance = GenerationTolerance { logit_margin: *logit_margin };
						let verdict = compare_generation(tokens, &steps, tolerance);
						let worst = steps
							.iter()
							.map(|s| i64::from(s.top_logit) - i64::from(s.candidate_logit))
							.max()
							.unwrap_or(0);
						let report = format!(
							"{} tokens checked, largest logit shortfall {worst} (allowed {logit_margin}), verdict {verdict:?}",
							steps.len()
						);
						(verdict == Check::Pass, report)
					}
					_ => {
						let mine = engine.run(&model, input).map_err(|e| e.to_string())?;
						let architecture = match &mine.output {
							Output::Embedding(v) => Architecture::TextEmbedding {
								dimensions: v.len() as u32,
								tolerance: EmbeddingTolerance {
									min_cosine: Perbill::from_float(1.0 - epsilon),
									max_element_diff: *delta,
								},
							},
							Output::Classification { logits, .. } => Architecture::Classification {
								classes: logits.len() as u32,
								tolerance: ClassificationTolerance { tie_margin: *tie_margin },
							},
							Output::Generation { .. } => {
								return Err("--output is not a generation of this model".into())
							}
						};
						let c = compare(&architecture, &mine.canonical, &claimed);
						let report = match (&mine.canonical, &claimed) {
							(CanonicalOutput::Embedding(_), _) => format!(
								"cosine {:.9} (needs ≥ {:.9}), max element difference {} (allowed {delta}), verdict {:?}",
								c.cosine,
								1.0 - epsilon,
								c.max_element_diff,
								c.verdict
							),
							(
								CanonicalOutput::Classification { class, logits },
								CanonicalOutput::Classification { class: theirs, .. },
							) => {
								let gap = |k: &u32| logits.get(*k as usize).copied().map(i64::from);
								let shortfall = match (gap(class), gap(theirs)) {
									(Some(a), Some(b)) => (a - b).to_string(),
									_ => "n/a (class out of range)".into(),
								};
								format!(
									"class {theirs} claimed, {class} here, logit gap {shortfall} (tie margin {tie_margin}), verdict {:?}",
									c.verdict
								)
							}
							_ => format!("verdict {:?}", c.verdict),
						};
						(c.verdict == Check::Pass, report)
					}
				};
				println!("{}: {report}", if pass { "PASS" } else { "FAIL" });
				if pass {
					Ok(())
				} else {
					Err("the claimed output does not match within tolerance".into())
				}
			}
		}
	}
}
