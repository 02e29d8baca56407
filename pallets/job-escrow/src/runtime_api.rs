//! The reads behind the runtime API: a job, its receipt and output, and pages of a client's or
//! provider's jobs.

use crate::{pallet::*, JobOf, ReceiptOf};
use alloc::vec::Vec;
use infera_primitives::JobId;

impl<T: Config> Pallet<T> {
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
}
