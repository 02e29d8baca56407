//! Stored records of the rewards pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// Governance-set parameters of the rewards.
#[derive(
	Copy,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct RewardParams<Balance, BlockNumber> {
	/// Blocks per epoch.
	pub epoch_length: BlockNumber,
	/// New tokens minted into each epoch's pool, exactly once per epoch.
	pub emission_per_epoch: Balance,
	/// Share of the pool for providers, in proportion to verified work.
	pub provider_share: Perbill,
	/// Share of the pool for auditors, in proportion to audits and committee votes done.
	pub validator_share: Perbill,
}

/// One pool of a closed epoch (providers' or auditors'), paid out as its points are claimed.
#[derive(
	Copy,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Pool<Balance> {
	/// What the pool holds for its points.
	pub amount: Balance,
	/// Points earned in the epoch.
	pub points: u128,
	/// Points already turned into claimable balances.
	pub settled_points: u128,
	/// What those points received (rounded down each time; the dust goes to the treasury when
	/// the last point is settled).
	pub settled_amount: Balance,
}

/// An account's points in the last epoch it earned in, and what it can claim.
#[derive(
	Copy,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Earnings<Balance> {
	/// The epoch `work` and `audits` were earned in.
	pub epoch: u32,
	/// Verified work points in `epoch`.
	pub work: u128,
	/// Audits and committee votes in `epoch`.
	pub audits: u128,
	/// Settled and not yet claimed.
	pub claimable: Balance,
}
