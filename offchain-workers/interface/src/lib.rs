//! The runtime's door to native inference.
//!
//! The runtime imports this crate and nothing else of the inference stack: its wasm build cannot
//! hold candle. Inside the runtime, [`inference::run`] is an import of the host function
//! `ext_inference_run_version_2`; on the node it looks up the [`InferenceExt`] extension, which the
//! node registers only for offchain worker calls. Block execution has no such extension, so a
//! call there returns [`InferenceError::Unavailable`] on every node alike and consensus never
//! depends on floating-point results.
//!
//! The crate also names the offchain worker's key type (`infr`, sr25519), which the node uses to
//! put worker keys into its keystore and the runtime to sign the worker's transactions.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
pub use infera_primitives::{Role, Verdict};
use scale_info::TypeInfo;
#[cfg(not(substrate_runtime))]
use sp_externalities::ExternalitiesExt;
use sp_runtime_interface::{
	pass_by::{
		AllocateAndReturnByCodec, PassFatPointerAndDecode, PassFatPointerAndRead,
		PassPointerAndReadCopy,
	},
	runtime_interface,
};

/// Key type of offchain worker keys: the accounts a node runs jobs for.
pub const KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"infr");

/// The worker's application crypto: sr25519 keys of type `infr`.
pub mod crypto {
	use super::KEY_TYPE;
	use sp_application_crypto::sr25519;
	sp_application_crypto::app_crypto!(sr25519, KEY_TYPE);
}

/// Why the host could not produce an output. Each reason is something the worker reports and a
/// person can act on.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum InferenceError {
	/// No inference engine is attached to this call: the call came from block execution, or the
	/// node was started without one.
	Unavailable,
	/// The model's weights are not in this node's model store.
	ModelNotInStore,
	/// The model's files are in the store but fail their hash check or cannot be loaded.
	ModelCorrupt,
	/// The input cannot be run by this model (not UTF-8 text, empty, …).
	InvalidInput,
	/// The model's architecture is one this engine does not run.
	UnsupportedArchitecture,
	/// Anything else the engine reported; details are in the node's log.
	EngineFailure,
	/// The store's `config.json` or `tokenizer.json` of the model is not the file the registry
	/// names: the node would run something other than the registered model, so it does not.
	FilesDiffer,
}

/// The files of a model as the registry names them: what the engine must find in its store
/// before it runs the model.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ModelFiles {
	/// blake2-256 of the weights file: the model's id in the store.
	pub weights: [u8; 32],
	/// blake2-256 of `config.json`; `None` only from runtimes that call version 1 of
	/// [`inference::run`], which passed the weights hash alone.
	pub config: Option<[u8; 32]>,
	/// blake2-256 of `tokenizer.json`; `None` as for `config`.
	pub tokenizer: Option<[u8; 32]>,
}

impl ModelFiles {
	/// All three hashes, as the registry holds them.
	pub fn new(weights: [u8; 32], config: [u8; 32], tokenizer: [u8; 32]) -> Self {
		Self { weights, config: Some(config), tokenizer: Some(tokenizer) }
	}
}

/// What the worker reports to the node's metrics besides inference itself.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum WorkerEvent {
	/// A commitment was submitted.
	Committed(Role),
	/// A reveal was submitted.
	Revealed(Role),
	/// A transaction could not be submitted to the pool.
	SubmitFailed(Role),
	/// A job this node worked on got its verdict.
	Verdict(Verdict),
}

/// What the node plugs in to serve the [`inference`] host functions.
#[cfg(not(substrate_runtime))]
pub trait InferenceBackend: Send + Sync {
	/// Runs the model whose files are `files` on `input` for a job in which this node plays
	/// `role`, and returns the SCALE-encoded canonical output
	/// (`infera_primitives::canonical::CanonicalOutput`). A store whose files differ from
	/// `files` is refused with [`InferenceError::FilesDiffer`].
	fn run(&self, files: &ModelFiles, input: &[u8], role: Role) -> Result<Vec<u8>, InferenceError>;
	/// Runs the model whose files are `files` on every input (each for a job in which this node
	/// plays the paired role) and returns one result per input, in order. An input the model
	/// cannot run fails alone; a model that cannot run fails every input. The default runs the
	/// inputs one by one; the node's engine computes them in batches.
	fn run_batch(
		&self,
		files: &ModelFiles,
		inputs: &[(Vec<u8>, Role)],
	) -> Vec<Result<Vec<u8>, InferenceError>> {
		inputs.iter().map(|(input, role)| self.run(files, input, *role)).collect()
	}
	/// Records what the worker did (metrics).
	fn note(&self, event: WorkerEvent);
}

#[cfg(not(substrate_runtime))]
sp_externalities::decl_extension! {
	/// The inference engine, registered by the node for offchain worker calls only.
	pub struct InferenceExt(alloc::sync::Arc<dyn InferenceBackend>);
}

/// Inference host functions.
#[runtime_interface]
pub trait Inference {
	/// Runs the model whose weights hash to `model` on `input` and returns its SCALE-encoded
	/// canonical output, without checking its config and tokenizer. Kept so that runtimes built
	/// before version 2 still run; outside offchain workers this is always `Err(Unavailable)`.
	fn run(
		&mut self,
		model: PassPointerAndReadCopy<[u8; 32], 32>,
		input: PassFatPointerAndRead<&[u8]>,
		role: PassFatPointerAndDecode<Role>,
	) -> AllocateAndReturnByCodec<Result<Vec<u8>, InferenceError>> {
		let files = ModelFiles { weights: model, config: None, tokenizer: None };
		match self.extension::<InferenceExt>() {
			Some(ext) => run_version_1_on(&*ext.0, files, input, role),
			None => Err(InferenceError::Unavailable),
		}
	}

	/// Runs the model named by `files` on `input` and returns its SCALE-encoded canonical
	/// output. The engine refuses a store whose weights, config or tokenizer are not the files
	/// `files` names ([`InferenceError::FilesDiffer`]), so what runs is what the registry names.
	/// Outside offchain workers this is always `Err(Unavailable)`.
	#[version(2)]
	fn run(
		&mut self,
		files: PassFatPointerAndDecode<ModelFiles>,
		input: PassFatPointerAndRead<&[u8]>,
		role: PassFatPointerAndDecode<Role>,
	) -> AllocateAndReturnByCodec<Result<Vec<u8>, InferenceError>> {
		match self.extension::<InferenceExt>() {
			Some(ext) => ext.0.run(&files, input, role),
			None => Err(InferenceError::Unavailable),
		}
	}

	/// Runs the model named by `files` on many inputs at once (the jobs for one model that a
	/// worker has to commit in a block) and returns one result per input, in order: what
	/// [`run`](inference::run) would return for each, computed in batches. An input the model
	/// cannot run fails alone. Outside offchain workers every input is `Err(Unavailable)`.
	fn run_batch(
		&mut self,
		files: PassFatPointerAndDecode<ModelFiles>,
		inputs: PassFatPointerAndDecode<Vec<(Vec<u8>, Role)>>,
	) -> AllocateAndReturnByCodec<Vec<Result<Vec<u8>, InferenceError>>> {
		match self.extension::<InferenceExt>() {
			Some(ext) => {
				let mut out = ext.0.run_batch(&files, &inputs);
				// A backend answering for fewer or more inputs than asked is the node's bug; the
				// runtime still gets exactly one result per input.
				out.resize(inputs.len(), Err(InferenceError::EngineFailure));
				out
			}
			None => inputs.iter().map(|_| Err(InferenceError::Unavailable)).collect(),
		}
	}

	/// Reports what the worker did to the node's metrics; a no-op outside offchain workers.
	fn note(&mut self, event: PassFatPointerAndDecode<WorkerEvent>) {
		if let Some(ext) = self.extension::<InferenceExt>() {
			ext.0.note(event);
		}
	}
}

/// Version 1 of `run` on a backend: runtimes built before version 2 cannot decode
/// [`InferenceError::FilesDiffer`], so it reaches them as `ModelCorrupt`.
#[cfg(not(substrate_runtime))]
fn run_version_1_on(
	backend: &dyn InferenceBackend,
	files: ModelFiles,
	input: &[u8],
	role: Role,
) -> Result<Vec<u8>, InferenceError> {
	backend.run(&files, input, role).map_err(|e| match e {
		InferenceError::FilesDiffer => InferenceError::ModelCorrupt,
		other => other,
	})
}

/// The host functions the node adds to its executor.
#[cfg(not(substrate_runtime))]
pub type HostFunctions = inference::HostFunctions;

#[cfg(all(test, not(substrate_runtime)))]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
	use super::*;
	use alloc::sync::Arc;
	use sp_io::TestExternalities;

	#[derive(Default)]
	struct Echo(std::sync::Mutex<Vec<WorkerEvent>>);
	impl InferenceBackend for Echo {
		fn run(
			&self,
			files: &ModelFiles,
			input: &[u8],
			role: Role,
		) -> Result<Vec<u8>, InferenceError> {
			if files.weights == [0; 32] {
				return Err(InferenceError::ModelNotInStore);
			}
			if files.config.is_some_and(|c| c != [7; 32]) {
				return Err(InferenceError::FilesDiffer);
			}
			let mut out: Vec<u8> = input.iter().rev().copied().collect();
			out.extend_from_slice(role.name().as_bytes());
			Ok(out)
		}
		fn note(&self, event: WorkerEvent) {
			self.0.lock().unwrap().push(event);
		}
	}

	#[test]
	fn without_the_extension_inference_is_unavailable() {
		TestExternalities::default().execute_with(|| {
			assert_eq!(
				inference::run(ModelFiles::new([1; 32], [7; 32], [7; 32]), b"text", Role::Provider),
				Err(InferenceError::Unavailable)
			);
			assert_eq!(
				inference::run_batch(
					ModelFiles::new([1; 32], [7; 32], [7; 32]),
					vec![(b"a".to_vec(), Role::Provider), (b"b".to_vec(), Role::Checker)]
				),
				vec![Err(InferenceError::Unavailable), Err(InferenceError::Unavailable)]
			);
			inference::note(WorkerEvent::Committed(Role::Provider));
		});
	}

	#[test]
	fn with_the_extension_the_backend_answers_and_its_errors_pass_through() {
		let backend = Arc::new(Echo::default());
		let mut ext = TestExternalities::default();
		ext.register_extension(InferenceExt(backend.clone()));
		ext.execute_with(|| {
			let files = |w, c| ModelFiles::new([w; 32], [c; 32], [0; 32]);
			assert_eq!(
				inference::run(files(1, 7), b"abc", Role::Checker),
				Ok(b"cbachecker".to_vec())
			);
			assert_eq!(
				inference::run(files(0, 7), b"abc", Role::Provider),
				Err(InferenceError::ModelNotInStore)
			);
			assert_eq!(
				inference::run(files(1, 8), b"abc", Role::Provider),
				Err(InferenceError::FilesDiffer)
			);
			// Version 1 (older runtimes) checks the weights alone and never sees `FilesDiffer`.
			let v1 = |model: [u8; 32], config| {
				let files = ModelFiles { weights: model, config, tokenizer: None };
				run_version_1_on(&*backend, files, b"abc", Role::Provider)
			};
			assert_eq!(v1([1; 32], None), Ok(b"cbaprovider".to_vec()));
			assert_eq!(v1([0; 32], None), Err(InferenceError::ModelNotInStore));
			assert_eq!(v1([1; 32], Some([8; 32])), Err(InferenceError::ModelCorrupt));
			inference::note(WorkerEvent::Verdict(Verdict::AuditPassed));
			// A batch answers input by input: the default runs each as `run` would.
			let inputs = vec![(b"ab".to_vec(), Role::Provider), (b"xyz".to_vec(), Role::Checker)];
			assert_eq!(
				inference::run_batch(files(1, 7), inputs.clone()),
				vec![Ok(b"baprovider".to_vec()), Ok(b"zyxchecker".to_vec())]
			);
			assert_eq!(
				inference::run_batch(files(1, 8), inputs),
				vec![Err(InferenceError::FilesDiffer), Err(InferenceError::FilesDiffer)]
			);
			assert_eq!(inference::run_batch(files(1, 7), Vec::new()), Vec::new());
		});
		assert_eq!(*backend.0.lock().unwrap(), vec![WorkerEvent::Verdict(Verdict::AuditPassed)]);
	}
}
