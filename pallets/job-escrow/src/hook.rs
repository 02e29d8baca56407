//! The block hook: the wake-up scheduler and what happens to a job when its phase ends.

use crate::{pallet::*, BalanceOf, JobOf, JobStatus, RefundReason, Verdict, WeightInfo};
use alloc::vec::Vec;
use frame_support::{traits::Get, weights::Weight, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::{traits::ComputeProviders, JobId, ModelId};
use sp_runtime::traits::{Saturating, Zero};

/// What waking a job cost, for the hook's weight.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Visit {
	/// A payment, a pruning, an expired receipt, a queued job's refund or a decision that drew no
	/// audit: at most the cost of a payment (`on_initialize_settle`).
	Light,
	/// A reassignment, a panel drawn or re-staffed, or reveals judged.
	Heavy,
}

impl<T: Config> Pallet<T> {
	/// Puts `job` in the wake-up list of block `at`, or of the next block when `at` is not in
	/// the future (its hook has run or is running). Any number of jobs may share a block: the
	/// hook carries what it cannot handle over to the next block, so scheduling never fails.
	pub(crate) fn schedule(job: JobId, at: BlockNumberFor<T>) -> BlockNumberFor<T> {
		let when = at.max(Self::now().saturating_add(1u32.into()));
		Wakeups::<T>::insert(when, job, ());
		when
	}

	pub(crate) fn unschedule(job: JobId, at: BlockNumberFor<T>) {
		Wakeups::<T>::remove(at, job);
	}

	/// Moves an open job to `status`, waking at `at` (see `schedule`). Returns the wake-up.
	pub(crate) fn advance(
		id: JobId,
		mut job: JobOf<T>,
		status: JobStatus,
		at: BlockNumberFor<T>,
	) -> BlockNumberFor<T> {
		let when = Self::schedule(id, at);
		job.status = status;
		job.wake_at = when;
		Jobs::<T>::insert(id, job);
		when
	}

	/// Handles up to `MaxWakeupsPerBlock` wake-ups, oldest block first (what an earlier block
	/// could not handle comes before this block's own), then tries to assign a few queued jobs.
	pub(crate) fn on_block(now: BlockNumberFor<T>) -> Weight {
		let (heavy, light, blocks) = Self::wake_due(now);
		let tried = Self::assign_queued(now);
		let probe = if Self::maybe_probe(now) {
			T::WeightInfo::on_initialize_probe()
		} else {
			Weight::zero()
		};
		// An idle block reads the cursor, the wake-up list and the queue cursor; each further
		// block the cursor walks reads one more (empty) list.
		let db = <T as frame_system::Config>::DbWeight::get();
		let idle = db.reads_writes(3u64.saturating_add(blocks.into()), 1);
		// A heavy visit may be a no-show to reassign, an audit to staff or re-staff, or reveals
		// to judge: charge the dearest. A light one (a payment, a pruning, an expired receipt, a
		// queued job's refund, a decision that drew no audit) is charged as the dearest of those,
		// a payment.
		let wakeups = if heavy == 0 {
			Weight::zero()
		} else {
			T::WeightInfo::on_initialize_wakeups(heavy)
				.max(T::WeightInfo::on_initialize_audits(heavy))
				.max(T::WeightInfo::reveal_result().saturating_mul(heavy.into()))
		};
		let light_count = light;
		let light =
			if light == 0 { Weight::zero() } else { T::WeightInfo::on_initialize_settle(light) };
		// Any woken job may end, telling `OnJobFinished` (budgets take back what it did not
		// spend).
		let finished =
			<T::OnJobFinished as infera_primitives::traits::OnJobFinished<_, _>>::weight()
				.saturating_mul(u64::from(heavy.saturating_add(light_count)));
		let wakeups = wakeups.saturating_add(light).saturating_add(finished);
		let assign =
			if tried == 0 { Weight::zero() } else { T::WeightInfo::on_initialize_assign(tried) };
		idle.saturating_add(wakeups).saturating_add(assign).saturating_add(probe)
	}

	/// Takes wake-ups from the cursor's block up to `now`, at most `MaxWakeupsPerBlock` of
	/// them, and moves the cursor past every block it emptied. Returns the heavy and the light
	/// visits and the blocks looked at.
	fn wake_due(now: BlockNumberFor<T>) -> (u32, u32, u32) {
		let budget = T::MaxWakeupsPerBlock::get();
		let mut block = WakeCursor::<T>::get();
		let (mut woken, mut heavy, mut blocks) = (0u32, 0u32, 0u32);
		// Each block looked at costs a read even when empty, so the walk is bounded too: a
		// cursor far behind (after an upgrade) catches up over several blocks.
		while block <= now && woken < budget && blocks < budget {
			blocks = blocks.saturating_add(1);
			let room = budget.saturating_sub(woken);
			let due: Vec<JobId> =
				Wakeups::<T>::iter_key_prefix(block).take(room as usize).collect();
			let drained = (due.len() as u32) < room;
			for id in due {
				Wakeups::<T>::remove(block, id);
				woken = woken.saturating_add(1);
				if Self::wake(id, block, now) == Visit::Heavy {
					heavy = heavy.saturating_add(1);
				}
			}
			if !drained {
				break;
			}
			block = block.saturating_add(1u32.into());
		}
		WakeCursor::<T>::put(block);
		(heavy, woken.saturating_sub(heavy), blocks)
	}

	/// The phase of job `id` that ended at `block` times out now (the same block, or a later
	/// one when wake-ups were carried over); a pruned job's receipt that expired is removed.
	fn wake(id: JobId, block: BlockNumberFor<T>, now: BlockNumberFor<T>) -> Visit {
		let Some(job) = Jobs::<T>::get(id) else {
			Self::expire_receipt(id);
			return Visit::Light;
		};
		if job.wake_at != block {
			return Visit::Light;
		}
		match job.status {
			JobStatus::Queued => {
				Self::dequeue(job.model, id);
				Self::refund(id, job, RefundReason::NoProvider);
				Visit::Light
			}
			JobStatus::Assigned => {
				Self::provider_no_show(id, job, now);
				Visit::Heavy
			}
			JobStatus::Committed => {
				if Self::decide_audit(id, job, now) {
					Visit::Heavy
				} else {
					Visit::Light
				}
			}
			JobStatus::Auditing => {
				Self::close_audit_commits(id, job, now);
				Visit::Heavy
			}
			JobStatus::Revealing { .. } => {
				Self::close_reveals(id, job);
				Visit::Heavy
			}
			JobStatus::Verified => {
				Self::settle(id, job);
				Visit::Light
			}
			JobStatus::Settled | JobStatus::Refunded { .. } => {
				Self::prune(id, job);
				Visit::Light
			}
		}
	}

	/// The assigned provider did not commit: it is penalised and the job goes to another
	/// provider while reassignments and time remain, otherwise it is refunded.
	fn provider_no_show(id: JobId, mut job: JobOf<T>, now: BlockNumberFor<T>) {
		if let Some(provider) = job.provider.take() {
			let status = job.status;
			T::Providers::unlock(&provider.who, job.stake);
			Self::slash_or_log(
				&provider.who,
				Params::<T>::get().no_show_slash.mul_floor(job.stake),
				None,
			);
			T::Providers::record_no_show(&provider.who);
			// The list holds at most `MaxAttempts`; a full list only means no more reassignments.
			let _ = job.no_shows.try_push(provider.who.clone());
			Self::deposit_event(Event::PartyMissedWindow { job: id, who: provider.who, status });
		}
		let params = Params::<T>::get();
		let time_left = Self::shortest_deadline(now) <= job.deadline;
		let attempts_left = (job.no_shows.len() as u32) <= params.max_reassignments;
		if time_left && attempts_left && Self::try_assign(id, &mut job, now) {
			let at = job.wake_at;
			Self::advance(id, job, JobStatus::Assigned, at);
		} else {
			job.verdict = Verdict::NoResult;
			Self::refund(id, job, RefundReason::NoShow);
		}
	}

	/// Slashes `amount` of `who`'s bond. A slash the staking pallet refuses is logged, never
	/// hidden: it means `who` holds no bond, which the draws exclude.
	pub(crate) fn slash_or_log(
		who: &T::AccountId,
		amount: BalanceOf<T>,
		reporter: Option<&T::AccountId>,
	) -> BalanceOf<T> {
		if amount.is_zero() {
			return Zero::zero();
		}
		T::Providers::slash(who, amount, reporter).unwrap_or_else(|e| {
			log::error!(target: "runtime::job-escrow", "slashing a party failed: {e:?}");
			Zero::zero()
		})
	}

	/// Tries to assign up to `AssignPerBlock` queued jobs, taking the models' queues in turn
	/// from the one after `QueueCursor`: in each, the oldest jobs until one finds no provider,
	/// which goes to the back of its queue. Returns how many jobs it tried.
	fn assign_queued(now: BlockNumberFor<T>) -> u32 {
		let budget = T::AssignPerBlock::get();
		if budget == 0 {
			return 0;
		}
		let mut models: Vec<ModelId> = match QueueCursor::<T>::get() {
			Some(last) => Queues::<T>::iter_keys_from_key(last).take(budget as usize).collect(),
			None => Vec::new(),
		};
		// Wrap around to the first queues (the last one tried may come again, last).
		for model in Queues::<T>::iter_keys() {
			if models.len() as u32 >= budget {
				break;
			}
			if !models.contains(&model) {
				models.push(model);
			}
		}
		let mut tried = 0u32;
		for model in models {
			if tried >= budget {
				break;
			}
			tried =
				tried.saturating_add(Self::assign_from(model, budget.saturating_sub(tried), now));
			QueueCursor::<T>::put(model);
		}
		tried
	}

	/// Tries up to `max` of `model`'s queued jobs, oldest first, stopping at the first that
	/// finds no provider (it goes to the back). Returns how many it tried.
	fn assign_from(model: ModelId, max: u32, now: BlockNumberFor<T>) -> u32 {
		let mut queue: Vec<JobId> = Queues::<T>::get(model).into_inner();
		let mut tried = 0u32;
		while tried < max && !queue.is_empty() {
			let id = queue.remove(0);
			tried = tried.saturating_add(1);
			// A queued job always exists: it leaves the queue when it ends.
			let Some(mut job) = Jobs::<T>::get(id) else { continue };
			let old_wake = job.wake_at;
			if Self::try_assign(id, &mut job, now) {
				Self::unschedule(id, old_wake);
				let at = job.wake_at;
				Self::advance(id, job, JobStatus::Assigned, at);
			} else {
				queue.push(id);
				break;
			}
		}
		// The queue is no longer than it was: it lost the jobs assigned and kept the rest.
		let queue = BoundedVec::<JobId, T::MaxQueued>::truncate_from(queue);
		if queue.is_empty() {
			Queues::<T>::remove(model);
		} else {
			Queues::<T>::insert(model, queue);
		}
		tried
	}

	/// Takes `id` out of `model`'s queue.
	pub(crate) fn dequeue(model: ModelId, id: JobId) {
		Queues::<T>::mutate_exists(model, |maybe| {
			if let Some(queue) = maybe {
				queue.retain(|j| *j != id);
				if queue.is_empty() {
					*maybe = None;
				}
			}
		});
	}
}
