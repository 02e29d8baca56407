//! `infera-node inference run|bench|verify`: the engine outside the chain, for providers checking
//! their setup and validators reproducing a disputed job. Any architecture the engine runs
//! (text embedding, classification, generation); `bench` measures embedding models.

use codec::Decode;
use infera_engine::{
	compare, store::hash_file, Engine, ExpectedFiles, LoadedModel, Manifest, ModelHash, ModelStore,
	Output,
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
	/// Puts the project's seeded test models into the store: the 3-class classifier (the real
	/// all-MiniLM-L6-v2 encoder with a seeded head) and the 2-layer decoder over MiniLM's
	/// vocabulary (`infera_engine::synthetic`), the models the dev and local presets register
	/// next to MiniLM. Needs MiniLM in the store (`scripts/fetch-model`); idempotent. Prints
	/// both models' ids and file hashes as JSON.
	SeedModels {
		/// Model store folder (default: $INFERA_MODEL_STORE or ~/.local/share/infera/models).
		#[arg(long)]
		store: Option<PathBuf>,
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
	/// Re-runs a model and judges a claimed output with the runtime's tolerance rule. Either
	/// `--job N` (the job, its input, its revealed output, the model's files and tolerance are
	/// read from the chain at `--url`, and the store's files are checked against the
	/// registry's), or `--model`, `--input` and `--output` with the tolerance as flags.
	Verify {
		/// Model store folder (default: $INFERA_MODEL_STORE or ~/.local/share/infera/models).
		#[arg(long)]
		store: Option<PathBuf>,
		/// A job on chain: verify its revealed output.
		#[arg(long, conflicts_with_all = ["model", "input", "output"])]
		job: Option<u64>,
		/// The node to read the job from (its JSON-RPC WebSocket).
		#[arg(long, default_value = "ws://127.0.0.1:9944", requires = "job")]
		url: String,
		/// The model: blake2-256 hash of its weights (64 hex digits).
		#[arg(long, required_unless_present = "job")]
		model: Option<String>,
		/// The input text.
		#[arg(long, required_unless_present = "job")]
		input: Option<String>,
		/// The claimed output, hex (0x optional) of the SCALE-encoded canonical output.
		#[arg(long, required_unless_present = "job")]
		output: Option<String>,
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
				let manifest = Manifest {
					max_new_tokens: *max_new_tokens,
					..Manifest::new(architecture, *max_seq_length)
				};
				println!("{}", import_folder(&ModelStore::new(root), folder, &manifest)?);
				Ok(())
			}
			Self::SeedModels { store } => {
				let root = store.clone().unwrap_or_else(ModelStore::default_location);
				println!("{}", seed_models(&ModelStore::new(root))?);
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
			Self::Verify {
				store,
				job: Some(job),
				url,
				epsilon: _,
				delta: _,
				tie_margin: _,
				logit_margin: _,
				..
			} => {
				let root = store.clone().unwrap_or_else(ModelStore::default_location);
				let onchain = fetch_job(url, *job)?;
				let engine = Engine::new(ModelStore::new(root));
				let (pass, report) = judge(
					&engine,
					&onchain.model,
					&onchain.files,
					&onchain.input,
					&onchain.output,
					&Rules::Registered(onchain.architecture),
				)?;
				println!(
					"job {job} (model {}, status {}, chain verdict {}): {}: {report}",
					onchain.model_id,
					onchain.status,
					onchain.verdict,
					if pass { "PASS" } else { "FAIL" }
				);
				if pass {
					Ok(())
				} else {
					Err(format!("job {job}'s revealed output does not match within tolerance"))
				}
			}
			Self::Verify {
				store,
				model,
				input,
				output,
				epsilon,
				delta,
				tie_margin,
				logit_margin,
				..
			} => {
				let (Some(model), Some(input), Some(output)) = (model, input, output) else {
					return Err("give --job, or --model, --input and --output".into());
				};
				let (engine, model) =
					StoreArgs { store: store.clone(), model: model.clone() }.open()?;
				let bytes = hex::decode(output.trim_start_matches("0x"))
					.map_err(|e| format!("--output is not hex: {e}"))?;
				let claimed = CanonicalOutput::decode(&mut bytes.as_slice())
					.map_err(|e| format!("--output is not a canonical output: {e}"))?;
				let rules = Rules::Flags {
					embedding: EmbeddingTolerance {
						min_cosine: Perbill::from_float(1.0 - epsilon),
						max_element_diff: *delta,
					},
					classification: ClassificationTolerance { tie_margin: *tie_margin },
					generation: GenerationTolerance { logit_margin: *logit_margin },
				};
				let (pass, report) =
					judge(&engine, &model, &ExpectedFiles::default(), input, &claimed, &rules)?;
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

/// Adds the model folder `folder` to `store` under `manifest`, checks that it loads (taking it out
/// again when it does not), and returns its id, file hashes and size as JSON. A model already in
/// the store under another manifest is never replaced (workers may be running it).
fn import_folder(
	store: &ModelStore,
	folder: &std::path::Path,
	manifest: &Manifest,
) -> Result<serde_json::Value, String> {
	let weights = folder.join("model.safetensors");
	let id = hash_file(&weights).map_err(|e| e.to_string())?;
	if store.contains(&id) {
		let existing = store.manifest(&id).map_err(|e| e.to_string())?;
		if existing != *manifest {
			return Err(format!(
				"model 0x{id} is already in the store as {existing:?}; not replaced"
			));
		}
	}
	let model = store.import(folder, manifest).map_err(|e| e.to_string())?;
	// A model that does not load is taken out again, so the store only holds models a worker
	// can run.
	if let Err(e) = Engine::new(store.clone()).model(&model) {
		for file in ["weights", "config", "tokenizer", "manifest"] {
			let _ = std::fs::remove_file(store.path(&model, file));
		}
		return Err(format!("{} does not load, not imported: {e}", folder.display()));
	}
	describe(store, &model, &manifest.architecture)
}

/// A stored model's id, file hashes and size as JSON: what registering it on chain takes.
fn describe(
	store: &ModelStore,
	model: &ModelHash,
	architecture: &str,
) -> Result<serde_json::Value, String> {
	let hash = |file: &str| -> Result<String, String> {
		hash_file(&store.path(model, file)).map(|h| format!("0x{h}")).map_err(|e| e.to_string())
	};
	let size = std::fs::metadata(store.path(model, "weights")).map_err(|e| e.to_string())?.len();
	Ok(serde_json::json!({
		"model": format!("0x{model}"),
		"architecture": architecture,
		"weights_hash": format!("0x{model}"),
		"weights_size": size,
		"config_hash": hash("config")?,
		"tokenizer_hash": hash("tokenizer")?,
		"store": store.root().display().to_string(),
	}))
}

/// all-MiniLM-L6-v2's id: the seeded models reuse its tokenizer and (the classifier) its encoder.
const MINILM: &str = "a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563";
/// `[SEP]` in MiniLM's vocabulary: the seeded decoder's end-of-sequence token.
const SEEDED_DECODER_EOS: u32 = 102;

/// Writes the seeded classifier and decoder as model folders and imports them into `store` with
/// the manifests the presets' registrations match (classifier: 256-token inputs; decoder:
/// 128-token context, 16 new tokens), unless the store holds them already. Either way the ids
/// must be the ones the presets register: the files are made from a fixed seed, so anything
/// else is a bug here, reported rather than imported.
fn seed_models(store: &ModelStore) -> Result<serde_json::Value, String> {
	use infera_engine::synthetic;
	use infera_runtime::genesis_config_presets::{
		CLASSIFIER_WEIGHTS, DECODER_MAX_TOKENS, DECODER_WEIGHTS,
	};
	let minilm = ModelHash::parse(MINILM).map_err(|e| e.to_string())?;
	if !store.contains(&minilm) {
		return Err(format!(
			"all-MiniLM-L6-v2 is not in the store at {}: run scripts/fetch-model first",
			store.root().display()
		));
	}
	let decoder_manifest = Manifest {
		max_new_tokens: Some(DECODER_MAX_TOKENS as usize),
		..Manifest::new("text-generation", 128)
	};
	let classifier_manifest = Manifest::new("text-classification", 256);
	let scratch = std::env::temp_dir().join(format!("infera-seed-models-{}", std::process::id()));
	let result = (|| {
		let seeded = |name: &str,
		              expected: [u8; 32],
		              manifest: &Manifest,
		              write: &dyn Fn(&std::path::Path) -> infera_engine::Result<()>|
		 -> Result<serde_json::Value, String> {
			let id = ModelHash(expected);
			let folder = scratch.join(name);
			if !store.contains(&id) || store.verify(&id).is_err() {
				write(&folder).map_err(|e| e.to_string())?;
				let made =
					hash_file(&folder.join("model.safetensors")).map_err(|e| e.to_string())?;
				if made != id {
					return Err(format!(
						"the seeded {name} hashes to 0x{made}, but the presets register 0x{id}"
					));
				}
				return import_folder(store, &folder, manifest);
			}
			// Already there: report it as an import would (its manifest must be the presets').
			let existing = store.manifest(&id).map_err(|e| e.to_string())?;
			if existing != *manifest {
				return Err(format!(
					"model 0x{id} is in the store as {existing:?}, not {manifest:?}"
				));
			}
			describe(store, &id, &manifest.architecture)
		};
		let tokenizer = store.path(&minilm, "tokenizer");
		let decoder = seeded("decoder", DECODER_WEIGHTS, &decoder_manifest, &|folder| {
			synthetic::write_llama(
				folder,
				&synthetic::LlamaShape::small(),
				synthetic::SEED,
				&tokenizer,
				SEEDED_DECODER_EOS,
			)
		})?;
		let classifier =
			seeded("classifier", CLASSIFIER_WEIGHTS, &classifier_manifest, &|folder| {
				synthetic::write_classifier(folder, store, &minilm, synthetic::SEED)
			})?;
		Ok(serde_json::json!({ "classifier": classifier, "decoder": decoder }))
	})();
	let _ = std::fs::remove_dir_all(&scratch);
	result
}

/// Where the tolerance of a verdict comes from.
enum Rules {
	/// The model's architecture as registered on chain.
	Registered(Architecture),
	/// Flags given by hand, for whichever architecture the model has.
	Flags {
		embedding: EmbeddingTolerance,
		classification: ClassificationTolerance,
		generation: GenerationTolerance,
	},
}

/// Re-runs `model` on `input` (after checking its files against `files`) and judges `claimed`
/// as the runtime would: whether it passes, and a line with the distances.
fn judge(
	engine: &Engine,
	model: &ModelHash,
	files: &ExpectedFiles,
	input: &str,
	claimed: &CanonicalOutput,
	rules: &Rules,
) -> Result<(bool, String), String> {
	let loaded = engine.model_checked(model, files).map_err(|e| e.to_string())?;
	if let CanonicalOutput::Refused(reason) = claimed {
		// A refusal stands when this node cannot run the input either, as the audit rules.
		return Ok(match engine.run_bytes_checked(model, files, input.as_bytes()) {
			Ok(_) => (false, format!("refusal ({reason:?}) claimed, but this node ran the input")),
			Err(e) => {
				(true, format!("refusal ({reason:?}) confirmed: this node cannot run it: {e}"))
			}
		});
	}
	if let (LoadedModel::Generation(g), CanonicalOutput::Generation(tokens)) = (&*loaded, claimed) {
		// The claim is judged step by step against this node's logits (τ).
		let tolerance = match rules {
			Rules::Registered(Architecture::Generation { tolerance, .. }) => *tolerance,
			Rules::Registered(other) => {
				return Err(format!(
					"the registry names {other:?}, but the store holds a generator"
				))
			}
			Rules::Flags { generation, .. } => *generation,
		};
		let steps = g.check(input, tokens).map_err(|e| e.to_string())?;
		let verdict = compare_generation(tokens, &steps, tolerance);
		let worst = steps
			.iter()
			.map(|s| i64::from(s.top_logit) - i64::from(s.candidate_logit))
			.max()
			.unwrap_or(0);
		let report = format!(
			"{} tokens checked, largest logit shortfall {worst} (allowed {}), verdict {verdict:?}",
			steps.len(),
			tolerance.logit_margin
		);
		return Ok((verdict == Check::Pass, report));
	}
	let mine =
		engine.run_bytes_checked(model, files, input.as_bytes()).map_err(|e| e.to_string())?;
	let architecture = match (rules, &mine.output) {
		(Rules::Registered(architecture), _) => *architecture,
		(Rules::Flags { embedding, .. }, Output::Embedding(v)) => {
			Architecture::TextEmbedding { dimensions: v.len() as u32, tolerance: *embedding }
		}
		(Rules::Flags { classification, .. }, Output::Classification { logits, .. }) => {
			Architecture::Classification {
				classes: logits.len() as u32,
				tolerance: *classification,
			}
		}
		(Rules::Flags { .. }, Output::Generation { .. }) => {
			return Err("--output is not a generation of this model".into())
		}
	};
	let c = compare(&architecture, &mine.canonical, claimed);
	let report = match (&architecture, &mine.canonical, claimed) {
		(Architecture::TextEmbedding { tolerance, .. }, CanonicalOutput::Embedding(_), _) => {
			format!(
				"cosine {:.9} (needs ≥ {:.9}), max element difference {} (allowed {}), verdict {:?}",
				c.cosine,
				f64::from(tolerance.min_cosine.deconstruct()) / 1e9,
				c.max_element_diff,
				tolerance.max_element_diff,
				c.verdict
			)
		}
		(
			Architecture::Classification { tolerance, .. },
			CanonicalOutput::Classification { class, logits },
			CanonicalOutput::Classification { class: theirs, .. },
		) => {
			let gap = |k: &u32| logits.get(*k as usize).copied().map(i64::from);
			let shortfall = match (gap(class), gap(theirs)) {
				(Some(a), Some(b)) => (a - b).to_string(),
				_ => "n/a (class out of range)".into(),
			};
			format!(
				"class {theirs} claimed, {class} here, logit gap {shortfall} (tie margin {}), verdict {:?}",
				tolerance.tie_margin, c.verdict
			)
		}
		_ => format!("verdict {:?}", c.verdict),
	};
	Ok((c.verdict == Check::Pass, report))
}

/// A job as `inference verify --job` reads it from the chain.
struct OnChainJob {
	model_id: u64,
	model: ModelHash,
	files: ExpectedFiles,
	architecture: Architecture,
	input: String,
	output: CanonicalOutput,
	status: String,
	verdict: String,
}

/// Reads job `job`, its revealed output and its model's registered files and architecture from
/// the node at `url` (`infera_job`, `infera_model`).
fn fetch_job(url: &str, job: u64) -> Result<OnChainJob, String> {
	use jsonrpsee::{core::client::ClientT, rpc_params, ws_client::WsClientBuilder};
	let runtime = tokio::runtime::Builder::new_current_thread()
		.enable_all()
		.build()
		.map_err(|e| format!("cannot start an async runtime: {e}"))?;
	let (job_json, model_json) = runtime.block_on(async {
		let client = WsClientBuilder::default()
			.build(url)
			.await
			.map_err(|e| format!("cannot reach a node at {url}: {e}"))?;
		let job_json: serde_json::Value = client
			.request("infera_job", rpc_params![job])
			.await
			.map_err(|e| format!("infera_job({job}) at {url}: {e}"))?;
		let model_id = job_json
			.get("model")
			.or_else(|| job_json.get("receipt").and_then(|r| r.get("model")))
			.and_then(serde_json::Value::as_u64)
			.ok_or_else(|| format!("infera_job({job}) at {url} names no model: {job_json}"))?;
		let model_json: serde_json::Value = client
			.request("infera_model", rpc_params![model_id])
			.await
			.map_err(|e| format!("infera_model({model_id}) at {url}: {e}"))?;
		Ok::<_, String>((job_json, model_json))
	})?;
	on_chain_job(job, &job_json, &model_json)
}

/// What `infera_job` and `infera_model` answered, as a job to verify.
fn on_chain_job(
	job: u64,
	job_json: &serde_json::Value,
	model_json: &serde_json::Value,
) -> Result<OnChainJob, String> {
	let text =
		|v: &serde_json::Value, key: &str| v.get(key).and_then(|s| s.as_str()).map(String::from);
	let status = text(job_json, "status").unwrap_or_else(|| "unknown".into());
	if job_json.get("pruned").and_then(serde_json::Value::as_bool) == Some(true) {
		return Err(format!(
			"job {job} is {status} and pruned: the chain keeps only its receipt's hashes, not its \
			 input and output, so it cannot be re-run"
		));
	}
	let input = text(job_json, "input")
		.ok_or_else(|| format!("job {job}'s input is not UTF-8 text; no text model runs it"))?;
	let hex_output = job_json
		.get("output")
		.and_then(|o| text(o, "hex"))
		.ok_or_else(|| format!("job {job} ({status}) has no revealed output yet"))?;
	let bytes = hex::decode(hex_output.trim_start_matches("0x"))
		.map_err(|e| format!("job {job}'s output is not hex: {e}"))?;
	let output = CanonicalOutput::decode(&mut bytes.as_slice()).map_err(|e| {
		format!("job {job}'s revealed output is not a canonical output ({e}): it cannot pass")
	})?;
	let hash = |key: &str| -> Result<ModelHash, String> {
		let h = text(model_json, key).ok_or_else(|| format!("infera_model has no {key}"))?;
		ModelHash::parse(&h).map_err(|e| e.to_string())
	};
	let architecture = model_json
		.get("architecture")
		.cloned()
		.ok_or_else(|| "infera_model has no architecture".to_string())
		.and_then(|a| {
			serde_json::from_value::<Architecture>(a).map_err(|e| format!("architecture: {e}"))
		})?;
	Ok(OnChainJob {
		model_id: model_json.get("id").and_then(serde_json::Value::as_u64).unwrap_or_default(),
		model: hash("weightsHash")?,
		files: ExpectedFiles {
			config: Some(hash("configHash")?),
			tokenizer: Some(hash("tokenizerHash")?),
		},
		architecture,
		input,
		output,
		status,
		verdict: text(job_json, "verdict").unwrap_or_else(|| "unknown".into()),
	})
}
