//! The reads behind the runtime API: a job, its receipt and output, and pages of a client's or
//! provider's jobs.

use crate::{pallet::*, JobKey, JobOf, ReceiptOf};

/// The most job ids one page returns.
pub const MAX_PAGE: u32 = 100;
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

	/// Up to `limit` (at most `MAX_PAGE`) job ids of `client` in id order, after `start_after`.
	/// Reads only the page.
	pub fn jobs_by_client(
		client: &T::AccountId,
		start_after: Option<JobId>,
		limit: u32,
	) -> Vec<JobId> {
		let take = limit.min(MAX_PAGE) as usize;
		match start_after {
			None => {
				JobsByClient::<T>::iter_key_prefix(client).take(take).map(JobId::from).collect()
			}
			Some(after) => JobsByClient::<T>::iter_key_prefix_from(
				client,
				JobsByClient::<T>::hashed_key_for(client, JobKey::from(after)),
			)
			.take(take)
			.map(JobId::from)
			.collect(),
		}
	}

	/// Up to `limit` (at most `MAX_PAGE`) job ids assigned to `provider` in id order, after
	/// `start_after`. Reads only the page.
	pub fn jobs_by_provider(
		provider: &T::AccountId,
		start_after: Option<JobId>,
		limit: u32,
	) -> Vec<JobId> {
		let take = limit.min(MAX_PAGE) as usize;
		match start_after {
			None => {
				JobsByProvider::<T>::iter_key_prefix(provider).take(take).map(JobId::from).collect()
			}
			Some(after) => JobsByProvider::<T>::iter_key_prefix_from(
				provider,
				JobsByProvider::<T>::hashed_key_for(provider, JobKey::from(after)),
			)
			.take(take)
			.map(JobId::from)
			.collect(),
		}
	}
}
