//! The offchain worker: runs the jobs assigned to this node's `infr` keys.
//!
//! Each new best block, for every local worker key:
//! 1. the block's `JobEscrow` events name new work (`JobAssigned`, `AuditDecided`,
//!    `CheckersReplaced`); those jobs join an inbox in offchain local storage;
//! 2. under a storage lock (so overlapping runs never do a job twice), every job in the inbox is
//!    looked at: when reveals open, the stored output is revealed; the jobs a local key must
//!    commit are gathered, grouped by model and run through the inference host function in
//!    batches (`run_batch`), earliest commit deadline first. After each batch its outputs and
//!    fresh salts are stored *before* the signed `commit_result`s go out, so a restarted node can
//!    still reveal, and the commits leave before the next batch runs: a long batch delays only
//!    what comes after it, and work left when the run's time budget is spent waits for the next
//!    block. A key's calls that leave together go as one transaction (`Utility::force_batch`
//!    when there are several): one signature, one fee's overhead, and one failed call does not
//!    stop the others. Who owes what in which status is the pallet's phase table
//!    (`pallet_job_escrow::phases`), not a copy;
//! 3. finished jobs leave the inbox and their records are cleared.
//!
//! Nothing here runs during block execution, and the host function refuses to run there.

use crate::{
	AccountId, BlockNumber, Nonce, Runtime, RuntimeCall, RuntimeEvent, Signature, SignedPayload,
	System, UncheckedExtrinsic,
};
use alloc::{collections::BTreeMap, vec::Vec};
use codec::{Decode, DecodeAll, Encode};
use frame_system::offchain::{
	AppCrypto, CreateSignedTransaction, CreateTransactionBase, SigningTypes, SubmitTransaction,
};
use infera_interface::{inference, InferenceError, ModelFiles, WorkerEvent};
use infera_primitives::{
	canonical::{CanonicalOutput, Refusal},
	JobId, Role, Verdict,
};
use pallet_job_escrow::{
	phases::{self, Due},
	Event as JobEvent, JobOf,
};
use sp_core::{sr25519, H256};
use sp_runtime::{
	generic::Era,
	offchain::{
		storage::StorageValueRef,
		storage_lock::{BlockAndTime, StorageLock},
	},
	traits::{IdentifyAccount, Verify},
	MultiAddress, MultiSigner, RuntimeAppPublic, SaturatedConversion,
};

const LOG: &str = "infera::worker";
const INBOX: &[u8] = b"infera/worker/inbox";
const LOCK: &[u8] = b"infera/worker/lock";
const WORK_PREFIX: &[u8] = b"infera/worker/work/";
const FAILED_PREFIX: &[u8] = b"infera/worker/failed/";
const NONCE_PREFIX: &[u8] = b"infera/worker/nonce/";
/// Jobs the inbox keeps at most (oldest dropped first, with a warning).
const MAX_INBOX: usize = 1024;
/// Blocks to wait for a submitted transaction before sending it again.
const RESEND_AFTER: BlockNumber = 5;
/// Blocks to wait before retrying a job whose model could not run here (well inside a commit
/// window, so a model put into the store in time still makes it).
pub const RETRY_FAILED_AFTER: BlockNumber = 3;
/// Blocks a locally remembered next nonce is trusted over the chain's (transactions in the pool).
const NONCE_MEMORY: BlockNumber = 4;
/// Jobs of one model the worker hands to the engine in one call: their commits leave together.
pub const MAX_BATCH_JOBS: usize = 16;
/// Calls one transaction carries at most: 32 reveals of the largest output are 0.5 MiB and about
/// 80 ms of declared weight, well inside a block.
pub const MAX_CALLS_PER_TRANSACTION: usize = 32;
/// Milliseconds of inference after which a run starts no new batch (the storage lock lasts 120 s);
/// the jobs left wait for the next block's run, earliest deadline first.
const RUN_BUDGET_MS: u64 = 60_000;

/// The worker's signing crypto: `infr` sr25519 keys, signing as the account they derive.
pub struct WorkerAuthId;

impl AppCrypto<<Signature as Verify>::Signer, Signature> for WorkerAuthId {
	type RuntimeAppPublic = infera_interface::crypto::Public;
	type GenericSignature = sr25519::Signature;
	type GenericPublic = sr25519::Public;
}

impl SigningTypes for Runtime {
	type Public = <Signature as Verify>::Signer;
	type Signature = Signature;
}

impl<C> CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

/// Unsigned transactions the runtime builds itself: BABE's and GRANDPA's equivocation reports.
impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}

impl<C> CreateSignedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_signed_transaction<A: AppCrypto<Self::Public, Self::Signature>>(
		call: RuntimeCall,
		public: Self::Public,
		account: AccountId,
		nonce: Nonce,
	) -> Option<UncheckedExtrinsic> {
		// Valid for 64 blocks from the block the worker saw.
		let current = System::block_number().saturated_into::<u64>().saturating_sub(1);
		let tx_ext = crate::tx_extension(Era::mortal(64, current), nonce);
		let payload = SignedPayload::new(call, tx_ext).ok()?;
		let signature = payload.using_encoded(|bytes| A::sign(bytes, public))?;
		let (call, tx_ext, _) = payload.deconstruct();
		Some(UncheckedExtrinsic::new_signed(call, MultiAddress::Id(account), signature, tx_ext))
	}
}

/// What this node did for one party of one job: enough to reveal after a restart.
#[derive(Encode, Decode)]
struct Work {
	role: Role,
	output: Vec<u8>,
	salt: [u8; 32],
	commit_sent_at: BlockNumber,
	reveal_sent_at: Option<BlockNumber>,
}

/// A local worker key and the account it signs for.
struct Key {
	account: AccountId,
	signer: MultiSigner,
}

/// The worker's entry point, called by `OffchainWorkerApi::offchain_worker` after the pallets'.
pub fn run(now: BlockNumber) {
	let keys = local_keys();
	if keys.is_empty() {
		return;
	}
	let is_local = |who: &AccountId| keys.iter().any(|k| &k.account == who);
	let mut new_work = Vec::new();
	for record in System::read_events_no_consensus() {
		let RuntimeEvent::JobEscrow(event) = record.event else { continue };
		match event {
			JobEvent::JobAssigned { job, provider, .. } if is_local(&provider) => {
				new_work.push(job)
			}
			JobEvent::AuditDecided { job, checkers, .. }
			| JobEvent::CheckersReplaced { job, checkers }
				if checkers.iter().any(is_local) =>
			{
				new_work.push(job)
			}
			JobEvent::JobVerified { job, verdict, .. } => note_verdict(job, verdict),
			JobEvent::AuditJudged { job, verdict, .. } => note_verdict(job, verdict),
			_ => {}
		}
	}
	if !new_work.is_empty() {
		update_inbox(|inbox| {
			for job in &new_work {
				if !inbox.contains(job) {
					inbox.push(*job);
				}
			}
			if inbox.len() > MAX_INBOX {
				let excess = inbox.len().saturating_sub(MAX_INBOX);
				log::warn!(target: LOG, "inbox full: dropping the {excess} oldest jobs");
				inbox.drain(..excess);
			}
		});
	}

	let mut lock = StorageLock::<BlockAndTime<System>>::with_block_and_time_deadline(
		LOCK,
		10,
		sp_core::offchain::Duration::from_millis(120_000),
	);
	let Ok(_guard) = lock.try_lock() else {
		log::debug!(target: LOG, "block {now}: an earlier run still works; the inbox waits");
		return;
	};
	let inbox: Vec<JobId> =
		StorageValueRef::persistent(INBOX).get().ok().flatten().unwrap_or_default();
	let mut nonces = BTreeMap::new();
	let mut pending = Vec::new();
	let mut outbox = Outbox::default();
	let finished: Vec<JobId> = inbox
		.into_iter()
		.filter(|id| !work_on(*id, now, &keys, &mut outbox, &mut pending))
		.collect();
	// Reveals and commitments sent again leave before any inference runs.
	outbox.flush(&keys, now, &mut nonces);
	run_pending(pending, now, &keys, &mut outbox, &mut nonces);
	if !finished.is_empty() {
		update_inbox(|inbox| inbox.retain(|id| !finished.contains(id)));
		for id in &finished {
			for key in &keys {
				StorageValueRef::persistent(&record_key(WORK_PREFIX, *id, &key.account)).clear();
				StorageValueRef::persistent(&record_key(FAILED_PREFIX, *id, &key.account)).clear();
			}
		}
	}
	for (account, next) in nonces {
		StorageValueRef::persistent(&nonce_key(&account)).set(&(next, now));
	}
}

/// The `infr` keys in this node's keystore.
fn local_keys() -> Vec<Key> {
	<infera_interface::crypto::Public as RuntimeAppPublic>::all()
		.into_iter()
		.map(|public| {
			let signer = MultiSigner::from(sr25519::Public::from(public));
			Key { account: signer.clone().into_account(), signer }
		})
		.collect()
}

/// Changes the inbox atomically (compare-and-set against overlapping runs).
fn update_inbox(change: impl Fn(&mut Vec<JobId>)) {
	let result = StorageValueRef::persistent(INBOX).mutate(
		|old: Result<Option<Vec<JobId>>, _>| -> Result<Vec<JobId>, ()> {
			let mut inbox = old.ok().flatten().unwrap_or_default();
			change(&mut inbox);
			Ok(inbox)
		},
	);
	if result.is_err() {
		log::warn!(target: LOG, "inbox changed concurrently; the change is retried next block");
	}
}

/// The output this node stored for `job` as `who` before committing it (tests read what was
/// committed).
#[cfg(test)]
pub(crate) fn stored_output(job: JobId, who: &AccountId) -> Option<Vec<u8>> {
	StorageValueRef::persistent(&record_key(WORK_PREFIX, job, who))
		.get::<Work>()
		.ok()
		.flatten()
		.map(|w| w.output)
}

fn record_key(prefix: &[u8], job: JobId, who: &AccountId) -> Vec<u8> {
	(prefix, job, who).encode()
}

fn nonce_key(who: &AccountId) -> Vec<u8> {
	(NONCE_PREFIX, who).encode()
}

fn note_verdict(job: JobId, verdict: Verdict) {
	let inbox: Vec<JobId> =
		StorageValueRef::persistent(INBOX).get().ok().flatten().unwrap_or_default();
	if !inbox.contains(&job) || verdict == Verdict::NoResult {
		return;
	}
	log::info!(target: LOG, "job {}: verdict {}", job.0, verdict.name());
	inference::note(WorkerEvent::Verdict(verdict));
}

/// Looks at job `id` for every local key: reveals what is due now and adds the commits that need
/// the model run to `pending`. Returns whether the job stays in the inbox (a local key plays a
/// part in it).
fn work_on(
	id: JobId,
	now: BlockNumber,
	keys: &[Key],
	outbox: &mut Outbox,
	pending: &mut Vec<Pending>,
) -> bool {
	let Some(job) = pallet_job_escrow::Jobs::<Runtime>::get(id) else { return false };
	if !job.status.is_open() {
		return false;
	}
	let mut involved = false;
	for (index, key) in keys.iter().enumerate() {
		let Some((role, party)) =
			phases::role_of(job.provider.as_ref(), &job.checkers, &key.account)
		else {
			continue;
		};
		involved = true;
		match phases::due(job.status, role, party) {
			Due::Commit => {
				if let Some(run) = prepare_commit(id, &job, role, now, key, index, outbox) {
					pending.push(run);
				}
			}
			Due::Reveal => reveal(id, role, now, key, index, outbox),
			Due::Nothing => {}
		}
	}
	involved
}

/// A commit that needs the model run: the job, who commits it, and what to run.
struct Pending {
	id: JobId,
	model: infera_primitives::ModelId,
	files: ModelFiles,
	input: Vec<u8>,
	role: Role,
	/// Index of the committing key in the run's keys.
	key: usize,
	/// The block the commit phase times out at.
	deadline: BlockNumber,
}

/// What committing job `id` as `key` needs: nothing when the output is stored already (the
/// commitment goes out again if it is overdue) or the model failed here recently; else the run
/// to do.
fn prepare_commit(
	id: JobId,
	job: &JobOf<Runtime>,
	role: Role,
	now: BlockNumber,
	key: &Key,
	key_index: usize,
	outbox: &mut Outbox,
) -> Option<Pending> {
	let work_key = record_key(WORK_PREFIX, id, &key.account);
	let work_ref = StorageValueRef::persistent(&work_key);
	if let Ok(Some(work)) = work_ref.get::<Work>() {
		// Ran already: the commitment is on its way, or was dropped and goes out again.
		if work.commit_sent_at.saturating_add(RESEND_AFTER) <= now {
			log::info!(target: LOG, "job {}: commitment not on chain yet; sending it again", id.0);
			let call = commit_call(id, &key.account, &work);
			outbox.push(key_index, id, role, call, Sent::Recommit(work));
		}
		return None;
	}
	let failed_key = record_key(FAILED_PREFIX, id, &key.account);
	if let Ok(Some(at)) = StorageValueRef::persistent(&failed_key).get::<BlockNumber>() {
		if at.saturating_add(RETRY_FAILED_AFTER) > now {
			return None;
		}
	}
	let Some(model) = pallet_model_registry::Models::<Runtime>::get(job.model) else {
		log::warn!(target: LOG, "job {}: model {} is not registered; skipped", id.0, job.model.0);
		return None;
	};
	// The registry's three hashes: the engine refuses a store whose files are not these.
	let files = ModelFiles::new(
		model.files.weights_hash.0,
		model.files.config_hash.0,
		model.files.tokenizer_hash.0,
	);
	Some(Pending {
		id,
		model: job.model,
		files,
		input: job.input.to_vec(),
		role,
		key: key_index,
		deadline: job.wake_at,
	})
}

/// Runs the pending commits: grouped by model, earliest deadline first, at most
/// [`MAX_BATCH_JOBS`] a call; each batch's commits go out before the next batch runs, and no
/// batch starts once [`RUN_BUDGET_MS`] of inference has passed.
fn run_pending(
	mut pending: Vec<Pending>,
	now: BlockNumber,
	keys: &[Key],
	outbox: &mut Outbox,
	nonces: &mut BTreeMap<AccountId, Nonce>,
) {
	pending.sort_by_key(|p| (p.deadline, p.id.0));
	let started = sp_io::offchain::timestamp();
	while !pending.is_empty() {
		let spent = sp_io::offchain::timestamp().diff(&started).millis();
		if spent >= RUN_BUDGET_MS {
			log::warn!(
				target: LOG,
				"block {now}: {spent} ms of inference in this run; {} commits wait for the next run",
				pending.len()
			);
			return;
		}
		// The most urgent job's model, with up to MAX_BATCH_JOBS of its jobs in deadline order.
		let Some(files) = pending.first().map(|p| p.files) else { return };
		let mut batch = Vec::new();
		let mut rest = Vec::with_capacity(pending.len());
		for p in pending {
			if p.files == files && batch.len() < MAX_BATCH_JOBS {
				batch.push(p);
			} else {
				rest.push(p);
			}
		}
		pending = rest;
		let inputs: Vec<(Vec<u8>, Role)> =
			batch.iter().map(|p| (p.input.clone(), p.role)).collect();
		let ran_at = sp_io::offchain::timestamp();
		let results = inference::run_batch(files, inputs);
		let ms = sp_io::offchain::timestamp().diff(&ran_at).millis();
		if batch.len() > 1 {
			log::info!(
				target: LOG,
				"block {now}: ran {} jobs of model {} in one batch in {ms} ms",
				batch.len(),
				batch.first().map_or(0, |p| p.model.0),
			);
		}
		for (p, ran) in batch.into_iter().zip(results) {
			if let Some(key) = keys.get(p.key) {
				finish_commit(p, ran, now, ms, key, outbox);
			}
		}
		// This batch's commits leave before the next batch runs.
		outbox.flush(keys, now, nonces);
	}
}

/// Stores the output of a pending commit with a fresh salt, then sends the commitment; or
/// records the failure so the job is retried after [`RETRY_FAILED_AFTER`] blocks.
fn finish_commit(
	p: Pending,
	ran: Result<Vec<u8>, InferenceError>,
	now: BlockNumber,
	ms: u64,
	key: &Key,
	outbox: &mut Outbox,
) {
	let Pending { id, model, files, input, role, key: key_index, .. } = p;
	// An input the engine itself refuses is the client's problem: the worker commits that
	// refusal as its result, and the audit checks it like any other.
	let ran = match ran {
		Err(InferenceError::InvalidInput) => {
			log::info!(
				target: LOG,
				"job {}: model {} cannot run this input; committing a refusal as {}",
				id.0,
				model.0,
				role.name(),
			);
			Ok(CanonicalOutput::Refused(Refusal::InputUnreadable).encode())
		}
		Ok(output) => fit_to_registration(id, model, output),
		other => other,
	};
	match ran {
		Ok(output) => {
			let work = Work {
				role,
				output,
				salt: sp_io::offchain::random_seed(),
				commit_sent_at: now,
				reveal_sent_at: None,
			};
			// Stored before the commitment leaves: a restart can always reveal what it committed.
			StorageValueRef::persistent(&record_key(WORK_PREFIX, id, &key.account)).set(&work);
			let call = commit_call(id, &key.account, &work);
			let ran = Ran { model, bytes: input.len(), ms };
			outbox.push(key_index, id, role, call, Sent::Commit(ran));
		}
		Err(error) => {
			StorageValueRef::persistent(&record_key(FAILED_PREFIX, id, &key.account)).set(&now);
			let hint = match error {
				InferenceError::ModelNotInStore =>
					"this node's model store lacks its weights: run scripts/fetch-model or import the model",
				InferenceError::ModelCorrupt => "the stored files fail their hash check: fetch them again",
				InferenceError::Unavailable => "this node has no inference engine attached",
				InferenceError::InvalidInput => "the input cannot be run by this model",
				InferenceError::UnsupportedArchitecture => "this engine does not run the model's architecture",
				InferenceError::EngineFailure => "the engine failed; see the lines above",
				InferenceError::FilesDiffer =>
					"the store's config or tokenizer is not the registered file: fetch the registered files; nothing is committed",
			};
			log::warn!(
				target: LOG,
				"job {}: cannot run model {} (weights {:?}) as {}: {:?}: {hint}; retrying in {} blocks",
				id.0,
				model.0,
				H256(files.weights),
				role.name(),
				error,
				RETRY_FAILED_AFTER,
			);
		}
	}
}

/// The engine's output as the model's registration allows it: the registered architecture's
/// parameters decide, not the local store's manifest. A generation longer than the registered
/// `max_tokens` is cut there, which is exactly what a run stopped at `max_tokens` produces
/// (greedy decoding extends its prefix token by token); an output of another kind or shape than
/// the registration (a class count or dimension the registry does not name) is not committed:
/// the store holds a different model than the one registered.
fn fit_to_registration(
	id: JobId,
	model: infera_primitives::ModelId,
	output: Vec<u8>,
) -> Result<Vec<u8>, InferenceError> {
	use infera_primitives::Architecture as A;
	let architecture = pallet_model_registry::Models::<Runtime>::get(model).map(|m| m.architecture);
	let Ok(decoded) = CanonicalOutput::decode_all(&mut &*output) else {
		return Err(InferenceError::EngineFailure);
	};
	let fitted = match (architecture, decoded) {
		(Some(A::Generation { max_tokens, .. }), CanonicalOutput::Generation(mut tokens)) => {
			let limit = usize::try_from(max_tokens).unwrap_or(usize::MAX);
			if tokens.len() <= limit {
				return Ok(output);
			}
			tokens.truncate(limit);
			CanonicalOutput::Generation(tokens)
		}
		(
			Some(A::Generation { max_tokens, .. }),
			CanonicalOutput::CheckedGeneration { mut tokens, mut near },
		) => {
			let limit = usize::try_from(max_tokens).unwrap_or(usize::MAX);
			if tokens.len() <= limit {
				return Ok(output);
			}
			tokens.truncate(limit);
			near.retain(|n| usize::try_from(n.step).is_ok_and(|s| s < limit));
			CanonicalOutput::CheckedGeneration { tokens, near }
		}
		(_, CanonicalOutput::Refused(_)) => return Ok(output),
		(Some(A::TextEmbedding { dimensions, .. }), CanonicalOutput::Embedding(v))
			if u32::try_from(v.len()) == Ok(dimensions) =>
		{
			return Ok(output)
		}
		(
			Some(A::Classification { classes, .. }),
			CanonicalOutput::Classification { logits, .. },
		) if u32::try_from(logits.len()) == Ok(classes) => return Ok(output),
		_ => {
			log::warn!(
				target: LOG,
				"job {}: the store's model {} computes an output of another shape than its \
				 registration; nothing is committed",
				id.0,
				model.0,
			);
			return Err(InferenceError::UnsupportedArchitecture);
		}
	};
	Ok(fitted.encode())
}

fn commit_call(id: JobId, who: &AccountId, work: &Work) -> pallet_job_escrow::Call<Runtime> {
	let output_hash = H256(sp_io::hashing::blake2_256(&work.output));
	let commitment = pallet_job_escrow::commitment_of(id, who, &output_hash, &work.salt);
	pallet_job_escrow::Call::commit_result { job: id, commitment }
}

fn reveal(
	id: JobId,
	role: Role,
	now: BlockNumber,
	key: &Key,
	key_index: usize,
	outbox: &mut Outbox,
) {
	let work_key = record_key(WORK_PREFIX, id, &key.account);
	let work_ref = StorageValueRef::persistent(&work_key);
	let Ok(Some(work)) = work_ref.get::<Work>() else {
		log::warn!(
			target: LOG,
			"job {}: committed as {} but this node kept no output (offchain storage lost?); cannot reveal",
			id.0,
			role.name(),
		);
		return;
	};
	if work.reveal_sent_at.is_some_and(|at| at.saturating_add(RESEND_AFTER) > now) {
		return;
	}
	let call = pallet_job_escrow::Call::reveal_result {
		job: id,
		output: work.output.clone(),
		salt: work.salt,
	};
	outbox.push(key_index, id, role, call, Sent::Reveal(work));
}

/// What the engine did for a commitment, for the log line once it is sent.
struct Ran {
	model: infera_primitives::ModelId,
	bytes: usize,
	ms: u64,
}

/// What to record once a call has gone to the pool.
enum Sent {
	/// A first commitment (its output and salt are stored already).
	Commit(Ran),
	/// A commitment sent again: `commit_sent_at` moves to now.
	Recommit(Work),
	/// A reveal: `reveal_sent_at` is set to now.
	Reveal(Work),
}

/// The calls of a run that leave together, by the index of the key that signs them.
#[derive(Default)]
struct Outbox {
	calls: BTreeMap<usize, Vec<(JobId, Role, pallet_job_escrow::Call<Runtime>, Sent)>>,
}

impl Outbox {
	fn push(
		&mut self,
		key: usize,
		id: JobId,
		role: Role,
		call: pallet_job_escrow::Call<Runtime>,
		sent: Sent,
	) {
		self.calls.entry(key).or_default().push((id, role, call, sent));
	}

	/// Sends each key's calls as one transaction (at most [`MAX_CALLS_PER_TRANSACTION`] a
	/// transaction): the call itself when there is one, a `Utility::force_batch` of them when
	/// there are several (a failed call, say a reveal that came too late, does not stop the
	/// others). Then records what was sent.
	fn flush(&mut self, keys: &[Key], now: BlockNumber, nonces: &mut BTreeMap<AccountId, Nonce>) {
		for (index, mut calls) in core::mem::take(&mut self.calls) {
			let Some(key) = keys.get(index) else { continue };
			while !calls.is_empty() {
				let rest = calls.split_off(calls.len().min(MAX_CALLS_PER_TRANSACTION));
				let chunk = core::mem::replace(&mut calls, rest);
				Self::send(chunk, key, now, nonces);
			}
		}
	}

	fn send(
		calls: Vec<(JobId, Role, pallet_job_escrow::Call<Runtime>, Sent)>,
		key: &Key,
		now: BlockNumber,
		nonces: &mut BTreeMap<AccountId, Nonce>,
	) {
		let Some(role) = calls.first().map(|(_, role, _, _)| *role) else { return };
		let call: RuntimeCall = match calls.as_slice() {
			[(_, _, call, _)] => call.clone().into(),
			_ => pallet_utility::Call::<Runtime>::force_batch {
				calls: calls.iter().map(|(_, _, call, _)| call.clone().into()).collect(),
			}
			.into(),
		};
		let sent = submit(call, key, role, now, nonces);
		if sent && calls.len() > 1 {
			log::info!(
				target: LOG,
				"block {now}: {} calls of {} sent in one transaction",
				calls.len(),
				role.name()
			);
		}
		for (id, role, _, what) in calls {
			record_sent(id, role, &key.account, now, what, sent);
		}
	}
}

/// Notes what a call that went to the pool (`sent`) or did not changes.
fn record_sent(id: JobId, role: Role, who: &AccountId, now: BlockNumber, what: Sent, sent: bool) {
	let work_key = record_key(WORK_PREFIX, id, who);
	let work_ref = StorageValueRef::persistent(&work_key);
	match what {
		Sent::Commit(Ran { model, bytes, ms }) => {
			log::info!(
				target: LOG,
				"job {}: ran model {} ({bytes} input bytes) in {ms} ms as {}, {}",
				id.0,
				model.0,
				role.name(),
				if sent { "committed" } else { "commit not accepted by the pool; retrying" },
			);
			if sent {
				inference::note(WorkerEvent::Committed(role));
			}
		}
		Sent::Recommit(work) if sent => {
			inference::note(WorkerEvent::Committed(role));
			work_ref.set(&Work { commit_sent_at: now, ..work });
		}
		Sent::Reveal(work) if sent => {
			log::info!(target: LOG, "job {}: revealed as {}", id.0, role.name());
			inference::note(WorkerEvent::Revealed(role));
			work_ref.set(&Work { reveal_sent_at: Some(now), ..work });
		}
		Sent::Recommit(_) | Sent::Reveal(_) => {}
	}
}

/// Signs `call` with `key` and hands it to the pool. Nonces count up across the transactions of
/// one run and, for a few blocks, across runs (transactions still in the pool).
fn submit(
	call: RuntimeCall,
	key: &Key,
	role: Role,
	now: BlockNumber,
	nonces: &mut BTreeMap<AccountId, Nonce>,
) -> bool {
	let nonce = *nonces.entry(key.account.clone()).or_insert_with(|| {
		let chain = System::account_nonce(&key.account);
		let remembered = StorageValueRef::persistent(&nonce_key(&key.account))
			.get::<(Nonce, BlockNumber)>()
			.ok()
			.flatten()
			.filter(|(_, at)| at.saturating_add(NONCE_MEMORY) >= now)
			.map(|(n, _)| n);
		remembered.map_or(chain, |n| n.max(chain))
	});
	let xt = <Runtime as CreateSignedTransaction<RuntimeCall>>::create_signed_transaction::<
		WorkerAuthId,
	>(call, key.signer.clone(), key.account.clone(), nonce);
	let Some(xt) = xt else {
		log::warn!(
			target: LOG,
			"could not sign a transaction as {} (key missing from the keystore, or no recent block hash)",
			role.name()
		);
		inference::note(WorkerEvent::SubmitFailed(role));
		return false;
	};
	let sent = SubmitTransaction::<Runtime, RuntimeCall>::submit_transaction(xt).is_ok();
	if sent {
		nonces.insert(key.account.clone(), nonce.saturating_add(1));
	} else {
		log::warn!(target: LOG, "the pool refused a transaction of {} (nonce {nonce})", role.name());
		inference::note(WorkerEvent::SubmitFailed(role));
	}
	sent
}
