//! The invariants that prove nothing is lost, checked by `try_state` and after every test.

use crate::{pallet::*, BalanceOf, JobKey, JobStatus};
use infera_primitives::{traits::ComputeProviders, JobId, ModelId};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Checks that nothing is lost: escrow held from each client equals its open jobs'
	/// `max_fee` (and challenge bonds; the runtime's invariants check every account's hold
	/// against `escrow_of_open_jobs`); stake locked for jobs (by providers and by
	/// checkers of audits in progress) equals what each bonded account has locked, and no
	/// other bonded account has stake locked; every kept job has a wake-up at its `wake_at`, and
	/// every receipt of a pruned job exactly one, all at or after the cursor the hook goes on
	/// from (so every open job will be woken and every receipt expires); queued
	/// jobs are exactly the jobs in their model's queue; no more audits concluded than drawn.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use crate::Wakeup;
		use alloc::collections::{BTreeMap, BTreeSet};
		use frame_support::{ensure, traits::fungible::InspectHold};
		use frame_system::pallet_prelude::BlockNumberFor;
		use sp_runtime::traits::CheckedAdd;
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut locked: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let cursor = WakeCursor::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			cursor <= now.saturating_add(1u32.into()),
			"the wake-up cursor is ahead of the chain"
		);
		// Every page is at or after the cursor (so the hook reaches it), holds only its group's
		// jobs, each entry once; a receipt's entry names a receipt whose job is pruned.
		let mut job_wakeups: BTreeSet<(BlockNumberFor<T>, JobId)> = BTreeSet::new();
		let mut receipt_wakeups: BTreeMap<JobId, u32> = BTreeMap::new();
		for (block, group, page) in WakeupPages::<T>::iter() {
			ensure!(block >= cursor, "a wake-up lies behind the cursor and never comes");
			ensure!(!page.is_empty(), "an empty wake-up page is kept");
			for (i, entry) in page.iter().enumerate() {
				ensure!(entry.group() == group, "a wake-up is on another group's page");
				ensure!(!page.iter().take(i).any(|e| e == entry), "a wake-up is listed twice");
				match entry {
					Wakeup::Job(id) => {
						job_wakeups.insert((block, *id));
					}
					Wakeup::Receipt(id) => {
						ensure!(
							Receipts::<T>::contains_key(id) && !Jobs::<T>::contains_key(id),
							"a receipt's wake-up names no receipt of a pruned job"
						);
						let n = receipt_wakeups.entry(*id).or_default();
						*n = n.saturating_add(1);
					}
				}
			}
		}
		let mut queued: BTreeMap<JobId, ModelId> = BTreeMap::new();
		for (model, queue) in Queues::<T>::iter() {
			ensure!(!queue.is_empty(), "an empty queue is kept");
			for id in queue {
				ensure!(queued.insert(id, model).is_none(), "a job is queued twice");
			}
		}
		// Every receipt of a pruned job expires: it has its one wake-up.
		for id in Receipts::<T>::iter_keys() {
			if !Jobs::<T>::contains_key(id) {
				ensure!(receipt_wakeups.get(&id) == Some(&1), "a receipt never expires");
			}
		}
		for (id, job) in Jobs::<T>::iter() {
			ensure!(
				job_wakeups.contains(&(job.wake_at, id)),
				"a kept job has no wake-up at its wake_at"
			);
			ensure!(
				(job.status == JobStatus::Queued) == (queued.get(&id) == Some(&job.model)),
				"queues and queued jobs differ"
			);
			// Probes have no client to page them.
			ensure!(
				job.probe || JobsByClient::<T>::contains_key(&job.client, JobKey::from(id)),
				"a kept job is missing from its client's index"
			);
			if !job.status.is_open() {
				continue;
			}
			ensure!(job.price <= job.max_fee, "a job's price exceeds its escrow");
			let held = job.max_fee.checked_add(&job.challenge_bond).ok_or("escrow overflows")?;
			ensure!(
				job.challenge_bond.is_zero()
					|| matches!(job.status, JobStatus::Auditing | JobStatus::Revealing { .. }),
				"a challenge bond outlived its audit"
			);
			let e = escrow.entry(job.client.clone()).or_insert_with(Zero::zero);
			*e = e.checked_add(&held).ok_or("escrow sum overflows")?;
			if let Some(p) = job.provider.as_ref() {
				let l = locked.entry(p.who.clone()).or_insert_with(Zero::zero);
				*l = l.checked_add(&job.stake).ok_or("locked sum overflows")?;
			}
			// The panel holds stake while it commits and reveals, and only then.
			ensure!(
				Self::panel_locked(job.status)
					|| matches!(job.status, JobStatus::Verified)
					|| job.checkers.is_empty(),
				"a job outside its audit has checkers"
			);
			if Self::panel_locked(job.status) {
				ensure!(!job.checkers.is_empty(), "an audit without checkers");
				for c in job.checkers.iter() {
					ensure!(
						Some(&c.who) != job.provider.as_ref().map(|p| &p.who),
						"a provider checks itself"
					);
					ensure!(c.who != job.client, "a client checks its own job");
					let l = locked.entry(c.who.clone()).or_insert_with(Zero::zero);
					*l = l.checked_add(&job.stake).ok_or("locked sum overflows")?;
				}
			}
		}
		for (client, amount) in escrow {
			ensure!(
				T::Currency::balance_on_hold(&Self::escrow_reason(), &client) == amount,
				"escrow held from a client differs from its open jobs"
			);
		}
		for (provider, amount) in locked.iter() {
			ensure!(
				T::Providers::locked_stake(provider) == *amount,
				"stake locked for jobs differs from the provider's lock"
			);
		}
		// Every bonded account, not only the ones on open jobs: nobody keeps a stale lock.
		for who in T::Providers::with_locked_stake() {
			ensure!(locked.contains_key(&who), "stake is locked for no open job");
		}
		let stats = AuditStats::<T>::get();
		ensure!(stats.concluded <= stats.drawn, "more audits concluded than drawn");
		Ok(())
	}

	/// The escrow all open jobs hold together (their fees and challenge bonds), read from every
	/// job: for invariants that compare it with the holds of every account.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn escrow_of_open_jobs() -> BalanceOf<T> {
		Jobs::<T>::iter_values().filter(|job| job.status.is_open()).fold(
			Zero::zero(),
			|total: BalanceOf<T>, job| {
				total.saturating_add(job.max_fee).saturating_add(job.challenge_bond)
			},
		)
	}
}
