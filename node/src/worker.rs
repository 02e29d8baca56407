//! The node's side of the offchain worker: the inference engine behind the runtime's host
//! functions, its Prometheus metrics, and the dev chain's worker keys.

use infera_engine::{Engine, EngineError, ExpectedFiles, ModelHash, ModelStore};
use infera_interface::{InferenceBackend, InferenceError, ModelFiles, Role, WorkerEvent};
use sc_service::ChainType;
use sp_core::{crypto::Pair as _, sr25519};
use sp_keystore::KeystorePtr;
use std::{collections::HashSet, sync::Mutex, time::Instant};
use substrate_prometheus_endpoint::{
	register, CounterVec, HistogramOpts, HistogramVec, Opts, PrometheusError, Registry, U64,
};

const LOG: &str = "infera::worker";

/// The worker's metrics, in the `infera_` namespace.
#[derive(Clone)]
pub struct Metrics {
	jobs: CounterVec<U64>,
	latency: HistogramVec,
	verdicts: CounterVec<U64>,
	failures: CounterVec<U64>,
}

impl Metrics {
	/// Registers the metrics with the node's registry.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		Ok(Self {
			jobs: register(
				CounterVec::new(
					Opts::new(
						"infera_worker_jobs_total",
						"Worker transactions submitted, by role (provider, auditor, committee) and step (commit, reveal)",
					),
					&["role", "step"],
				)?,
				registry,
			)?,
			latency: register(
				HistogramVec::new(
					HistogramOpts::new(
						"infera_worker_inference_seconds",
						"Time to run one job's input through its model, by model (weights hash prefix)",
					)
					.buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
					&["model"],
				)?,
				registry,
			)?,
			verdicts: register(
				CounterVec::new(
					Opts::new(
						"infera_worker_verdicts_total",
						"Verdicts of jobs this node worked on, by outcome",
					),
					&["outcome"],
				)?,
				registry,
			)?,
			failures: register(
				CounterVec::new(
					Opts::new("infera_worker_failures_total", "Worker failures, by reason"),
					&["reason"],
				)?,
				registry,
			)?,
		})
	}
}

/// The inference engine as the runtime's offchain worker sees it.
pub struct EngineBackend {
	engine: Engine,
	metrics: Option<Metrics>,
	/// Models already reported missing (warned once per model, not every block).
	missing: Mutex<HashSet<[u8; 32]>>,
}

impl EngineBackend {
	/// An engine over `store`.
	pub fn new(store: ModelStore, metrics: Option<Metrics>) -> Self {
		Self { engine: Engine::new(store), metrics, missing: Mutex::new(HashSet::new()) }
	}

	fn fail(&self, reason: &str) {
		if let Some(m) = &self.metrics {
			m.failures.with_label_values(&[reason]).inc();
		}
	}
}

fn reason(e: &InferenceError) -> &'static str {
	match e {
		InferenceError::Unavailable => "unavailable",
		InferenceError::ModelNotInStore => "model_not_in_store",
		InferenceError::ModelCorrupt => "model_corrupt",
		InferenceError::InvalidInput => "invalid_input",
		InferenceError::UnsupportedArchitecture => "unsupported_architecture",
		InferenceError::EngineFailure => "engine_failure",
		InferenceError::FilesDiffer => "files_differ",
	}
}

/// What the runtime's worker is told when the engine fails: something it can act on.
fn inference_error(model: &ModelHash, e: EngineError) -> InferenceError {
	log::warn!(target: LOG, "model {}: {e}", model.to_hex());
	match e {
		EngineError::ModelMissing { .. } => InferenceError::ModelNotInStore,
		EngineError::FileMismatch { .. } => InferenceError::FilesDiffer,
		EngineError::HashMismatch { .. }
		| EngineError::BadConfig { .. }
		| EngineError::Io { .. }
		| EngineError::BadModelId(_) => InferenceError::ModelCorrupt,
		EngineError::EmptyInput | EngineError::Tokenizer(_) | EngineError::InvalidUtf8(_) => {
			InferenceError::InvalidInput
		}
		_ => InferenceError::EngineFailure,
	}
}

/// A dishonest provider for the network's fault tests: in a build with the `fault-injection`
/// feature (never a default or release build) and with `INFERA_FAULT_INJECTION=perturb-outputs`
/// in its environment, the node commits and reveals well-formed but wrong outputs as a provider
/// (the embedding negated, another class, a changed first token). As a checker it stays honest.
#[cfg(feature = "fault-injection")]
fn as_provider_reveals(role: Role, out: Vec<u8>) -> Vec<u8> {
	use codec::{Decode, Encode};
	use infera_primitives::canonical::CanonicalOutput;
	if role != Role::Provider
		|| std::env::var("INFERA_FAULT_INJECTION").as_deref() != Ok("perturb-outputs")
	{
		return out;
	}
	let lie = match CanonicalOutput::decode(&mut out.as_slice()) {
		Ok(CanonicalOutput::Embedding(v)) => {
			CanonicalOutput::Embedding(v.into_iter().map(i16::saturating_neg).collect())
		}
		Ok(CanonicalOutput::Classification { class, mut logits }) => {
			logits.reverse();
			CanonicalOutput::Classification { class: class.saturating_add(1), logits }
		}
		Ok(CanonicalOutput::Generation(mut tokens)) => {
			if let Some(t) = tokens.first_mut() {
				*t ^= 1;
			}
			CanonicalOutput::Generation(tokens)
		}
		_ => return out,
	};
	log::warn!(target: LOG, "fault injection: revealing a perturbed output");
	lie.encode()
}

#[cfg(not(feature = "fault-injection"))]
fn as_provider_reveals(_role: Role, out: Vec<u8>) -> Vec<u8> {
	out
}

impl InferenceBackend for EngineBackend {
	fn run(&self, files: &ModelFiles, input: &[u8], role: Role) -> Result<Vec<u8>, InferenceError> {
		let model = files.weights;
		let hash = ModelHash(model);
		let expected = ExpectedFiles {
			config: files.config.map(ModelHash),
			tokenizer: files.tokenizer.map(ModelHash),
		};
		let result = (|| {
			if !self.engine.store().contains(&hash) {
				let first = self.missing.lock().map(|mut m| m.insert(model)).unwrap_or(true);
				if first {
					log::warn!(
						target: LOG,
						"a job names model {} but it is not in the model store at {}: this node cannot \
						 work on it. Put it there (scripts/fetch-model for all-MiniLM-L6-v2) or start \
						 the node with --model-store pointing at a store that has it",
						hash.to_hex(),
						self.engine.store().root().display(),
					);
				}
				return Err(InferenceError::ModelNotInStore);
			}
			let started = Instant::now();
			let out = match role {
				Role::Provider => self.engine.run_bytes_checked(&hash, &expected, input),
				// A checker of a generation job reveals its near-ties too (the form the
				// runtime judges a provider's generation by); other models: the same output.
				Role::Checker => self.engine.run_bytes_checked_as_checker(&hash, &expected, input),
			}
			.map_err(|e| inference_error(&hash, e))?;
			let seconds = started.elapsed().as_secs_f64();
			if let Some(m) = &self.metrics {
				let label = hash.to_hex();
				m.latency.with_label_values(&[label.get(..16).unwrap_or(&label)]).observe(seconds);
			}
			log::debug!(
				target: LOG,
				"{} run of model {}: {:.1} ms",
				role.name(),
				hash.to_hex(),
				seconds * 1e3
			);
			Ok(as_provider_reveals(role, out.encoded))
		})();
		if let Err(e) = &result {
			self.fail(reason(e));
		}
		result
	}

	fn run_batch(
		&self,
		files: &ModelFiles,
		inputs: &[(Vec<u8>, Role)],
	) -> Vec<Result<Vec<u8>, InferenceError>> {
		let hash = ModelHash(files.weights);
		let expected = ExpectedFiles {
			config: files.config.map(ModelHash),
			tokenizer: files.tokenizer.map(ModelHash),
		};
		if inputs.len() <= 1
			|| !self.engine.store().contains(&hash)
			|| self.engine.is_generator(&hash)
		{
			// One input, a missing model (warned about once), or a generator (which runs its
			// inputs one by one, a checker's in the checked form): as `run` does it.
			return inputs.iter().map(|(input, role)| self.run(files, input, *role)).collect();
		}
		let started = Instant::now();
		let refs: Vec<&[u8]> = inputs.iter().map(|(input, _)| input.as_slice()).collect();
		let results: Vec<Result<Vec<u8>, InferenceError>> =
			match self.engine.run_bytes_checked_many(&hash, &expected, &refs) {
				Ok(each) => each
					.into_iter()
					.zip(inputs)
					.map(|(r, (_, role))| {
						r.map(|out| as_provider_reveals(*role, out.encoded))
							.map_err(|e| inference_error(&hash, e))
					})
					.collect(),
				Err(e) => {
					let error = inference_error(&hash, e);
					inputs.iter().map(|_| Err(error.clone())).collect()
				}
			};
		let seconds = started.elapsed().as_secs_f64();
		let label = hash.to_hex();
		let label = label.get(..16).unwrap_or(&label);
		for result in &results {
			match result {
				Ok(_) => {
					if let Some(m) = &self.metrics {
						// Each job's share of the batch.
						m.latency
							.with_label_values(&[label])
							.observe(seconds / inputs.len() as f64);
					}
				}
				Err(e) => self.fail(reason(e)),
			}
		}
		log::info!(
			target: LOG,
			"model {label}: {} inputs in one call ({} failed), {:.1} ms ({:.1} ms an input)",
			inputs.len(),
			results.iter().filter(|r| r.is_err()).count(),
			seconds * 1e3,
			seconds * 1e3 / inputs.len() as f64,
		);
		results
	}

	fn note(&self, event: WorkerEvent) {
		let Some(m) = &self.metrics else { return };
		match event {
			WorkerEvent::Committed(role) => {
				m.jobs.with_label_values(&[role.name(), "commit"]).inc()
			}
			WorkerEvent::Revealed(role) => m.jobs.with_label_values(&[role.name(), "reveal"]).inc(),
			WorkerEvent::SubmitFailed(_) => {
				m.failures.with_label_values(&["submit_rejected"]).inc()
			}
			WorkerEvent::Verdict(outcome) => m.verdicts.with_label_values(&[outcome.name()]).inc(),
		}
	}
}

/// On a development chain, puts the worker keys of Alice (auditor), Bob (provider), Charlie,
/// Dave and Eve (auditors) into the keystore, so one `--dev` process plays every role.
pub fn insert_dev_keys(chain_type: &ChainType, keystore: &KeystorePtr) {
	if *chain_type != ChainType::Development {
		return;
	}
	for name in ["Alice", "Bob", "Charlie", "Dave", "Eve"] {
		let seed = format!("//{name}");
		let public = match sr25519::Pair::from_string(&seed, None) {
			Ok(pair) => pair.public(),
			Err(e) => {
				log::warn!(target: LOG, "dev worker key {seed}: {e:?}");
				continue;
			}
		};
		match keystore.insert(infera_interface::KEY_TYPE, &seed, public.as_ref()) {
			Ok(()) => {
				log::info!(target: LOG, "dev chain: worker key of {name} ({public}) in the keystore")
			}
			Err(()) => {
				log::warn!(target: LOG, "dev chain: could not store the worker key of {name}")
			}
		}
	}
}
