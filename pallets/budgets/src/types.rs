//! What budgets store.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A payer's budget: the amount held for its delegates' jobs, and how many delegates it has.
#[derive(
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
pub struct Budget<Balance> {
	/// Held from the payer under `HoldReason::Budget`: what delegates may still draw.
	pub balance: Balance,
	/// Delegates authorised (at most `MaxDelegates`).
	pub delegates: u32,
}

/// What a delegate may spend. An amount of `Balance::MAX` is no limit.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	frame_support::Serialize,
	frame_support::Deserialize,
)]
#[serde(crate = "frame_support::__private::serde", rename_all = "camelCase")]
pub struct Limits<Balance, BlockNumber> {
	/// Most escrow (`max_fee`) one job may take.
	pub per_job: Balance,
	/// Most the delegate's jobs may cost within one period of `period` blocks.
	pub per_period: Balance,
	/// Length of a period, blocks (at least 1).
	pub period: BlockNumber,
	/// Most the delegate's jobs may cost in all.
	pub total: Balance,
	/// The last block the delegate may submit in; `None`: no expiry.
	pub expires_at: Option<BlockNumber>,
}

/// A delegate's limits and what it has spent. A job counts its whole escrow when submitted;
/// when it ends, what it did not spend is taken off again, so `spent` is what the delegate's
/// finished jobs cost plus the escrow of its open ones.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Allowance<Balance, BlockNumber> {
	/// What the payer allows.
	pub limits: Limits<Balance, BlockNumber>,
	/// Spent since the delegate was authorised.
	pub spent: Balance,
	/// Spent in the current period.
	pub spent_in_period: Balance,
	/// The block the current period began.
	pub period_start: BlockNumber,
}

/// Whose budget paid for an open job, and in which of its delegate's periods.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Funded<AccountId, BlockNumber> {
	/// The payer (the job's client on chain).
	pub payer: AccountId,
	/// The delegate that submitted it.
	pub delegate: AccountId,
	/// The delegate's period the job was counted in.
	pub period_start: BlockNumber,
}
