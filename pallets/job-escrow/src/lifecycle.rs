//! The job protocol: submission and assignment, commit-reveal, audit decisions, disputes, and the
//! block hook that moves every job whose phase ends in the block.

use crate::{
	pallet::*, BalanceOf, Job, JobOf, JobParamsOf, JobStatus, Party, RefundReason, Verdict,
	WeightInfo,
};
use alloc::vec::Vec;
use codec::{DecodeAll, Encode};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, Get, Randomness},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::{
	canonical::CanonicalOutput,
	tolerance::{outputs_match, Verdict as Check},
	traits::{ComputeProviders, ModelRegistry, WorkRecorder},
	JobId, ModelId,
};
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, Saturating, Zero},
	ArithmeticError, DispatchError, DispatchResult, Perbill,
};

/// How many blocks past the wanted one the scheduler looks for room.
const SCHEDULE_SEARCH: u32 = 16;

/// Blocks between a commit and the audit decision: the decision uses the randomness of the
/// block after the commit's, which nobody knew when the commit was signed.
const AUDIT_DECISION_DELAY: u32 = 2;

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

	/// Provider stake a job of `price` locks.
	pub fn stake_for(price: BalanceOf<T>) -> BalanceOf<T> {
		price.saturating_mul(BalanceOf::<T>::from(Params::<T>::get().collateral_ratio))
	}

	/// 32 bytes no party could know before this block: BABE's randomness for the block, mixed
	/// with a purpose and the job.
	pub(crate) fn random_seed(purpose: &[u8], job: JobId) -> [u8; 32] {
		let subject = (purpose, job).encode();
		let (random, _) = T::Randomness::random(&subject);
		let random = random.unwrap_or_else(frame_system::Pallet::<T>::parent_hash);
		sp_io::hashing::blake2_256(&(random, subject).encode())
	}

	fn seed_u64(seed: &[u8; 32], round: u32) -> u64 {
		let h = sp_io::hashing::blake2_256(&(seed, round).encode());
		u64::from_le_bytes(*h.first_chunk::<8>().unwrap_or(&[0u8; 8]))
	}

	// ---------------------------------------------------------------- scheduling

	/// Puts `job` in the wake-up list of the first block from `at` with room.
	pub(crate) fn schedule(
		job: JobId,
		at: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let mut when = at;
		for _ in 0..SCHEDULE_SEARCH {
			if Wakeups::<T>::try_mutate(when, |list| list.try_push(job)).is_ok() {
				return Ok(when);
			}
			when = when.saturating_add(1u32.into());
		}
		Err(Error::<T>::SchedulerFull.into())
	}

	pub(crate) fn unschedule(job: JobId, at: BlockNumberFor<T>) {
		Wakeups::<T>::mutate_exists(at, |maybe| {
			if let Some(list) = maybe {
				list.retain(|j| *j != job);
				if list.is_empty() {
					*maybe = None;
				}
			}
		});
	}

	/// Moves an open job to `status`, waking at `at` (or the first block after it with room).
	/// When no block has room the job is refunded: it must never be left without a wake-up.
	pub(crate) fn advance(
		id: JobId,
		mut job: JobOf<T>,
		status: JobStatus,
		at: BlockNumberFor<T>,
	) -> Option<BlockNumberFor<T>> {
		match Self::schedule(id, at) {
			Ok(when) => {
				job.status = status;
				job.wake_at = when;
				Jobs::<T>::insert(id, job);
				Some(when)
			}
			Err(_) => {
				log::warn!(target: "runtime::job-escrow", "job {}: no block has room, refunding", id.0);
				Self::refund(id, job, RefundReason::Undecided, Verdict::NoResult);
				None
			}
		}
	}

	// ---------------------------------------------------------------- submission

	pub(crate) fn do_submit(
		client: T::AccountId,
		model: ModelId,
		input: Vec<u8>,
		max_fee: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
	) -> Result<JobId, DispatchError> {
		let params = Params::<T>::get();
		let now = Self::now();
		ensure!(T::ModelRegistry::is_active(model), Error::<T>::ModelNotActive);
		ensure!(!input.is_empty(), Error::<T>::EmptyInput);
		let len = u32::try_from(input.len()).map_err(|_| Error::<T>::InputTooLong)?;
		let input: BoundedVec<u8, T::MaxInputLen> =
			input.try_into().map_err(|_| Error::<T>::InputTooLong)?;
		let price = Self::price_for(len)?;
		ensure!(max_fee >= price, Error::<T>::FeeBelowPrice);
		ensure!(max_fee <= params.max_fee, Error::<T>::FeeTooHigh);
		ensure!(deadline > now, Error::<T>::DeadlineInPast);
		let shortest = now
			.saturating_add(params.commit_window)
			.saturating_add(params.reveal_window)
			.saturating_add(AUDIT_DECISION_DELAY.into());
		ensure!(deadline >= shortest, Error::<T>::DeadlineTooSoon);
		ensure!(deadline <= now.saturating_add(params.max_deadline), Error::<T>::DeadlineTooFar);
		let id = NextJobId::<T>::get();
		let next = id.next().ok_or(Error::<T>::JobIdsExhausted)?;
		let total =
			TotalEscrow::<T>::get().checked_add(&max_fee).ok_or(ArithmeticError::Overflow)?;
		let open = OpenJobs::<T>::get().checked_add(1).ok_or(ArithmeticError::Overflow)?;

		// Everything that can fail is checked; from here on the job exists.
		T::Currency::hold(&Self::escrow_reason(), &client, max_fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		T::ModelRegistry::note_job_opened(model)?;
		NextJobId::<T>::put(next);
		TotalEscrow::<T>::put(total);
		OpenJobs::<T>::put(open);
		JobsByClient::<T>::insert(&client, id, ());
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
			auditor: None,
			committee: BoundedVec::new(),
			no_shows: BoundedVec::new(),
		};
		Self::deposit_event(Event::JobSubmitted {
			job: id,
			client,
			model,
			max_fee,
			price,
			deadline,
		});

		if Self::try_assign(id, &mut job, now) {
			let commit_by = job.wake_at;
			Self::advance(id, job, JobStatus::Assigned, commit_by);
			return Ok(id);
		}
		// No provider now: wait in the queue until the deadline.
		let mut queue = Queue::<T>::get();
		ensure!(queue.try_push(id).is_ok(), Error::<T>::QueueFull);
		let when = Self::schedule(id, deadline)?;
		Queue::<T>::put(queue);
		job.wake_at = when;
		Jobs::<T>::insert(id, job);
		Self::deposit_event(Event::JobQueued { job: id });
		Ok(id)
	}

	/// Picks a provider for `job` by stake-weighted randomness (never the client or a provider
	/// that already failed it) and locks its stake. Sets `provider` and the commit deadline in
	/// `job.wake_at`; the caller stores and schedules.
	fn try_assign(id: JobId, job: &mut JobOf<T>, now: BlockNumberFor<T>) -> bool {
		let mut exclude: Vec<T::AccountId> = job.no_shows.to_vec();
		exclude.push(job.client.clone());
		let seed = Self::random_seed(b"infera/assign", id);
		let Some(provider) = T::Providers::select(job.model, job.stake, &exclude, seed) else {
			return false;
		};
		if T::Providers::lock(&provider, job.stake).is_err() {
			return false;
		}
		let commit_by = now.saturating_add(Params::<T>::get().commit_window).min(job.deadline);
		JobsByProvider::<T>::insert(&provider, id, ());
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

	pub(crate) fn do_commit(who: T::AccountId, id: JobId, commitment: H256) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		let now = Self::now();
		let params = Params::<T>::get();
		let slot = match job.status {
			JobStatus::Assigned => job.provider.as_mut().filter(|p| p.who == who),
			JobStatus::Auditing => job.auditor.as_mut().filter(|p| p.who == who),
			JobStatus::Disputed => job.committee.iter_mut().find(|p| p.who == who),
			_ => {
				ensure!(!Self::is_party(&job, &who), Error::<T>::NotCommitPhase);
				return Err(Error::<T>::NotAssigned.into());
			}
		};
		let party = slot.ok_or(Error::<T>::NotAssigned)?;
		ensure!(party.commitment.is_none(), Error::<T>::AlreadyCommitted);
		party.commitment = Some(commitment);
		Self::deposit_event(Event::ResultCommitted { job: id, who });

		let (status, at) = match job.status {
			JobStatus::Assigned => {
				(JobStatus::Committed, now.saturating_add(AUDIT_DECISION_DELAY.into()))
			}
			JobStatus::Auditing => {
				let at = now.saturating_add(params.reveal_window);
				Self::deposit_event(Event::RevealsOpened { job: id, reveal_by: at });
				(JobStatus::Revealing { audited: true }, at)
			}
			// The committee reveals once every member has committed (or its window ends).
			_ if job.committee.iter().all(|p| p.commitment.is_some()) => {
				let at = now.saturating_add(params.reveal_window);
				Self::deposit_event(Event::RevealsOpened { job: id, reveal_by: at });
				(JobStatus::DisputeRevealing, at)
			}
			_ => {
				Jobs::<T>::insert(id, job);
				return Ok(());
			}
		};
		Self::unschedule(id, job.wake_at);
		Self::advance(id, job, status, at);
		Ok(())
	}

	fn is_party(job: &JobOf<T>, who: &T::AccountId) -> bool {
		job.provider.as_ref().is_some_and(|p| &p.who == who)
			|| job.auditor.as_ref().is_some_and(|p| &p.who == who)
			|| job.committee.iter().any(|p| &p.who == who)
	}

	pub(crate) fn do_reveal(
		who: T::AccountId,
		id: JobId,
		output: Vec<u8>,
		salt: [u8; 32],
	) -> DispatchResult {
		let mut job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		let slot = match job.status {
			JobStatus::Revealing { .. } => {
				if job.provider.as_ref().is_some_and(|p| p.who == who) {
					job.provider.as_mut()
				} else {
					job.auditor.as_mut().filter(|p| p.who == who)
				}
			}
			JobStatus::DisputeRevealing => job.committee.iter_mut().find(|p| p.who == who),
			_ => {
				ensure!(!Self::is_party(&job, &who), Error::<T>::NotRevealPhase);
				return Err(Error::<T>::NotAssigned.into());
			}
		};
		let party = slot.ok_or(Error::<T>::NotAssigned)?;
		let commitment = party.commitment.ok_or(Error::<T>::NotAssigned)?;
		ensure!(party.output_hash.is_none(), Error::<T>::AlreadyRevealed);
		let output: BoundedVec<u8, T::MaxOutputLen> =
			output.try_into().map_err(|_| Error::<T>::OutputTooLong)?;
		let output_hash = H256(sp_io::hashing::blake2_256(&output));
		ensure!(
			crate::commitment_of(id, &who, &output_hash, &salt) == commitment,
			Error::<T>::CommitmentMismatch
		);
		ensure!(Self::decode_output(job.model, &output).is_some(), Error::<T>::MalformedOutput);
		party.output_hash = Some(output_hash);
		Outputs::<T>::insert(id, &who, output);
		Self::deposit_event(Event::ResultRevealed { job: id, who, output_hash });

		let provider_done = job.provider.as_ref().is_some_and(|p| p.output_hash.is_some());
		let auditor_done = job.auditor.as_ref().is_some_and(|p| p.output_hash.is_some());
		match job.status {
			JobStatus::Revealing { audited: false } if provider_done => {
				Self::unschedule(id, job.wake_at);
				Self::verify(id, job, Verdict::Unaudited);
			}
			JobStatus::Revealing { audited: true } if provider_done && auditor_done => {
				Self::unschedule(id, job.wake_at);
				Self::judge_audit(id, job);
			}
			JobStatus::DisputeRevealing
				if job
					.committee
					.iter()
					.all(|p| p.commitment.is_none() || p.output_hash.is_some()) =>
			{
				Self::unschedule(id, job.wake_at);
				Self::resolve_dispute(id, job);
			}
			_ => Jobs::<T>::insert(id, job),
		}
		Ok(())
	}

	/// The canonical output in `bytes`, when it is one of `model`'s architecture.
	pub(crate) fn decode_output(model: ModelId, bytes: &[u8]) -> Option<CanonicalOutput> {
		use infera_primitives::Architecture as A;
		let out = CanonicalOutput::decode_all(&mut &*bytes).ok()?;
		let kind_matches = match (T::ModelRegistry::architecture(model)?, &out) {
			(A::TextEmbedding { dimensions, .. }, CanonicalOutput::Embedding(v)) => {
				v.len() == dimensions as usize
			}
			(A::Classification { classes, .. }, CanonicalOutput::Classification { logits, .. }) => {
				logits.len() == classes as usize
			}
			(A::Generation { max_tokens, .. }, CanonicalOutput::Generation(t)) => {
				t.len() <= max_tokens as usize
			}
			_ => false,
		};
		kind_matches.then_some(out)
	}

	/// Whether `candidate` matches `reference` under `model`'s tolerance.
	fn agree(
		model: ModelId,
		job: JobId,
		reference: &T::AccountId,
		candidate: &T::AccountId,
	) -> bool {
		let load = |who: &T::AccountId| {
			Outputs::<T>::get(job, who).and_then(|o| Self::decode_output(model, &o))
		};
		match (T::ModelRegistry::architecture(model), load(reference), load(candidate)) {
			(Some(arch), Some(r), Some(c)) => outputs_match(&arch, &r, &c) == Check::Pass,
			_ => false,
		}
	}

	// ---------------------------------------------------------------- verdicts

	fn verify(id: JobId, job: JobOf<T>, verdict: Verdict) {
		let pay_at = Self::now().saturating_add(Params::<T>::get().challenge_window);
		if let Some(when) = Self::advance(id, job, JobStatus::Verified, pay_at) {
			Self::deposit_event(Event::JobVerified { job: id, verdict, pay_at: when });
		}
	}

	/// Provider and auditor both revealed: equal hashes pass at once, otherwise the model's
	/// tolerance decides, and a mismatch goes to a committee.
	fn judge_audit(id: JobId, job: JobOf<T>) {
		let (Some(provider), Some(auditor)) = (job.provider.clone(), job.auditor.clone()) else {
			Self::refund(id, job, RefundReason::Undecided, Verdict::NoResult);
			return;
		};
		let same = provider.output_hash.is_some() && provider.output_hash == auditor.output_hash;
		if same || Self::agree(job.model, id, &auditor.who, &provider.who) {
			T::WorkRecorder::credit_audit(&auditor.who);
			Self::verify(id, job, Verdict::AuditPassed);
		} else {
			Self::open_dispute(id, job);
		}
	}

	fn open_dispute(id: JobId, mut job: JobOf<T>) {
		let params = Params::<T>::get();
		let members = Self::pick_auditors(
			id,
			b"infera/committee",
			params.committee_size,
			&Self::involved(&job),
		);
		if members.is_empty() {
			Self::deposit_event(Event::DisputeResolved {
				job: id,
				for_provider: 0,
				for_auditor: 0,
				verdict: Verdict::Undecided,
			});
			Self::refund(id, job, RefundReason::Undecided, Verdict::Undecided);
			return;
		}
		job.committee =
			BoundedVec::truncate_from(members.iter().cloned().map(Party::new).collect::<Vec<_>>());
		Self::deposit_event(Event::DisputeOpened { job: id, committee: members });
		let at = Self::now().saturating_add(params.commit_window);
		Self::advance(id, job, JobStatus::Disputed, at);
	}

	/// Counts the committee's revealed outputs for each side; the side the majority contradicts
	/// is slashed.
	fn resolve_dispute(id: JobId, job: JobOf<T>) {
		let (Some(provider), Some(auditor)) = (job.provider.clone(), job.auditor.clone()) else {
			Self::refund(id, job, RefundReason::Undecided, Verdict::NoResult);
			return;
		};
		let (mut for_provider, mut for_auditor) = (0u32, 0u32);
		for member in job.committee.iter().filter(|m| m.output_hash.is_some()) {
			T::WorkRecorder::credit_audit(&member.who);
			if Self::agree(job.model, id, &member.who, &provider.who) {
				for_provider = for_provider.saturating_add(1);
			}
			if Self::agree(job.model, id, &member.who, &auditor.who) {
				for_auditor = for_auditor.saturating_add(1);
			}
		}
		let fraud = Params::<T>::get().fraud_slash.mul_floor(job.stake);
		let verdict = if for_provider > for_auditor {
			// The auditor accused an honest provider.
			let _ = T::Providers::slash(&auditor.who, fraud, None);
			Verdict::CommitteeUpheld
		} else if for_auditor > for_provider {
			Verdict::CommitteeRejected
		} else {
			Verdict::Undecided
		};
		Self::deposit_event(Event::DisputeResolved { job: id, for_provider, for_auditor, verdict });
		match verdict {
			Verdict::CommitteeUpheld => Self::verify(id, job, verdict),
			Verdict::CommitteeRejected => {
				// The auditor was right: its audit counts.
				T::WorkRecorder::credit_audit(&auditor.who);
				// Unlock first so the slash takes the job's stake like any other bond.
				T::Providers::unlock(&provider.who, job.stake);
				let _ = T::Providers::slash(&provider.who, fraud, Some(&auditor.who));
				let mut job = job;
				job.stake = Zero::zero();
				Self::refund(id, job, RefundReason::Fraud, verdict);
			}
			_ => Self::refund(id, job, RefundReason::Undecided, verdict),
		}
	}

	/// The client and every party already on `job`: never picked to check it.
	fn involved(job: &JobOf<T>) -> Vec<T::AccountId> {
		core::iter::once(job.client.clone())
			.chain(job.provider.iter().chain(job.auditor.iter()).map(|p| p.who.clone()))
			.collect()
	}

	/// Up to `count` distinct auditors, uniformly at random, none of them in `exclude`.
	pub(crate) fn pick_auditors(
		id: JobId,
		purpose: &[u8],
		count: u32,
		exclude: &[T::AccountId],
	) -> Vec<T::AccountId> {
		let mut pool: Vec<T::AccountId> =
			Auditors::<T>::get().into_iter().filter(|a| !exclude.contains(a)).collect();
		let seed = Self::random_seed(purpose, id);
		let mut picked = Vec::new();
		for round in 0..count {
			let len = pool.len() as u64;
			if len == 0 {
				break;
			}
			let index = Self::seed_u64(&seed, round).checked_rem(len).unwrap_or(0) as usize;
			if index < pool.len() {
				picked.push(pool.swap_remove(index));
			}
		}
		picked
	}

	// ---------------------------------------------------------------- cancel

	pub(crate) fn do_cancel(who: T::AccountId, id: JobId) -> DispatchResult {
		let job = Jobs::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
		ensure!(job.client == who, Error::<T>::NotClient);
		let cancellable = match job.status {
			JobStatus::Queued => true,
			JobStatus::Assigned => job.provider.as_ref().is_none_or(|p| p.commitment.is_none()),
			_ => false,
		};
		ensure!(cancellable, Error::<T>::TooLateToCancel);
		Self::unschedule(id, job.wake_at);
		Queue::<T>::mutate(|q| q.retain(|j| *j != id));
		Self::refund(id, job, RefundReason::Cancelled, Verdict::NoResult);
		Ok(())
	}

	// ---------------------------------------------------------------- the block hook

	/// Moves every job whose phase ends at `now`, then tries to assign a few queued jobs.
	pub(crate) fn on_block(now: BlockNumberFor<T>) -> Weight {
		let due = Wakeups::<T>::take(now);
		let n = due.len() as u32;
		for id in due {
			Self::wake(id, now);
		}
		let tried = Self::assign_queued(now);
		// An idle block reads the (empty) wake-up list and queue and nothing else; the
		// benchmarked formulas' intercepts would overcharge it.
		let idle = <T as frame_system::Config>::DbWeight::get().reads(2);
		let wakeups = if n == 0 { Weight::zero() } else { T::WeightInfo::on_initialize_wakeups(n) };
		let assign =
			if tried == 0 { Weight::zero() } else { T::WeightInfo::on_initialize_assign(tried) };
		idle.saturating_add(wakeups).saturating_add(assign)
	}

	fn wake(id: JobId, now: BlockNumberFor<T>) {
		let Some(mut job) = Jobs::<T>::get(id) else { return };
		if job.wake_at != now {
			return;
		}
		let params = Params::<T>::get();
		match job.status {
			JobStatus::Queued => {
				Queue::<T>::mutate(|q| q.retain(|j| *j != id));
				Self::refund(id, job, RefundReason::NoProvider, Verdict::NoResult);
			}
			JobStatus::Assigned => Self::provider_no_show(id, job, now),
			JobStatus::Committed => Self::decide_audit(id, job, now),
			JobStatus::Auditing => {
				// The auditor did not commit: the job goes on unaudited.
				if let Some(a) = job.auditor.take() {
					Self::deposit_event(Event::PartyMissedWindow {
						job: id,
						who: a.who,
						status: job.status,
					});
				}
				let at = now.saturating_add(params.reveal_window);
				Self::deposit_event(Event::RevealsOpened { job: id, reveal_by: at });
				Self::advance(id, job, JobStatus::Revealing { audited: false }, at);
			}
			JobStatus::Revealing { .. } => {
				if job.provider.as_ref().is_some_and(|p| p.output_hash.is_some()) {
					// Only the auditor failed to reveal: the audit lapses.
					if let Some(a) = job.auditor.take() {
						Self::deposit_event(Event::PartyMissedWindow {
							job: id,
							who: a.who,
							status: job.status,
						});
					}
					Self::verify(id, job, Verdict::Unaudited);
				} else {
					Self::penalise_no_show(id, &mut job);
					Self::refund(id, job, RefundReason::NoShow, Verdict::NoResult);
				}
			}
			JobStatus::Disputed => {
				if job.committee.iter().any(|p| p.commitment.is_some()) {
					let at = now.saturating_add(params.reveal_window);
					Self::deposit_event(Event::RevealsOpened { job: id, reveal_by: at });
					Self::advance(id, job, JobStatus::DisputeRevealing, at);
				} else {
					Self::resolve_dispute(id, job);
				}
			}
			JobStatus::DisputeRevealing => Self::resolve_dispute(id, job),
			JobStatus::Verified => Self::settle(id, job),
			JobStatus::Settled | JobStatus::Refunded { .. } => Self::prune(id),
		}
	}

	/// The assigned provider did not commit: it is penalised and the job goes to another
	/// provider while reassignments and time remain, otherwise it is refunded.
	fn provider_no_show(id: JobId, mut job: JobOf<T>, now: BlockNumberFor<T>) {
		Self::penalise_no_show(id, &mut job);
		let params = Params::<T>::get();
		let time_left = now
			.saturating_add(params.commit_window)
			.saturating_add(params.reveal_window)
			.saturating_add(AUDIT_DECISION_DELAY.into())
			<= job.deadline;
		let attempts_left = (job.no_shows.len() as u32) <= params.max_reassignments;
		if time_left && attempts_left && Self::try_assign(id, &mut job, now) {
			let at = job.wake_at;
			Self::advance(id, job, JobStatus::Assigned, at);
		} else {
			Self::refund(id, job, RefundReason::NoShow, Verdict::NoResult);
		}
	}

	/// Unlocks the no-show's stake, slashes its share, lowers its reputation and remembers it
	/// so it is not assigned this job again.
	fn penalise_no_show(id: JobId, job: &mut JobOf<T>) {
		let Some(provider) = job.provider.take() else { return };
		let status = job.status;
		T::Providers::unlock(&provider.who, job.stake);
		let penalty = Params::<T>::get().no_show_slash.mul_floor(job.stake);
		if !penalty.is_zero() {
			let _ = T::Providers::slash(&provider.who, penalty, None);
		}
		T::Providers::record_no_show(&provider.who);
		// The list holds at most `MaxAttempts`; a full list only means no more reassignments.
		let _ = job.no_shows.try_push(provider.who.clone());
		Self::deposit_event(Event::PartyMissedWindow { job: id, who: provider.who, status });
	}

	/// Randomness from a block after the commit decides whether the job is audited.
	fn decide_audit(id: JobId, mut job: JobOf<T>, now: BlockNumberFor<T>) {
		let params = Params::<T>::get();
		let seed = Self::random_seed(b"infera/audit", id);
		let parts = Self::seed_u64(&seed, 0).checked_rem(1_000_000_000).unwrap_or(0);
		let roll = Perbill::from_parts(parts as u32);
		let mut auditor = None;
		if roll < params.audit_rate {
			auditor = Self::pick_auditors(id, b"infera/auditor", 1, &Self::involved(&job)).pop();
		}
		Self::deposit_event(Event::AuditDecided { job: id, auditor: auditor.clone() });
		match auditor {
			Some(a) => {
				job.auditor = Some(Party::new(a));
				let at = now.saturating_add(params.commit_window);
				Self::advance(id, job, JobStatus::Auditing, at);
			}
			None => {
				let at = now.saturating_add(params.reveal_window);
				Self::deposit_event(Event::RevealsOpened { job: id, reveal_by: at });
				Self::advance(id, job, JobStatus::Revealing { audited: false }, at);
			}
		}
	}

	/// Tries to assign up to `AssignPerBlock` queued jobs, oldest first; the ones still without
	/// a provider go to the back. Returns how many it tried.
	fn assign_queued(now: BlockNumberFor<T>) -> u32 {
		let mut queue = Queue::<T>::get();
		let tries = (T::AssignPerBlock::get() as usize).min(queue.len());
		if tries == 0 {
			return 0;
		}
		let front: Vec<JobId> = queue.iter().take(tries).copied().collect();
		queue = BoundedVec::truncate_from(queue.into_iter().skip(tries).collect::<Vec<_>>());
		for id in front {
			let Some(mut job) = Jobs::<T>::get(id) else { continue };
			let old_wake = job.wake_at;
			if Self::try_assign(id, &mut job, now) {
				Self::unschedule(id, old_wake);
				let at = job.wake_at;
				Self::advance(id, job, JobStatus::Assigned, at);
			} else if queue.try_push(id).is_err() {
				// Cannot happen: the job came from this queue; refund rather than lose it.
				Self::unschedule(id, old_wake);
				Self::refund(id, job, RefundReason::NoProvider, Verdict::NoResult);
			}
		}
		Queue::<T>::put(queue);
		tries as u32
	}

	// ---------------------------------------------------------------- governance

	pub(crate) fn ensure_params_valid(p: &JobParamsOf<T>) -> DispatchResult {
		let zero = BlockNumberFor::<T>::zero();
		let shortest = p
			.commit_window
			.saturating_add(p.reveal_window)
			.saturating_add(AUDIT_DECISION_DELAY.into());
		ensure!(
			p.commit_window > zero
				&& p.reveal_window > zero
				&& p.challenge_window > zero
				&& p.retention > zero
				&& p.max_deadline >= shortest
				&& p.committee_size > 0
				&& p.committee_size <= T::MaxCommittee::get()
				&& p.max_reassignments < T::MaxAttempts::get()
				&& p.collateral_ratio > 0
				&& p.max_fee >= p.base_fee,
			Error::<T>::InvalidParams
		);
		// p · (1 + fraud_slash · collateral) ≥ 1, in parts per billion.
		let billion: u128 = 1_000_000_000;
		let p_parts = u128::from(p.audit_rate.deconstruct());
		let slash_parts = u128::from(p.fraud_slash.deconstruct());
		let gain =
			billion.saturating_add(slash_parts.saturating_mul(u128::from(p.collateral_ratio)));
		ensure!(
			p_parts.saturating_mul(gain) >= billion.saturating_mul(billion),
			Error::<T>::BreaksIncentiveInequality
		);
		Ok(())
	}

	pub(crate) fn do_set_params(params: JobParamsOf<T>) -> DispatchResult {
		Self::ensure_params_valid(&params)?;
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsUpdated { params });
		Ok(())
	}

	pub(crate) fn do_add_auditor(who: T::AccountId) -> DispatchResult {
		let mut auditors = Auditors::<T>::get();
		let at = auditors.binary_search(&who).err().ok_or(Error::<T>::AlreadyAuditor)?;
		auditors.try_insert(at, who.clone()).map_err(|_| Error::<T>::TooManyAuditors)?;
		Auditors::<T>::put(auditors);
		Self::deposit_event(Event::AuditorAdded { who });
		Ok(())
	}

	pub(crate) fn do_remove_auditor(who: T::AccountId) -> DispatchResult {
		let mut auditors = Auditors::<T>::get();
		let at = auditors.binary_search(&who).map_err(|_| Error::<T>::NotAuditor)?;
		auditors.remove(at);
		Auditors::<T>::put(auditors);
		Self::deposit_event(Event::AuditorRemoved { who });
		Ok(())
	}
}
