//! Small traits through which the pallets use each other without depending on each other. The
//! runtime wires the real pallets in; mocks record calls.

use crate::{Architecture, ModelId};
use sp_runtime::{DispatchError, DispatchResult, Perbill};

/// What the job escrow and staking need to know about registered models.
pub trait ModelRegistry<AccountId> {
	/// Whether `model` exists and takes new jobs (not deprecated).
	fn is_active(model: ModelId) -> bool;
	/// The model's architecture and tolerance.
	fn architecture(model: ModelId) -> Option<Architecture>;
	/// Who receives the model's royalty, and its share of each job's fee.
	fn royalty(model: ModelId) -> Option<(AccountId, Perbill)>;
	/// What the model is: the blake2-256 of its weights and, when its owner registered one, of
	/// its training data set. Receipts carry both.
	fn provenance(model: ModelId) -> Option<([u8; 32], Option<[u8; 32]>)>;
	/// A job naming `model` was opened: the model cannot be removed until it closes.
	fn note_job_opened(model: ModelId) -> DispatchResult;
	/// A job naming `model` was closed (settled, refunded or cancelled).
	fn note_job_closed(model: ModelId);
}

/// What the job escrow needs from compute staking.
pub trait ComputeProviders<AccountId, Balance> {
	/// Whether `who` is an active (registered, bonded, not chilled) provider serving `model`.
	fn serves(who: &AccountId, model: ModelId) -> bool;
	/// Bond of `who` not yet locked by open jobs.
	fn free_stake(who: &AccountId) -> Balance;
	/// Stake of `who` locked by open jobs (what [`Self::lock`] added and [`Self::unlock`] did
	/// not yet release).
	fn locked_stake(who: &AccountId) -> Balance;
	/// A provider serving `model` whose free stake covers `stake_needed`, chosen with probability
	/// proportional to stake from `seed`, never one in `exclude`.
	fn select(
		model: ModelId,
		stake_needed: Balance,
		exclude: &[AccountId],
		seed: [u8; 32],
	) -> Option<AccountId>;
	/// Whether `who` can check jobs of `model` with `stake_needed` at risk: registered and
	/// bonded at least the minimum (chilled or not: a chilled provider takes no jobs but may
	/// still audit), declaring `model`, with that much bond not locked.
	fn can_check(who: &AccountId, model: ModelId, stake_needed: Balance) -> bool;
	/// Every account with stake locked by open jobs (for invariants: iterates all providers).
	fn with_locked_stake() -> alloc::vec::Vec<AccountId>;
	/// Locks `amount` of `who`'s bond for an open job.
	fn lock(who: &AccountId, amount: Balance) -> DispatchResult;
	/// Releases `amount` locked by [`Self::lock`].
	fn unlock(who: &AccountId, amount: Balance);
	/// Slashes up to `amount` from `who`'s bond; a share goes to `reporter`. Returns what was
	/// actually slashed (less than `amount` when the bond is smaller).
	fn slash(
		who: &AccountId,
		amount: Balance,
		reporter: Option<&AccountId>,
	) -> Result<Balance, DispatchError>;
	/// `who` did not deliver an assigned job in time: lowers its reputation.
	fn record_no_show(who: &AccountId);
	/// `who` delivered a job that passed its checks: raises its reputation.
	fn record_verified(who: &AccountId);
}

/// Credits verified work and audits to the reward epochs.
pub trait WorkRecorder<AccountId> {
	/// `provider` delivered a verified job worth `points`.
	fn credit_work(provider: &AccountId, points: u64);
	/// `validator` completed an audit.
	fn credit_audit(validator: &AccountId);
}

/// Records nothing: for runtimes and mocks without rewards.
impl<AccountId> WorkRecorder<AccountId> for () {
	fn credit_work(_: &AccountId, _: u64) {}
	fn credit_audit(_: &AccountId) {}
}

/// Told by the job escrow when a job's escrow is emptied (the job settled, was refunded or
/// cancelled): budgets take what the job did not spend back.
pub trait OnJobFinished<AccountId, Balance> {
	/// Job `job` of `client` finished: of its `escrow`, `spent` left the client (price, storage
	/// fee); the rest was released to the client's free balance. Returns the weight it used
	/// beyond the one read that finds whether the job concerns it (which the caller's
	/// benchmark measures): zero for a job it has nothing to do with, at most `weight()`.
	fn on_job_finished(
		job: crate::JobId,
		client: &AccountId,
		escrow: Balance,
		spent: Balance,
	) -> sp_runtime::Weight;
	/// The most one call may weigh.
	fn weight() -> sp_runtime::Weight;
}

/// Nobody listens: for runtimes and mocks without budgets.
impl<AccountId, Balance> OnJobFinished<AccountId, Balance> for () {
	fn on_job_finished(
		_: crate::JobId,
		_: &AccountId,
		_: Balance,
		_: Balance,
	) -> sp_runtime::Weight {
		sp_runtime::Weight::zero()
	}
	fn weight() -> sp_runtime::Weight {
		sp_runtime::Weight::zero()
	}
}

/// Submitting jobs for a client: the job escrow, as budgets use it.
pub trait JobSubmitter<AccountId, Balance, BlockNumber> {
	/// Submits one job for each of `inputs`, all of `model`, each escrowing `max_fee` from
	/// `client` in one hold, as `client` calling `submit_jobs` would. Returns the job ids.
	fn submit_jobs(
		client: &AccountId,
		model: ModelId,
		inputs: alloc::vec::Vec<alloc::vec::Vec<u8>>,
		max_fee: Balance,
		deadline: BlockNumber,
	) -> Result<alloc::vec::Vec<crate::JobId>, DispatchError>;
	/// The most submitting `inputs` inputs of `bytes` bytes in all may weigh.
	fn submit_jobs_weight(inputs: u32, bytes: u32) -> sp_runtime::Weight;
	/// The most inputs one call takes.
	fn max_inputs() -> u32;
	/// The longest input, bytes.
	fn max_input_len() -> u32;
	/// The price of a job whose input is `bytes` long (what `max_fee` must cover).
	fn price(bytes: u32) -> Result<Balance, DispatchError>;
}
