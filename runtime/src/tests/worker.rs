//! The offchain worker against the runtime, with test offchain, pool and keystore extensions
//! and an inference backend standing in for the node's engine.

use super::*;
use crate::genesis_config_presets::{MINILM_CONFIG, MINILM_TOKENIZER, MINILM_WEIGHTS};
use crate::{genesis_config_presets::MINILM, JobEscrow, UncheckedExtrinsic};
use codec::Decode;
use infera_interface::{
	InferenceBackend, InferenceError, InferenceExt, ModelFiles, Role, WorkerEvent,
};
use pallet_job_escrow::{JobStatus, Jobs};
use sp_core::offchain::{
	testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
};
use sp_keystore::{Keystore, KeystoreExt};
use std::sync::{Arc, Mutex};

/// Answers with a fixed canonical embedding, or fails as told; records what it was asked.
/// Like the node's engine, it refuses to run when the files it is asked for are not the
/// ones its store holds (`store`: MiniLM's real files unless a test swaps one).
struct Backend {
	fail: Mutex<Option<InferenceError>>,
	store: Mutex<ModelFiles>,
	runs: Mutex<Vec<(Vec<u8>, Role)>>,
	/// The size of every `run_batch` call.
	batches: Mutex<Vec<usize>>,
	notes: Mutex<Vec<WorkerEvent>>,
	/// What it answers instead of `minilm_output()`, when set.
	answer: Mutex<Option<Vec<u8>>>,
}

impl Default for Backend {
	fn default() -> Self {
		Self {
			fail: Default::default(),
			store: Mutex::new(ModelFiles::new(MINILM_WEIGHTS, MINILM_CONFIG, MINILM_TOKENIZER)),
			runs: Default::default(),
			batches: Default::default(),
			notes: Default::default(),
			answer: Default::default(),
		}
	}
}

impl InferenceBackend for Backend {
	fn run(&self, files: &ModelFiles, input: &[u8], role: Role) -> Result<Vec<u8>, InferenceError> {
		// The worker always names all three of the registry's files.
		assert!(files.config.is_some() && files.tokenizer.is_some(), "{files:?}");
		let store = *self.store.lock().unwrap();
		if files.weights != store.weights {
			return Err(InferenceError::ModelNotInStore);
		}
		if *files != store {
			return Err(InferenceError::FilesDiffer);
		}
		self.runs.lock().unwrap().push((input.to_vec(), role));
		// A client's input the engine cannot read, as the real engine refuses one.
		if input.starts_with(b"unreadable") {
			return Err(InferenceError::InvalidInput);
		}
		match self.fail.lock().unwrap().clone() {
			Some(e) => Err(e),
			None => Ok(self.answer.lock().unwrap().clone().unwrap_or_else(minilm_output)),
		}
	}
	fn run_batch(
		&self,
		files: &ModelFiles,
		inputs: &[(Vec<u8>, Role)],
	) -> Vec<Result<Vec<u8>, InferenceError>> {
		self.batches.lock().unwrap().push(inputs.len());
		inputs.iter().map(|(input, role)| self.run(files, input, *role)).collect()
	}
	fn note(&self, event: WorkerEvent) {
		self.notes.lock().unwrap().push(event);
	}
}

fn ext() -> (sp_io::TestExternalities, Arc<Backend>, Arc<parking_lot::RwLock<PoolState>>) {
	let mut ext = ext_from_preset(DEV_RUNTIME_PRESET);
	let (offchain, _) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let keystore = sp_keystore::testing::MemoryKeystore::new();
	keystore.sr25519_generate_new(infera_interface::KEY_TYPE, Some("//Bob")).unwrap();
	let backend = Arc::new(Backend::default());
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	ext.register_extension(InferenceExt(backend.clone()));
	(ext, backend, pool_state)
}

/// Takes the pool's transactions, checks each is signed by Bob, and dispatches it; returns the
/// job escrow calls they carried (a `force_batch`'s calls in order).
fn include(pool: &parking_lot::RwLock<PoolState>) -> Vec<pallet_job_escrow::Call<Runtime>> {
	include_txs(pool).into_iter().flatten().collect()
}

/// `include`, one list of calls per transaction.
fn include_txs(
	pool: &parking_lot::RwLock<PoolState>,
) -> Vec<Vec<pallet_job_escrow::Call<Runtime>>> {
	let txs = std::mem::take(&mut pool.write().transactions);
	txs.into_iter()
		.map(|raw| {
			let xt = UncheckedExtrinsic::decode(&mut &raw[..]).unwrap();
			let sp_runtime::generic::Preamble::Signed(address, _, _) = &xt.preamble else {
				panic!("the worker signs its transactions")
			};
			assert_eq!(*address, sp_runtime::MultiAddress::Id(Sr25519Keyring::Bob.to_account_id()));
			let calls = match &xt.function {
				RuntimeCall::JobEscrow(call) => vec![call.clone()],
				RuntimeCall::Utility(pallet_utility::Call::force_batch { calls }) => {
					assert!(calls.len() > 1, "a batch of one is sent as the call itself");
					calls
						.iter()
						.map(|c| match c {
							RuntimeCall::JobEscrow(call) => call.clone(),
							other => panic!("a job escrow call in the batch, not {other:?}"),
						})
						.collect()
				}
				other => panic!("a job escrow call or a force_batch of them, not {other:?}"),
			};
			let origin = RuntimeOrigin::signed(Sr25519Keyring::Bob.to_account_id());
			let info = xt.function.clone().dispatch(origin);
			assert_ok!(info);
			// A force_batch reports a failed call by an event, not an error.
			assert!(
				!System::events().iter().any(|r| matches!(
					r.event,
					RuntimeEvent::Utility(pallet_utility::Event::ItemFailed { .. })
				)),
				"every call of the batch succeeded"
			);
			calls
		})
		.collect()
}

/// Runs the worker at block `n` as the node would: the block hashes a mortal transaction
/// names exist (the test's `run_to` does not record them).
fn run_worker(n: u32) {
	for b in 0..=n {
		frame_system::BlockHash::<Runtime>::insert(b, sp_core::H256::repeat_byte(b as u8 + 1));
	}
	crate::worker::run(n);
}

fn submit(input: &[u8]) -> infera_primitives::JobId {
	submit_to(MINILM, input)
}

fn submit_to(model: infera_primitives::ModelId, input: &[u8]) -> infera_primitives::JobId {
	let job = pallet_job_escrow::NextJobId::<Runtime>::get();
	assert_ok!(JobEscrow::submit_job(
		RuntimeOrigin::signed(Sr25519Keyring::Dave.to_account_id()),
		model,
		input.to_vec(),
		UNITS,
		100
	));
	job
}

#[test]
fn the_worker_commits_once_then_reveals_what_it_committed_and_the_job_verifies() {
	let (mut ext, backend, pool) = ext();
	ext.execute_with(|| {
		let job = submit(b"hello world");
		run_worker(1);
		assert_eq!(*backend.runs.lock().unwrap(), vec![(b"hello world".to_vec(), Role::Provider)]);
		// A second run for the same block (an overlapping worker) does nothing new.
		run_worker(1);
		assert_eq!(backend.runs.lock().unwrap().len(), 1);
		let calls = include(&pool);
		assert!(matches!(calls.as_slice(), [pallet_job_escrow::Call::commit_result { .. }]));
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Committed);

		// Reveals open at the audit decision; the worker reveals the stored output and salt.
		let decide = Jobs::<Runtime>::get(job).unwrap().wake_at;
		run_to(decide);
		assert!(matches!(
			Jobs::<Runtime>::get(job).unwrap().status,
			JobStatus::Revealing { audited: false }
		));
		run_worker(decide);
		let calls = include(&pool);
		assert!(matches!(calls.as_slice(), [pallet_job_escrow::Call::reveal_result { .. }]));
		let j = Jobs::<Runtime>::get(job).unwrap();
		assert_eq!(j.status, JobStatus::Verified);
		assert_eq!(
			pallet_job_escrow::Outputs::<Runtime>::get(job, Sr25519Keyring::Bob.to_account_id())
				.unwrap()
				.into_inner(),
			minilm_output()
		);
		assert_eq!(backend.runs.lock().unwrap().len(), 1, "the model ran once");
		assert_eq!(
			*backend.notes.lock().unwrap(),
			vec![WorkerEvent::Committed(Role::Provider), WorkerEvent::Revealed(Role::Provider)]
		);
		// Once paid, the job leaves the worker's inbox.
		run_to(j.wake_at);
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Settled);
		run_worker(j.wake_at);
		assert!(pool.read().transactions.is_empty());
		check_invariants();
	});
}

#[test]
fn a_model_missing_from_the_store_sends_nothing_and_is_retried_later() {
	use crate::worker::RETRY_FAILED_AFTER;
	let (mut ext, backend, pool) = ext();
	ext.execute_with(|| {
		*backend.fail.lock().unwrap() = Some(InferenceError::ModelNotInStore);
		let job = submit(b"hello world");
		run_worker(1);
		assert!(pool.read().transactions.is_empty(), "no commitment without an output");
		// The model arrives in the store; no retry until the back-off has passed.
		*backend.fail.lock().unwrap() = None;
		run_to(RETRY_FAILED_AFTER);
		run_worker(RETRY_FAILED_AFTER);
		assert_eq!(backend.runs.lock().unwrap().len(), 1, "no retry inside the back-off");
		let retry_at = 1 + RETRY_FAILED_AFTER;
		assert!(retry_at < Jobs::<Runtime>::get(job).unwrap().wake_at, "inside the commit window");
		run_to(retry_at);
		run_worker(retry_at);
		assert_eq!(backend.runs.lock().unwrap().len(), 2);
		let calls = include(&pool);
		assert!(matches!(calls.as_slice(), [pallet_job_escrow::Call::commit_result { .. }]));
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Committed);
	});
}

/// What runs is what the registry names: a node whose store holds MiniLM's weights behind
/// another tokenizer runs nothing and commits nothing (it is a no-show, not a liar), and
/// commits once the registered files are back.
#[test]
fn a_store_whose_files_differ_from_the_registry_commits_nothing() {
	use crate::worker::RETRY_FAILED_AFTER;
	let (mut ext, backend, pool) = ext();
	ext.execute_with(|| {
		let model = pallet_model_registry::Models::<Runtime>::get(MINILM).unwrap();
		assert_eq!(model.files.config_hash.0, MINILM_CONFIG);
		assert_eq!(model.files.tokenizer_hash.0, MINILM_TOKENIZER);
		backend.store.lock().unwrap().tokenizer = Some([0xee; 32]);
		let job = submit(b"hello world");
		run_worker(1);
		assert!(pool.read().transactions.is_empty(), "nothing committed");
		assert!(backend.runs.lock().unwrap().is_empty(), "nothing ran");
		assert!(backend.notes.lock().unwrap().is_empty());
		*backend.store.lock().unwrap() =
			ModelFiles::new(MINILM_WEIGHTS, MINILM_CONFIG, MINILM_TOKENIZER);
		let retry_at = 1 + RETRY_FAILED_AFTER;
		run_to(retry_at);
		run_worker(retry_at);
		let calls = include(&pool);
		assert!(matches!(calls.as_slice(), [pallet_job_escrow::Call::commit_result { .. }]));
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Committed);
	});
}

#[test]
fn without_local_keys_the_worker_does_nothing() {
	let mut ext = ext_from_preset(DEV_RUNTIME_PRESET);
	let (offchain, _) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let backend = Arc::new(Backend::default());
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(InferenceExt(backend.clone()));
	ext.execute_with(|| {
		submit(b"hello world");
		run_worker(1);
		assert!(pool_state.read().transactions.is_empty());
		assert!(backend.runs.lock().unwrap().is_empty());
	});
}

/// An input the engine itself refuses: the worker commits and reveals a refusal, which draws an
/// audit panel on the real runtime (the preset's auditors check MiniLM) instead of leaving the
/// provider to be slashed as a no-show.
#[test]
fn an_input_the_engine_refuses_is_committed_as_a_refusal_and_audited() {
	use codec::Encode;
	use infera_primitives::canonical::{CanonicalOutput, Refusal};
	let (mut ext, backend, pool) = ext();
	ext.execute_with(|| {
		*backend.fail.lock().unwrap() = Some(InferenceError::InvalidInput);
		let job = submit(b"text the tokenizer cannot read");
		run_worker(1);
		let calls = include(&pool);
		assert!(matches!(calls.as_slice(), [pallet_job_escrow::Call::commit_result { .. }]));
		let decide = Jobs::<Runtime>::get(job).unwrap().wake_at;
		run_to(decide);
		// Unaudited by the draw (5 %) or audited: either way the refusal is checked.
		let audited = matches!(
			Jobs::<Runtime>::get(job).unwrap().status,
			JobStatus::Auditing | JobStatus::Revealing { audited: true }
		);
		if !audited {
			run_worker(decide);
			let calls = include(&pool);
			let [pallet_job_escrow::Call::reveal_result { output, .. }] = calls.as_slice() else {
				panic!("one reveal: {calls:?}")
			};
			assert_eq!(*output, CanonicalOutput::Refused(Refusal::InputUnreadable).encode());
			// The next block's hook draws the panel.
			run_to(System::block_number() + 1);
			let j = Jobs::<Runtime>::get(job).unwrap();
			assert_eq!(j.status, JobStatus::Auditing, "the refusal drew a panel");
			assert_eq!(
				j.checkers.len() as u32,
				pallet_job_escrow::Params::<Runtime>::get().committee_size
			);
			assert!(events().iter().any(|e| matches!(
				e,
				RuntimeEvent::JobEscrow(pallet_job_escrow::Event::RefusalAudited { .. })
			)));
		}
		assert!(backend.notes.lock().unwrap().contains(&WorkerEvent::Committed(Role::Provider)));
		check_invariants();
	});
}

#[test]
fn the_jobs_of_one_model_in_a_block_run_in_batches_and_their_calls_leave_in_few_transactions() {
	let (mut ext, backend, pool) = ext();
	ext.execute_with(|| {
		// No audits, so that every job's reveal is the provider's alone.
		pallet_job_escrow::Params::<Runtime>::mutate(|p| {
			p.audit_rate = sp_runtime::Perbill::zero()
		});
		use crate::worker::{MAX_BATCH_JOBS, MAX_CALLS_PER_TRANSACTION};
		let count = MAX_CALLS_PER_TRANSACTION + 2;
		let inputs: Vec<Vec<u8>> =
			(0..count).map(|i| format!("sentence {i}").into_bytes()).collect();
		let jobs: Vec<_> = inputs.iter().map(|i| submit(i)).collect();
		run_worker(1);
		// Engine calls of 16 (equal deadlines: by job id), then the rest.
		let batches: Vec<usize> =
			(0..count).step_by(MAX_BATCH_JOBS).map(|i| (count - i).min(MAX_BATCH_JOBS)).collect();
		assert_eq!(*backend.batches.lock().unwrap(), batches);
		let ran: Vec<Vec<u8>> =
			backend.runs.lock().unwrap().iter().map(|(i, _)| i.clone()).collect();
		assert_eq!(ran, inputs);
		// Every job's commitment went out, each engine call's in one transaction (a force_batch:
		// one signature, one transaction's overhead), with consecutive nonces, and lands.
		let txs = include_txs(&pool);
		let sizes: Vec<usize> = txs.iter().map(Vec::len).collect();
		assert_eq!(sizes, batches);
		assert_eq!(txs.concat().len(), count);
		for job in &jobs {
			assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Committed);
		}
		// Nothing runs twice: the next block's worker has no commit left to run.
		run_worker(2);
		assert_eq!(backend.batches.lock().unwrap().len(), batches.len());
		assert!(pool.read().transactions.is_empty());
		// Reveals open: they go out 32 to a transaction, and every job verifies.
		run_to(3);
		run_worker(3);
		let sizes: Vec<usize> = include_txs(&pool).iter().map(Vec::len).collect();
		assert_eq!(sizes, vec![MAX_CALLS_PER_TRANSACTION, 2]);
		for job in &jobs {
			assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Verified);
		}
		check_invariants();
	});
}

#[test]
fn an_unreadable_input_in_a_batch_is_refused_alone_and_its_neighbours_commit_their_outputs() {
	let (mut ext, backend, pool) = ext();
	ext.execute_with(|| {
		// A client slips an input the engine refuses between two honest jobs.
		let inputs: [&[u8]; 3] = [b"first", b"unreadable: poisons the batch?", b"third"];
		let jobs: Vec<_> = inputs.iter().map(|i| submit(i)).collect();
		run_worker(1);
		assert_eq!(*backend.batches.lock().unwrap(), vec![3], "one call for the three");
		assert_eq!(include(&pool).len(), 3, "every job's commitment went out");
		let bob = Sr25519Keyring::Bob.to_account_id();
		use infera_primitives::canonical::{CanonicalOutput, Refusal};
		let refusal = CanonicalOutput::Refused(Refusal::InputUnreadable).encode();
		for (job, input) in jobs.iter().zip(inputs) {
			assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Committed);
			let stored = crate::worker::stored_output(*job, &bob).unwrap();
			if input.starts_with(b"unreadable") {
				assert_eq!(stored, refusal, "the refused input is committed as a refusal");
			} else {
				assert_eq!(stored, minilm_output(), "its neighbours commit their real outputs");
			}
		}
		check_invariants();
	});
}

#[test]
fn the_registration_not_the_local_manifest_decides_what_a_worker_commits() {
	use crate::genesis_config_presets::{
		DECODER, DECODER_CONFIG, DECODER_MAX_TOKENS, DECODER_WEIGHTS,
	};
	use infera_primitives::canonical::CanonicalOutput;
	let (mut ext, backend, pool) = ext();
	ext.execute_with(|| {
		// This node's store holds the decoder under a manifest that allows 40 new tokens; the
		// registry says 16. Greedy decoding extends its prefix, so the first 16 tokens are what a
		// run stopped at 16 gives: the worker commits exactly those.
		*backend.store.lock().unwrap() =
			ModelFiles::new(DECODER_WEIGHTS, DECODER_CONFIG, MINILM_TOKENIZER);
		let long: Vec<u32> = (2000..2040).collect();
		*backend.answer.lock().unwrap() = Some(CanonicalOutput::Generation(long.clone()).encode());
		let job = submit_to(DECODER, b"Once upon a time");
		run_worker(1);
		assert!(matches!(
			include(&pool).as_slice(),
			[pallet_job_escrow::Call::commit_result { .. }]
		));
		let decide = Jobs::<Runtime>::get(job).unwrap().wake_at;
		run_to(decide);
		run_worker(decide);
		assert!(matches!(
			include(&pool).as_slice(),
			[pallet_job_escrow::Call::reveal_result { .. }]
		));
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Verified);
		let revealed =
			pallet_job_escrow::Outputs::<Runtime>::get(job, Sr25519Keyring::Bob.to_account_id())
				.unwrap();
		let cut = long.get(..DECODER_MAX_TOKENS as usize).unwrap().to_vec();
		assert_eq!(revealed.into_inner(), CanonicalOutput::Generation(cut).encode());

		// A store model that answers with another kind of output than the registration names
		// commits nothing (a commitment it could never reveal would be slashed as withheld).
		*backend.answer.lock().unwrap() =
			Some(CanonicalOutput::Classification { class: 0, logits: vec![1, 2, 3] }.encode());
		let other = submit_to(DECODER, b"Another prompt");
		let now = System::block_number();
		run_worker(now);
		assert!(pool.read().transactions.is_empty(), "nothing committed");
		assert!(matches!(Jobs::<Runtime>::get(other).unwrap().status, JobStatus::Assigned));
		check_invariants();
	});
}
