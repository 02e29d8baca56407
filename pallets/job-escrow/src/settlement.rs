//! Where a job's escrow goes: payment after the challenge window, refunds, pruning to a receipt,
//! the reads behind the runtime API, and the invariants that prove nothing is lost.

use crate::{pallet::*, BalanceOf, JobOf, JobStatus, Receipt, ReceiptOf, RefundReason, Verdict};
use alloc::vec::Vec;
use frame_support::traits::{
	fungible::MutateHold,
	tokens::{Fortitude, Precision, Restriction},
	Get,
};
use infera_primitives::{
	traits::{ComputeProviders, ModelRegistry, WorkRecorder},
	JobId,
};
use sp_runtime::traits::{Saturating, UniqueSaturatedInto, Zero};

impl<T: Config> Pallet<T> {
	/// Moves `amount` of `client`'s escrow to `to`. False when `to` cannot receive it (it would
	/// stay below the existential deposit); the escrow is then untouched.
	fn pay(client: &T::AccountId, to: &T::AccountId, amount: BalanceOf<T>) -> bool {
		amount.is_zero()
			|| T::Currency::transfer_on_hold(
				&Self::escrow_reason(),
				client,
				to,
				amount,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Force,
			)
			.is_ok()
	}

	/// Pays a verified job: the model owner's royalty and the protocol cut out of the price, the
	/// rest of the price to the provider, what the price did not use back to the client. A share
	/// whose receiver cannot take it goes to the provider instead, so the escrow is always
	/// emptied exactly once.
	pub(crate) fn settle(id: JobId, job: JobOf<T>) {
		let Some(provider) = job.provider.clone() else {
			Self::refund(id, job, RefundReason::NoShow, Verdict::NoResult);
			return;
		};
		let params = Params::<T>::get();
		let price = job.price.min(job.max_fee);
		let mut royalty = BalanceOf::<T>::zero();
		if let Some((owner, share)) = T::ModelRegistry::royalty(job.model) {
			let amount = share.mul_floor(price);
			if Self::pay(&job.client, &owner, amount) {
				royalty = amount;
			}
		}
		let mut protocol = params.protocol_cut.mul_floor(price);
		if !Self::pay(&job.client, &T::ProtocolAccount::get(), protocol) {
			protocol = Zero::zero();
		}
		let provider_paid = price.saturating_sub(royalty).saturating_sub(protocol);
		let paid = Self::pay(&job.client, &provider.who, provider_paid);
		let refunded = job.max_fee.saturating_sub(price);
		let released = T::Currency::release(
			&Self::escrow_reason(),
			&job.client,
			if paid { refunded } else { refunded.saturating_add(provider_paid) },
			Precision::BestEffort,
		);
		if released.is_err() {
			log::error!(target: "runtime::job-escrow", "job {}: escrow release failed", id.0);
		}
		T::Providers::unlock(&provider.who, job.stake);
		T::Providers::record_verified(&provider.who);
		T::WorkRecorder::credit_work(&provider.who, price.unique_saturated_into());
		let verdict = if job.auditor.is_some() { Verdict::AuditPassed } else { Verdict::Unaudited };
		let verdict = if job.committee.is_empty() { verdict } else { Verdict::CommitteeUpheld };
		Self::deposit_event(Event::JobSettled {
			job: id,
			provider: provider.who,
			provider_paid: if paid { provider_paid } else { Zero::zero() },
			royalty,
			protocol,
			refunded: if paid { refunded } else { refunded.saturating_add(provider_paid) },
		});
		let fee_paid = if paid { price } else { royalty.saturating_add(protocol) };
		Self::finish(id, job, JobStatus::Settled, verdict, fee_paid);
	}

	/// Releases the whole escrow to the client and unlocks the provider's stake.
	pub(crate) fn refund(id: JobId, job: JobOf<T>, reason: RefundReason, verdict: Verdict) {
		if let Err(e) = T::Currency::release(
			&Self::escrow_reason(),
			&job.client,
			job.max_fee,
			Precision::BestEffort,
		) {
			log::error!(target: "runtime::job-escrow", "job {}: refund failed: {e:?}", id.0);
		}
		if let Some(p) = job.provider.as_ref() {
			T::Providers::unlock(&p.who, job.stake);
		}
		Self::deposit_event(Event::JobRefunded { job: id, reason, amount: job.max_fee });
		Self::finish(id, job, JobStatus::Refunded { reason }, verdict, Zero::zero());
	}

	/// Closes the books on a job: aggregates, the model's open-job count, the receipt, and the
	/// pruning wake-up.
	fn finish(
		id: JobId,
		mut job: JobOf<T>,
		status: JobStatus,
		verdict: Verdict,
		fee_paid: BalanceOf<T>,
	) {
		TotalEscrow::<T>::mutate(|t| *t = t.saturating_sub(job.max_fee));
		OpenJobs::<T>::mutate(|n| *n = n.saturating_sub(1));
		T::ModelRegistry::note_job_closed(job.model);
		let now = Self::now();
		Receipts::<T>::insert(
			id,
			Receipt {
				client: job.client.clone(),
				model: job.model,
				input_hash: job.input_hash,
				output_hash: job.provider.as_ref().and_then(|p| p.output_hash),
				provider: job.provider.as_ref().map(|p| p.who.clone()),
				auditor: job.auditor.as_ref().map(|p| p.who.clone()),
				verdict,
				status,
				fee_paid,
				finished_at: now,
			},
		);
		job.status = status;
		let retention = Params::<T>::get().retention;
		match Self::schedule(id, now.saturating_add(retention)) {
			Ok(when) => {
				job.wake_at = when;
				Jobs::<T>::insert(id, job);
			}
			// No room to schedule the pruning: prune now, the receipt stays.
			Err(_) => {
				Jobs::<T>::insert(id, job);
				Self::prune(id);
			}
		}
	}

	/// Removes a finished job and its outputs; its receipt remains.
	pub(crate) fn prune(id: JobId) {
		Jobs::<T>::remove(id);
		let _ = Outputs::<T>::clear_prefix(id, T::MaxCommittee::get().saturating_add(2), None);
		Self::deposit_event(Event::JobPruned { job: id });
	}

	/// A job with its status, for the runtime API.
	pub fn job(id: JobId) -> Option<JobOf<T>> {
		Jobs::<T>::get(id)
	}

	/// A finished job's receipt, for the runtime API.
	pub fn receipt(id: JobId) -> Option<ReceiptOf<T>> {
		Receipts::<T>::get(id)
	}

	/// The provider's revealed output of a job, while the job is kept.
	pub fn output(id: JobId) -> Option<Vec<u8>> {
		let job = Jobs::<T>::get(id)?;
		let provider = job.provider?;
		Outputs::<T>::get(id, provider.who).map(|o| o.into_inner())
	}

	/// Up to `limit` job ids of `client`, after `start_after`.
	pub fn jobs_by_client(
		client: &T::AccountId,
		start_after: Option<JobId>,
		limit: u32,
	) -> Vec<JobId> {
		Self::page(JobsByClient::<T>::iter_key_prefix(client), start_after, limit)
	}

	/// Up to `limit` job ids assigned to `provider`, after `start_after`.
	pub fn jobs_by_provider(
		provider: &T::AccountId,
		start_after: Option<JobId>,
		limit: u32,
	) -> Vec<JobId> {
		Self::page(JobsByProvider::<T>::iter_key_prefix(provider), start_after, limit)
	}

	fn page(
		ids: impl Iterator<Item = JobId>,
		start_after: Option<JobId>,
		limit: u32,
	) -> Vec<JobId> {
		let mut ids: Vec<JobId> = ids.collect();
		ids.sort();
		ids.into_iter()
			.filter(|id| start_after.is_none_or(|s| *id > s))
			.take(limit.min(100) as usize)
			.collect()
	}

	/// Checks that nothing is lost: escrow held from each client equals its open jobs'
	/// `max_fee`; `TotalEscrow` and `OpenJobs` match; stake locked for jobs equals what each
	/// provider has locked; every open job is in exactly one wake-up list, at its `wake_at`;
	/// queued jobs are exactly the jobs in the queue.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::BTreeMap;
		use frame_support::{ensure, traits::fungible::InspectHold};
		use sp_runtime::traits::CheckedAdd;
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut locked: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut total = BalanceOf::<T>::zero();
		let mut open: u32 = 0;
		let mut wakeups: BTreeMap<JobId, u32> = BTreeMap::new();
		for (block, list) in Wakeups::<T>::iter() {
			for id in list {
				let job = Jobs::<T>::get(id).ok_or("a wake-up names a missing job")?;
				ensure!(job.wake_at == block, "a wake-up is not at the job's wake_at");
				let n = wakeups.entry(id).or_default();
				*n = n.saturating_add(1);
			}
		}
		let queue = Queue::<T>::get();
		for (id, job) in Jobs::<T>::iter() {
			ensure!(wakeups.get(&id) == Some(&1), "a kept job is not in exactly one wake-up list");
			ensure!(
				(job.status == JobStatus::Queued) == queue.contains(&id),
				"queue and queued jobs differ"
			);
			if !job.status.is_open() {
				continue;
			}
			open = open.saturating_add(1);
			ensure!(job.price <= job.max_fee, "a job's price exceeds its escrow");
			let e = escrow.entry(job.client.clone()).or_insert_with(Zero::zero);
			*e = e.checked_add(&job.max_fee).ok_or("escrow sum overflows")?;
			total = total.checked_add(&job.max_fee).ok_or("escrow total overflows")?;
			if let Some(p) = job.provider.as_ref() {
				let l = locked.entry(p.who.clone()).or_insert_with(Zero::zero);
				*l = l.checked_add(&job.stake).ok_or("locked sum overflows")?;
			}
		}
		ensure!(open == OpenJobs::<T>::get(), "OpenJobs does not match the open jobs");
		ensure!(total == TotalEscrow::<T>::get(), "TotalEscrow does not match the open jobs");
		for (client, amount) in escrow {
			ensure!(
				T::Currency::balance_on_hold(&Self::escrow_reason(), &client) == amount,
				"escrow held from a client differs from its open jobs"
			);
		}
		for (provider, amount) in locked {
			ensure!(
				T::Providers::locked_stake(&provider) == amount,
				"stake locked for jobs differs from the provider's lock"
			);
		}
		Ok(())
	}
}
