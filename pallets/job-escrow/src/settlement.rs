//! Where a job's escrow goes: payment after the challenge window, refunds, and pruning to a
//! receipt. Money only: who is slashed and why is decided in `audit.rs` and `hook.rs`.

use crate::{
	pallet::*, BalanceOf, JobKey, JobOf, JobStatus, Receipt, RefundReason, Verdict, Wakeup,
};
use alloc::vec::Vec;
use frame_support::traits::{
	fungible::MutateHold,
	tokens::{Fortitude, Precision, Restriction},
	Defensive, Get,
};
use frame_support::weights::Weight;
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::{
	traits::{ComputeProviders, ModelRegistry, OnJobFinished, WorkRecorder},
	JobId,
};
use sp_core::H256;
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Moves `amount` of `client`'s escrow to `to`. False when `to` cannot receive it (it would
	/// stay below the existential deposit); the escrow is then untouched.
	pub(crate) fn pay(client: &T::AccountId, to: &T::AccountId, amount: BalanceOf<T>) -> bool {
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
	/// emptied exactly once. Returns what `OnJobFinished` used.
	pub(crate) fn settle(id: JobId, job: JobOf<T>) -> Weight {
		let Some(provider) = job.provider.clone() else {
			let mut job = job;
			job.verdict = Verdict::NoResult;
			return Self::refund(id, job, RefundReason::NoShow);
		};
		if job.probe {
			// No fee and no escrow: a probe pays in emission only, one work point when its
			// panel confirmed it.
			T::Providers::unlock(&provider.who, job.stake);
			T::Providers::record_verified(&provider.who);
			if job.verdict == Verdict::AuditPassed {
				T::WorkRecorder::credit_work(&provider.who, 1);
			}
			Self::deposit_event(Event::JobSettled {
				job: id,
				provider: provider.who,
				provider_paid: Zero::zero(),
				royalty: Zero::zero(),
				protocol: Zero::zero(),
				refunded: Zero::zero(),
			});
			return Self::finish(id, job, JobStatus::Settled, Zero::zero());
		}
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
		// A client-paid job earns its fee, not emission: a client could pay itself (see
		// `probes.rs` for the work emission follows).
		Self::deposit_event(Event::JobSettled {
			job: id,
			provider: provider.who,
			provider_paid: if paid { provider_paid } else { Zero::zero() },
			royalty,
			protocol,
			refunded: if paid { refunded } else { refunded.saturating_add(provider_paid) },
		});
		let fee_paid = if paid { price } else { royalty.saturating_add(protocol) };
		Self::finish(id, job, JobStatus::Settled, fee_paid)
	}

	/// Releases the escrow (and any challenge bond) to the client and unlocks the provider's
	/// stake. A job cancelled or refunded for want of a provider keeps its `storage_fee` (at
	/// most its `max_fee`) for the protocol: the state it leaves is paid for, and jamming a
	/// model's queue costs the jammer. Returns what `OnJobFinished` used.
	pub(crate) fn refund(id: JobId, mut job: JobOf<T>, reason: RefundReason) -> Weight {
		let bond = core::mem::replace(&mut job.challenge_bond, Zero::zero());
		let mut storage_fee = match reason {
			RefundReason::Cancelled | RefundReason::NoProvider | RefundReason::Unrunnable => {
				Params::<T>::get().storage_fee.min(job.max_fee)
			}
			RefundReason::NoShow | RefundReason::Fraud | RefundReason::Withheld => Zero::zero(),
		};
		if !Self::pay(&job.client, &T::ProtocolAccount::get(), storage_fee) {
			storage_fee = Zero::zero();
		}
		let amount = job.max_fee.saturating_add(bond).saturating_sub(storage_fee);
		if let Err(e) =
			T::Currency::release(&Self::escrow_reason(), &job.client, amount, Precision::BestEffort)
		{
			log::error!(target: "runtime::job-escrow", "job {}: refund failed: {e:?}", id.0);
		}
		if let Some(p) = job.provider.as_ref() {
			T::Providers::unlock(&p.who, job.stake);
		}
		Self::deposit_event(Event::JobRefunded { job: id, reason, amount, storage_fee });
		Self::finish(id, job, JobStatus::Refunded { reason }, storage_fee)
	}

	/// Closes the books on a job: the model's open-job count, the receipt, and the pruning
	/// wake-up. Returns what `OnJobFinished` used.
	fn finish(id: JobId, mut job: JobOf<T>, status: JobStatus, fee_paid: BalanceOf<T>) -> Weight {
		// The escrow is empty: `fee_paid` of it left the client, the rest is free again.
		let used = if job.probe {
			Weight::zero()
		} else {
			T::OnJobFinished::on_job_finished(id, &job.client, job.max_fee, fee_paid)
		};
		T::ModelRegistry::note_job_closed(job.model);
		let now = Self::now();
		// A model cannot be removed while jobs naming it are open (`note_job_opened`).
		let (weights, dataset) =
			T::ModelRegistry::provenance(job.model).defensive_unwrap_or_default();
		Receipts::<T>::insert(
			id,
			Receipt {
				client: job.client.clone(),
				model: job.model,
				weights_hash: H256(weights),
				dataset_hash: dataset.map(H256),
				input_hash: job.input_hash,
				output_hash: job.provider.as_ref().and_then(|p| p.output_hash),
				provider: job.provider.as_ref().map(|p| p.who.clone()),
				checkers: frame_support::BoundedVec::truncate_from(
					job.checkers
						.iter()
						.filter(|c| c.output_hash.is_some())
						.map(|c| c.who.clone())
						.collect::<Vec<_>>(),
				),
				verdict: job.verdict,
				status,
				fee_paid,
				finished_at: now,
			},
		);
		job.status = status;
		let retention = Params::<T>::get().retention;
		Self::advance(id, job, status, now.saturating_add(retention));
		used
	}

	/// Removes a finished job, its outputs and the index entries of providers that failed it;
	/// its receipt remains until `receipt_retention` after the job ended. Returns the block its
	/// receipt expires at.
	pub(crate) fn prune(id: JobId, job: JobOf<T>) -> BlockNumberFor<T> {
		Jobs::<T>::remove(id);
		let _ = Outputs::<T>::clear_prefix(id, T::MaxCommittee::get().saturating_add(1), None);
		let key = JobKey::from(id);
		for who in job.no_shows.iter() {
			JobsByProvider::<T>::remove(who, key);
		}
		let finished = Receipts::<T>::get(id).map(|r| r.finished_at).unwrap_or_else(Self::now);
		let expires = Self::schedule(
			Wakeup::Receipt(id),
			finished.saturating_add(Params::<T>::get().receipt_retention),
		);
		Self::deposit_event(Event::JobPruned { job: id, receipt_expires: expires });
		expires
	}

	/// Removes an expired receipt and its client's and provider's index entries. False when
	/// there was none (a wake-up left behind).
	pub(crate) fn expire_receipt(id: JobId) -> bool {
		let Some(receipt) = Receipts::<T>::take(id) else { return false };
		let key = JobKey::from(id);
		JobsByClient::<T>::remove(&receipt.client, key);
		if let Some(provider) = receipt.provider.as_ref() {
			JobsByProvider::<T>::remove(provider, key);
		}
		Self::deposit_event(Event::ReceiptExpired { job: id });
		true
	}
}
