//! What the dispatchables do: submission and assignment, commit and reveal, cancellation.

use crate::{
	pallet::*,
	phases::{self, Role},
	BalanceOf, Job, JobKey, JobOf, JobStatus, Party, RefundReason, Verdict, WeightInfo,
	AUDIT_DECISION_DELAY,
};
use alloc::vec::Vec;
use codec::{DecodeAll, Encode};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, Get, Randomness},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::{
	canonical::CanonicalOutput,
	tolerance::{vote, Vote},
	traits::{ComputeProviders, ModelRegistry},
	JobId, ModelId,
};
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, Saturating, Zero},
	ArithmeticError, DispatchError, DispatchResult,
};

impl<T: Config> Pallet<T> {
	pub(crate) fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
	}

	pub(crate) fn escrow_reason() -> T::RuntimeHoldReason {
		HoldReason::JobEscrow.into()
	}

	/// The job's price for an input of `len` bytes.
	pub fn price_for(len: u32) -> Result<BalanceOf<T>, DispatchError> {
		let p = Params::<T>::get();
		p.fee_per_byte
			.checked_mul(&BalanceOf::<T>::from(len))
			.and_then(|v| v.checked_add(&p.base_fee))
			.ok_or_else(|| ArithmeticError::Overflow.into())
	}

	/// Provider stake a job of `price` locks (each checker of its audit locks as much).
	pub fn stake_for(price: BalanceOf<T>) -> BalanceOf<T> {
		price.saturating_mul(BalanceOf::<T>::from(Params::<T>::get().collateral_ratio))
	}

	/// 32 bytes nobody could know when they signed the transaction that triggers the draw: the
	/// runtime's randomness (on Infera the VRF output of the block being built, see ADR 0009),
	/// mixed with a purpose and the job.
	pub(crate) fn random_seed(purpose: &[u8], job: JobId) -> [u8; 32] {
		let subject = (purpose, job).encode();
		let (random, _) = T::Randomness::random(&subject);
		let random = random.unwrap_or_else(frame_system::Pallet::<T>::parent_hash);
		sp_io::hashing::blake2_256(&(random, subject).encode())
	}

	pub(crate) fn seed_u64(seed: &[u8; 32], round: u32) -> u64 {
		let h = sp_io::hashing::blake2_256(&(seed, round).encode());
		u64::from_le_bytes(*h.first_chunk::<8>().unwrap_or(&[0u8; 8]))
	}

	// ---------------------------------------------------------------- submission

	pub(crate) fn do_submit(
		client: T::AccountId,
		model: ModelId,
		input: Vec<u8>,
		max_fee: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
	) -> Result<JobId, DispatchError> {
		let ids = Self::do_submit_many(client, model, alloc::vec![input], max_fee, deadline)?;
		ids.first().copied().ok_or_else(|| Error::<T>::NoInputs.into())
	}

	/// Submits one job per input, all of `model` with the same `max_fee` and `deadline`: every
	/// input is checked first, then the escrow of all of them is held at once, then each job is
	/// assigned or queued. Any failure leaves nothing behind (the dispatch is transactional).
	pub(crate) fn do_submit_many(
		client: T::AccountId,
		model: ModelId,
		inputs: Vec<Vec<u8>>,
		max_fee: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
	) -> Result<Vec<JobId>, DispatchError> {
		ensure!(!inputs.is_empty(), Error::<T>::NoInputs);
		let count = u32::try_from(inputs.len()).map_err(|_| Error::<T>::TooManyInputs)?;
		ensure!(count <= T::MaxJobsPerCall::get(), Error::<T>::TooManyInputs);
		let params = Params::<T>::get();
		let now = Self::now();
		ensure!(T::ModelRegistry::is_active(model), Error::<T>::ModelNotActive);
		let architecture =
			T::ModelRegistry::architecture(model).ok_or(Error::<T>::ModelNotActive)?;
		ensure!(max_fee <= params.max_fee, Error::<T>::FeeTooHigh);
		ensure!(deadline > now, Error::<T>::DeadlineInPast);
		ensure!(deadline >= Self::shortest_deadline(now), Error::<T>::DeadlineTooSoon);
		ensure!(deadline <= now.saturating_add(params.max_deadline), Error::<T>::DeadlineTooFar);
		let mut checked = Vec::with_capacity(inputs.len());
		for input in inputs {
			ensure!(!input.is_empty(), Error::<T>::EmptyInput);
			ensure!(architecture.reads(&input), Error::<T>::InputNotText);
			let len = u32::try_from(input.len()).map_err(|_| Error::<T>::InputTooLong)?;
			let input: BoundedVec<u8, T::MaxInputLen> =
				input.try_into().map_err(|_| Error::<T>::InputTooLong)?;
			let price = Self::price_for(len)?;
			ensure!(max_fee >= price, Error::<T>::FeeBelowPrice);
			checked.push((input, price));
		}
		let first = NextJobId::<T>::get();
		let mut next = first;
		for _ in 0..count {
			next = next.next().ok_or(Error::<T>::JobIdsExhausted)?;
		}
		let escrow = max_fee.checked_mul(&count.into()).ok_or(ArithmeticError::Overflow)?;

		// Everything that can fail before the jobs exist is checked: one hold for them all.
		T::Currency::hold(&Self::escrow_reason(), &client, escrow)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		NextJobId::<T>::put(next);
		let mut ids = Vec::with_capacity(checked.len());
		let mut id = first;
		for (input, price) in checked {
			Self::open_job(&client, id, model, input, price, max_fee, deadline, now)?;
			ids.push(id);
			id = id.next().ok_or(Error::<T>::JobIdsExhausted)?;
		}
		Ok(ids)
	}

	/// Creates job `id` (its escrow already held and counted) and assigns or queues it.
	#[allow(clippy::too_many_arguments, reason = "the fields of one job being opened")]
	fn open_job(
		client: &T::AccountId,
		id: JobId,
		model: ModelId,
		input: BoundedVec<u8, T::MaxInputLen>,
		price: BalanceOf<T>,
		max_fee: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
	) -> DispatchResult {
		T::ModelRegistry::note_job_opened(model)?;
		JobsByClient::<T>::insert(client, JobKey::from(id), ());
		let input_hash = H256(sp_io::hashing::blake2_256(&input));
		let mut job = Job {
			client: client.clone(),
			model,
			input,
			input_hash,
			max_fee,
			price,
			stake: Self::stake_for(price),
			deadline,
			submitted_at: now,
			status: JobStatus::Queued,
			wake_at: deadline,
			provider: None,
			checkers: BoundedVec::new(),
			silent: BoundedVec::new(),
			replaced: false,
			verdict: Verdict::Unaudited,
			no_shows: BoundedVec::new(),
			challenge_bond: Zero::zero(),
			probe: false,
		};
		Self::deposit_event(Event::JobSubmitted {
			job: id,
			client: client.clone(),
			model,
			max_fee,
			price,
			deadline,
		});

		if Self::try_assign(id, &mut job, now) {
			let commit_by = job.wake_at;
			Self::advance(id, job, JobStatus::Assigned, commit_by);
			return Ok(());
		}
		// No provider now: wait in the model's queue until the deadline.
		let mut queue = Queues::<T>::get(model);
		ensure!(queue.try_push(id).is_ok(), Error::<T>::QueueFull);
		Queues::<T>::insert(model, queue);
		Self::advance(id, job, JobStatus::Queued, deadline);
		Self::deposit_event(Event::JobQueued { job: id });
		Ok(())
	}

	/// The earliest deadline a job submitted at `now` may have: one commit window, the audit
	/// decision, an audit commit window and a reveal window.
	pub(crate) fn shortest_deadline(now: BlockNumberFor<T>) -> BlockNumberFor<T> {
		let params = Params::<T>::get();
		now.saturating_add(params.commit_window)
			.saturating_add(params.commit_window)
			.saturating_add(params.reveal_window)
			.saturating_add(AUDIT_DECISION_DELAY.into())
	}

	/// Picks a provider for `job` by stake-weighted randomness (never the client or a provider
	/// that already failed it) and locks its stake. Sets `provider` and the commit deadline in
	/// `job.wake_at`; the caller stores and schedules. The randomness is the including block's:
	/// the client cannot know its provider when it signs.
	pub(crate) fn try_assign(id: JobId, job: &mut JobOf<T>, now: BlockNumberFor<T>) -> bool {
		// A job assigned late (from the queue) must still fit a full commit window and the rest
		// of its phases before its deadline; otherwise it waits for its deadline and is refunded
		// with nobody slashed, instead of handing a provider a window it cannot meet.
		if Self::shortest_deadline(now) > job.deadline {
			return false;
		}
		let mut exclude: Vec<T::AccountId> = job.no_shows.to_vec();
		exclude.push(job.client.clone());
		let seed = Self::random_seed(b"infera/assign", id);
		let Some(provider) = T::Providers::select(job.model, job.stake, &exclude, seed) else {
			return false;
		};
		if T::Providers::lock(&provider, job.stake).is_err() {
			return false;
		}
		let commit_by = now.saturating_add(Params::<T>::get().commit_window);
		JobsByProvider::<T>::insert(&provider, JobKey::from(id), ());
		job.provider = Some(Party::new(provider.clone()));
		job.wake_at = commit_by;
		Self::deposit_event(Event::JobAssigned {
			job: id,
			provider,
			stake_locked: job.stake,
			commit_by,
		});
		true
	}

	// ---------------------------------------------------------------- commit and reveal

	fn role_of<'a>(
		job: &'a mut JobOf<T>,
		who: &T::AccountId,
	) -> Option<(Role, &'a mut Party<T::AccountId>)> {
		if let Some(p) = job.provider.as_mut().filter(|p| &p.who == who) {
			return Some((Role::Provider, p));
		}
		job.checkers.iter_mut().find(|p| &p.who == who).map(|p| (Role::Checker, p))
	}

	pub(crate) fn do_commit(who: T::AccountId, id: JobId, commitment: H256) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		let status = job.status;
		let (role, party) = Self::role_of(&mut job, &who).ok_or(Error::<T>::NotAssigned)?;
		ensure!(phases::commits_in(status, role), Error::<T>::NotCommitPhase);
		ensure!(party.commitment.is_none(), Error::<T>::AlreadyCommitted);
		party.commitment = Some(commitment);
		Self::deposit_event(Event::ResultCommitted { job: id, who });

		let now = Self::now();
		match role {
			// The audit decision uses the randomness of a later block than the commit's.
			Role::Provider => {
				let at = now.saturating_add(AUDIT_DECISION_DELAY.into());
				Self::advance(id, job, JobStatus::Committed, at);
			}
			// Reveals open once the whole panel has committed (or its window ends).
			Role::Checker if job.checkers.iter().all(|p| p.commitment.is_some()) => {
				Self::open_reveals(id, job, true, now);
			}
			Role::Checker => Jobs::<T>::insert(id, job),
		}
		Ok(())
	}

	/// Reveals `output` behind `who`'s commitment. True when the reveal completed an audit (or
	/// revealed a refusal) whose judgement the next block's hook makes.
	pub(crate) fn do_reveal(
		who: T::AccountId,
		id: JobId,
		output: Vec<u8>,
		salt: [u8; 32],
	) -> Result<bool, DispatchError> {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		let (status, model) = (job.status, job.model);
		let (role, party) = Self::role_of(&mut job, &who).ok_or(Error::<T>::NotAssigned)?;
		ensure!(phases::reveals_in(status, role), Error::<T>::NotRevealPhase);
		let commitment = party.commitment.ok_or(Error::<T>::NotAssigned)?;
		ensure!(party.output_hash.is_none(), Error::<T>::AlreadyRevealed);
		let output: BoundedVec<u8, T::MaxOutputLen> =
			output.try_into().map_err(|_| Error::<T>::OutputTooLong)?;
		let output_hash = H256(sp_io::hashing::blake2_256(&output));
		ensure!(
			crate::commitment_of(id, &who, &output_hash, &salt) == commitment,
			Error::<T>::CommitmentMismatch
		);
		let decoded = Self::decode_output(model, &output).ok_or(Error::<T>::MalformedOutput)?;
		// A checked generation is an audit panel's form; the client gets the plain one.
		ensure!(
			!(role == Role::Provider
				&& matches!(decoded, CanonicalOutput::CheckedGeneration { .. })),
			Error::<T>::MalformedOutput
		);
		let refusal = matches!(decoded, CanonicalOutput::Refused(_));
		party.output_hash = Some(output_hash);
		Outputs::<T>::insert(id, &who, output);
		Self::deposit_event(Event::ResultRevealed { job: id, who, output_hash });

		let provider_done = job.provider.as_ref().is_some_and(|p| p.output_hash.is_some());
		let panel_done = job.checkers.iter().all(|p| p.output_hash.is_some());
		// The reveal that completes an audit, or a refusal that needs a panel, leaves the
		// judgement (or the panel's draw) to the next block's hook: a reveal is light whatever
		// the panel, so a block's reveals are not limited by the dearest one's weight. An
		// unaudited job's output is verified at once.
		let deferred = match job.status {
			JobStatus::Revealing { audited } if provider_done && (!audited || panel_done) => {
				if audited || refusal {
					let next = Self::now().saturating_add(1u32.into());
					Self::advance(id, job, status, next);
					true
				} else {
					Self::close_reveals(id, job);
					false
				}
			}
			_ => {
				Jobs::<T>::insert(id, job);
				false
			}
		};
		Ok(deferred)
	}

	/// The canonical output in `bytes`, when it is one of `model`'s architecture.
	pub(crate) fn decode_output(model: ModelId, bytes: &[u8]) -> Option<CanonicalOutput> {
		use infera_primitives::Architecture as A;
		let out = CanonicalOutput::decode_all(&mut &*bytes).ok()?;
		let kind_matches = match (T::ModelRegistry::architecture(model)?, &out) {
			(A::TextEmbedding { dimensions, .. }, CanonicalOutput::Embedding(v)) => {
				v.len() == dimensions as usize
			}
			(
				A::Classification { classes, .. },
				out @ CanonicalOutput::Classification { logits, .. },
			) => logits.len() == classes as usize && out.well_formed(0),
			(A::Generation { max_tokens, .. }, CanonicalOutput::Generation(t)) => {
				t.len() <= max_tokens as usize
			}
			(A::Generation { max_tokens, .. }, out @ CanonicalOutput::CheckedGeneration { .. }) => {
				out.well_formed(max_tokens as usize)
			}
			// Any model may be unable to run an input; the audit says whether that is true.
			(_, CanonicalOutput::Refused(_)) => true,
			_ => false,
		};
		kind_matches.then_some(out)
	}

	/// How `checker` votes on `candidate`'s revealed output under `model`'s tolerance. The
	/// checker's output is the reference: a candidate's own logits or near-ties never decide
	/// whether the candidate is right.
	pub(crate) fn vote_on(
		model: ModelId,
		job: JobId,
		checker: &Party<T::AccountId>,
		candidate: &Party<T::AccountId>,
	) -> Vote {
		if checker.output_hash.is_some() && checker.output_hash == candidate.output_hash {
			return Vote::Agree;
		}
		let load = |who: &T::AccountId| {
			Outputs::<T>::get(job, who).and_then(|o| Self::decode_output(model, &o))
		};
		match (T::ModelRegistry::architecture(model), load(&checker.who), load(&candidate.who)) {
			(Some(arch), Some(r), Some(c)) => vote(&arch, &r, &c),
			_ => Vote::Disagree(infera_primitives::tolerance::Mismatch::Length),
		}
	}

	// ---------------------------------------------------------------- challenge

	/// The bond a client holds to demand an audit of a job of `price`: what the panel is paid
	/// when the provider is found right, one price for each checker.
	pub fn challenge_bond_for(price: BalanceOf<T>) -> BalanceOf<T> {
		price.saturating_mul(BalanceOf::<T>::from(Params::<T>::get().committee_size))
	}

	/// The client of a verified, unaudited job demands an audit during its challenge window: a
	/// panel is drawn at once and checks the provider's revealed output like any audit. Found
	/// wrong, the provider is slashed and the client gets everything back, bond included; found
	/// right, the provider is paid and the bond pays the checkers that confirmed it.
	pub(crate) fn do_challenge(who: T::AccountId, id: JobId) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.client == who, Error::<T>::NotClient);
		ensure!(job.status == JobStatus::Verified, Error::<T>::NotChallengeable);
		ensure!(job.verdict == Verdict::Unaudited, Error::<T>::AlreadyAudited);
		ensure!(
			Self::checkers_for(job.model, job.provider.as_ref().map(|p| &p.who)) > 0,
			Error::<T>::NoCheckers
		);
		let bond = Self::challenge_bond_for(job.price);
		let now = Self::now();
		let checkers = Self::draw_checkers(
			id,
			&mut job,
			Params::<T>::get().committee_size,
			b"infera/challenge",
		);
		// Checked above that someone can check; stake may still be short for all of them.
		if checkers.is_empty() {
			return Err(Error::<T>::NoCheckers.into());
		}
		if T::Currency::hold(&Self::escrow_reason(), &who, bond).is_err() {
			for c in checkers.iter() {
				T::Providers::unlock(c, job.stake);
			}
			return Err(Error::<T>::InsufficientBalance.into());
		}
		job.challenge_bond = bond;
		Self::deposit_event(Event::JobChallenged { job: id, bond, checkers });
		job.status = JobStatus::Auditing;
		let at = now.saturating_add(Params::<T>::get().commit_window);
		Self::advance(id, job, JobStatus::Auditing, at);
		Ok(())
	}

	// ---------------------------------------------------------------- cancel

	/// A client may cancel only while no provider is assigned: once the (unpredictable) draw
	/// has named a provider, cancelling and submitting again would let the client re-roll it.
	pub(crate) fn do_cancel(who: T::AccountId, id: JobId) -> DispatchResult {
		let job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.client == who, Error::<T>::NotClient);
		ensure!(job.status == JobStatus::Queued, Error::<T>::TooLateToCancel);
		Self::dequeue(job.model, id);
		Self::refund(id, job, RefundReason::Cancelled);
		Ok(())
	}
}

/// Budgets submit jobs through this: a delegate's jobs are the payer's, escrowed in one hold.
impl<T: Config>
	infera_primitives::traits::JobSubmitter<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>
	for Pallet<T>
{
	fn submit_jobs(
		client: &T::AccountId,
		model: ModelId,
		inputs: Vec<Vec<u8>>,
		max_fee: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
	) -> Result<Vec<JobId>, DispatchError> {
		Self::do_submit_many(client.clone(), model, inputs, max_fee, deadline)
	}

	fn submit_jobs_weight(inputs: u32, bytes: u32) -> frame_support::weights::Weight {
		T::WeightInfo::submit_jobs(inputs, bytes)
	}

	fn max_inputs() -> u32 {
		T::MaxJobsPerCall::get()
	}

	fn max_input_len() -> u32 {
		T::MaxInputLen::get()
	}

	fn price(bytes: u32) -> Result<BalanceOf<T>, DispatchError> {
		Self::price_for(bytes)
	}
}
