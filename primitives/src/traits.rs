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
