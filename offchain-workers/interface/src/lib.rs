//! The runtime's door to native inference.
//!
//! The runtime imports this crate and nothing else of the inference stack: its wasm build cannot
//! hold candle. Inside the runtime, [`inference::run`] is an import of the host function
//! `ext_inference_run_version_1`; on the node it looks up the [`InferenceExt`] extension, which the
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
	/// Runs the model whose weights hash to `model` on `input` for a job in which this node
	/// plays `role`, and returns the SCALE-encoded canonical output
	/// (`infera_primitives::canonical::CanonicalOutput`).
	fn run(&self, model: [u8; 32], input: &[u8], role: Role) -> Result<Vec<u8>, InferenceError>;
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
	/// canonical output. Outside offchain workers this is always `Err(Unavailable)`.
	fn run(
		&mut self,
		model: PassPointerAndReadCopy<[u8; 32], 32>,
		input: PassFatPointerAndRead<&[u8]>,
		role: PassFatPointerAndDecode<Role>,
	) -> AllocateAndReturnByCodec<Result<Vec<u8>, InferenceError>> {
		match self.extension::<InferenceExt>() {
			Some(ext) => ext.0.run(model, input, role),
			None => Err(InferenceError::Unavailable),
		}
	}

	/// Reports what the worker did to the node's metrics; a no-op outside offchain workers.
	fn note(&mut self, event: PassFatPointerAndDecode<WorkerEvent>) {
		if let Some(ext) = self.extension::<InferenceExt>() {
			ext.0.note(event);
		}
	}
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
			model: [u8; 32],
			input: &[u8],
			role: Role,
		) -> Result<Vec<u8>, InferenceError> {
			if model == [0; 32] {
				return Err(InferenceError::ModelNotInStore);
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
				inference::run([1; 32], b"text", Role::Provider),
				Err(InferenceError::Unavailable)
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
			assert_eq!(inference::run([1; 32], b"abc", Role::Checker), Ok(b"cbachecker".to_vec()));
			assert_eq!(
				inference::run([0; 32], b"abc", Role::Provider),
				Err(InferenceError::ModelNotInStore)
			);
			inference::note(WorkerEvent::Verdict(Verdict::AuditPassed));
		});
		assert_eq!(*backend.0.lock().unwrap(), vec![WorkerEvent::Verdict(Verdict::AuditPassed)]);
	}
}
