//! `InferaApi`: what dApps, explorers and the node's `infera_*` RPC read from the chain, in
//! one call each and without knowing storage layouts.

use crate::{AccountId, Balance, Runtime};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use infera_primitives::{JobId, ModelId};
use scale_info::TypeInfo;

/// The job types clients and the node read, re-exported so that nothing outside the runtime
/// depends on the pallet.
pub use pallet_job_escrow::{JobStatus, Party, RefundReason};

/// A job as the API returns it: the full record while it is kept, the receipt once it finished,
/// and the provider's revealed output (SCALE-encoded canonical output) while it is kept.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct JobDetails {
	/// The job record (status, parties, deadlines); `None` once pruned.
	pub job: Option<pallet_job_escrow::JobOf<Runtime>>,
	/// How it ended, once it ended.
	pub receipt: Option<pallet_job_escrow::ReceiptOf<Runtime>>,
	/// The provider's revealed output.
	pub output: Option<Vec<u8>>,
}

/// What a job would cost now.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct FeeEstimate {
	/// The price charged at settlement (`base_fee + fee_per_byte · input length`).
	pub price: Balance,
	/// The smallest `max_fee` `submit_job` accepts (the price).
	pub min_max_fee: Balance,
	/// Of the price, the model owner's royalty.
	pub royalty: Balance,
	/// Provider stake the job locks while open.
	pub provider_stake: Balance,
	/// Providers serving the model now (0: the job would queue).
	pub providers: u32,
	/// Bonded auditors that declare the model (0: the model is unverifiable: a job drawn for
	/// audit stands unchecked, and its jobs earn no emission).
	pub checkers: u32,
}

/// Why no estimate could be given.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum FeeEstimateError {
	/// The model is not registered or takes no jobs.
	ModelNotActive,
	/// The input is empty.
	EmptyInput,
	/// The input is longer than the chain accepts.
	InputTooLong { max: u32 },
	/// The price overflows.
	Overflow,
}

sp_api::decl_runtime_apis! {
	/// Infera's read API.
	pub trait InferaApi {
		/// A job with its status (and refund reason), receipt and output.
		fn job(job: JobId) -> JobDetails;
		/// Up to `limit` (≤ 100) job ids of `client`, ascending, after `start_after`.
		fn jobs_by_client(client: AccountId, start_after: Option<JobId>, limit: u32) -> Vec<JobId>;
		/// Up to `limit` (≤ 100) job ids assigned to `provider`, ascending, after `start_after`.
		fn jobs_by_provider(provider: AccountId, start_after: Option<JobId>, limit: u32) -> Vec<JobId>;
		/// A registered model.
		fn model(model: ModelId) -> Option<pallet_model_registry::ModelInfoOf<Runtime>>;
		/// A model's ancestors, parent first.
		fn lineage(model: ModelId) -> Vec<ModelId>;
		/// A provider's record: bond, unbonding, hardware, models, reputation, status.
		fn provider(who: AccountId) -> Option<pallet_compute_staking::ProviderInfoOf<Runtime>>;
		/// What a job for `model` with an input of `input_len` bytes costs now.
		fn estimate_fee(model: ModelId, input_len: u32) -> Result<FeeEstimate, FeeEstimateError>;
		/// How many bonded auditors declare `model` and can be drawn to check its jobs (0: the
		/// model is unverifiable).
		fn checkers(model: ModelId) -> u32;
	}
}

/// The implementation behind the API (also used by the runtime's tests).
pub mod implementation {
	use super::*;
	use frame_support::traits::Get;
	use infera_primitives::traits::ModelRegistry as _;

	pub fn job(id: JobId) -> JobDetails {
		JobDetails {
			job: pallet_job_escrow::Pallet::<Runtime>::job(id),
			receipt: pallet_job_escrow::Pallet::<Runtime>::receipt(id),
			output: pallet_job_escrow::Pallet::<Runtime>::output(id),
		}
	}

	pub fn estimate_fee(model: ModelId, input_len: u32) -> Result<FeeEstimate, FeeEstimateError> {
		type Registry = pallet_model_registry::Pallet<Runtime>;
		type Escrow = pallet_job_escrow::Pallet<Runtime>;
		if !Registry::is_active(model) {
			return Err(FeeEstimateError::ModelNotActive);
		}
		if input_len == 0 {
			return Err(FeeEstimateError::EmptyInput);
		}
		let max = <Runtime as pallet_job_escrow::Config>::MaxInputLen::get();
		if input_len > max {
			return Err(FeeEstimateError::InputTooLong { max });
		}
		let price = Escrow::price_for(input_len).map_err(|_| FeeEstimateError::Overflow)?;
		let royalty = Registry::royalty(model).map_or(0, |(_, share)| share.mul_floor(price));
		let providers = pallet_compute_staking::Pallet::<Runtime>::active_providers(model);
		Ok(FeeEstimate {
			price,
			min_max_fee: price,
			royalty,
			provider_stake: Escrow::stake_for(price),
			providers,
			checkers: Escrow::checkers_for(model, None),
		})
	}
}
