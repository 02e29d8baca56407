//! The block hook: the wake-up scheduler and what happens to a job when its phase ends.

use crate::{pallet::*, BalanceOf, JobOf, JobStatus, RefundReason, Verdict, WeightInfo};
use alloc::vec::Vec;
use frame_support::{traits::Get, weights::Weight, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::{traits::ComputeProviders, JobId};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError,
};

/// How many blocks past the wanted one the scheduler looks for room.
const SCHEDULE_SEARCH: u32 = 16;

impl<T: Config> Pallet<T> {
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
				job.verdict = Verdict::NoResult;
				Self::release_checkers(&job);
				Self::refund(id, job, RefundReason::NoProvider);
				None
			}
		}
	}

	/// Moves every job whose phase ends at `now`, then tries to assign a few queued jobs.
	pub(crate) fn on_block(now: BlockNumberFor<T>) -> Weight {
		let due = Wakeups::<T>::take(now);
		let n = due.len() as u32;
		for id in due {
			Self::wake(id, now);
		}
		let tried = Self::assign_queued(now);
		let probe = if Self::maybe_probe(now) {
			T::WeightInfo::on_initialize_probe()
		} else {
			Weight::zero()
		};
		// An idle block reads the (empty) wake-up list and queue and nothing else; the
		// benchmarked formulas' intercepts would overcharge it.
		let idle = <T as frame_system::Config>::DbWeight::get().reads(2);
		// A woken job may be a no-show to reassign or an audit to re-staff: charge the dearer.
		let wakeups = if n == 0 {
			Weight::zero()
		} else {
			T::WeightInfo::on_initialize_wakeups(n).max(T::WeightInfo::on_initialize_audits(n))
		};
		let assign =
			if tried == 0 { Weight::zero() } else { T::WeightInfo::on_initialize_assign(tried) };
		idle.saturating_add(wakeups).saturating_add(assign).saturating_add(probe)
	}

	fn wake(id: JobId, now: BlockNumberFor<T>) {
		let Some(job) = Jobs::<T>::get(id) else { return };
		if job.wake_at != now {
			return;
		}
		match job.status {
			JobStatus::Queued => {
				Queue::<T>::mutate(|q| q.retain(|j| *j != id));
				Self::refund(id, job, RefundReason::NoProvider);
			}
			JobStatus::Assigned => Self::provider_no_show(id, job, now),
			JobStatus::Committed => Self::decide_audit(id, job, now),
			JobStatus::Auditing => Self::close_audit_commits(id, job, now),
			JobStatus::Revealing { .. } => Self::close_reveals(id, job),
			JobStatus::Verified => Self::settle(id, job),
			JobStatus::Settled | JobStatus::Refunded { .. } => Self::prune(id),
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
				Self::refund(id, job, RefundReason::NoProvider);
			}
		}
		Queue::<T>::put(queue);
		tries as u32
	}
}
