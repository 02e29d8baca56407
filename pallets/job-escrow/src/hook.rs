//! The block hook: the wake-up scheduler and what happens to a job when its phase ends.

use crate::{pallet::*, BalanceOf, JobOf, JobStatus, RefundReason, Verdict, WeightInfo};
use alloc::vec::Vec;
use frame_support::{traits::Get, weights::Weight, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::{traits::ComputeProviders, JobId, ModelId};
use sp_runtime::traits::{Saturating, Zero};

/// What waking a job cost, for the hook's weight: each kind of visit is charged its own
/// benchmark at its worst case, so a job's life is charged what it really does.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Visit {
	/// A wake-up left behind by a phase that ended early: the job was read and left alone.
	Stale,
	/// A committed job for which no audit was drawn: its reveals open (`on_initialize_decide`).
	Decide,
	/// A payment or a refund (`on_initialize_settle`, the dearer of the two).
	Settle,
	/// A finished job removed with its provider's output, its receipt kept
	/// (`on_initialize_prune`).
	Prune,
	/// A finished job removed with a panel's outputs or the index entries of providers that
	/// failed it (`on_initialize_prune_full`).
	PruneFull,
	/// An expired receipt removed with its index entries (`on_initialize_expire`).
	Expire,
	/// A reassignment, a panel drawn or re-staffed, or reveals judged.
	Heavy,
}

/// How many visits of each kind a block's hook made.
#[derive(Default)]
struct Visits {
	stale: u32,
	decide: u32,
	settle: u32,
	prune: u32,
	prune_full: u32,
	expire: u32,
	heavy: u32,
}

impl Visits {
	fn add(&mut self, visit: Visit) {
		let n = match visit {
			Visit::Stale => &mut self.stale,
			Visit::Decide => &mut self.decide,
			Visit::Settle => &mut self.settle,
			Visit::Prune => &mut self.prune,
			Visit::PruneFull => &mut self.prune_full,
			Visit::Expire => &mut self.expire,
			Visit::Heavy => &mut self.heavy,
		};
		*n = n.saturating_add(1);
	}

	/// Visits that may end a job (telling `OnJobFinished`).
	fn may_finish(&self) -> u32 {
		self.settle.saturating_add(self.heavy)
	}
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
		let (visits, blocks) = Self::wake_due(now);
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
		// to judge: charge the dearest. Every other kind is charged its own benchmark; a stale
		// wake-up, the read of its job and the removal of its entry.
		let heavy = if visits.heavy == 0 {
			Weight::zero()
		} else {
			T::WeightInfo::on_initialize_wakeups(visits.heavy)
				.max(T::WeightInfo::on_initialize_audits(visits.heavy))
				.max(T::WeightInfo::reveal_result().saturating_mul(visits.heavy.into()))
		};
		let each =
			|n: u32, weight: fn(u32) -> Weight| if n == 0 { Weight::zero() } else { weight(n) };
		let light = each(visits.decide, T::WeightInfo::on_initialize_decide)
			.saturating_add(each(visits.settle, T::WeightInfo::on_initialize_settle))
			.saturating_add(each(visits.prune, T::WeightInfo::on_initialize_prune))
			.saturating_add(each(visits.prune_full, T::WeightInfo::on_initialize_prune_full))
			.saturating_add(each(visits.expire, T::WeightInfo::on_initialize_expire))
			.saturating_add(
				db.reads_writes(u64::from(visits.stale).saturating_mul(2), visits.stale.into()),
			);
		// A visit that may end a job tells `OnJobFinished` (budgets take back what it did not
		// spend).
		let finished =
			<T::OnJobFinished as infera_primitives::traits::OnJobFinished<_, _>>::weight()
				.saturating_mul(u64::from(visits.may_finish()));
		let assign =
			if tried == 0 { Weight::zero() } else { T::WeightInfo::on_initialize_assign(tried) };
		idle.saturating_add(heavy)
			.saturating_add(light)
			.saturating_add(finished)
			.saturating_add(assign)
			.saturating_add(probe)
	}

	/// Takes wake-ups from the cursor's block up to `now`, at most `MaxWakeupsPerBlock` of
	/// them, and moves the cursor past every block it emptied. Returns the visits of each kind
	/// and the blocks looked at.
	fn wake_due(now: BlockNumberFor<T>) -> (Visits, u32) {
		let budget = T::MaxWakeupsPerBlock::get();
		let mut block = WakeCursor::<T>::get();
		let (mut woken, mut blocks) = (0u32, 0u32);
		let mut visits = Visits::default();
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
				visits.add(Self::wake(id, block, now));
			}
			if !drained {
				break;
			}
			block = block.saturating_add(1u32.into());
		}
		WakeCursor::<T>::put(block);
		(visits, blocks)
	}

	/// The phase of job `id` that ended at `block` times out now (the same block, or a later
	/// one when wake-ups were carried over); a pruned job's receipt that expired is removed.
	fn wake(id: JobId, block: BlockNumberFor<T>, now: BlockNumberFor<T>) -> Visit {
		let Some(job) = Jobs::<T>::get(id) else {
			return if Self::expire_receipt(id) { Visit::Expire } else { Visit::Stale };
		};
		if job.wake_at != block {
			return Visit::Stale;
		}
		match job.status {
			JobStatus::Queued => {
				Self::dequeue(job.model, id);
				Self::refund(id, job, RefundReason::NoProvider);
				Visit::Settle
			}
			JobStatus::Assigned => {
				Self::provider_no_show(id, job, now);
				Visit::Heavy
			}
			JobStatus::Committed => {
				if Self::decide_audit(id, job, now) {
					Visit::Heavy
				} else {
					Visit::Decide
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
				Visit::Settle
			}
			JobStatus::Settled | JobStatus::Refunded { .. } => {
				// Outputs are the provider's and the panel's; index entries go for providers
				// that failed the job.
				let full = !job.checkers.is_empty() || !job.no_shows.is_empty();
				Self::prune(id, job);
				if full {
					Visit::PruneFull
				} else {
					Visit::Prune
				}
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
