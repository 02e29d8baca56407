//! Stored records of compute staking.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use infera_primitives::{HardwareProfile, ModelId};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// Highest reputation a provider can reach.
pub const MAX_REPUTATION: u32 = 1_000;
/// Reputation of a newly registered provider: half way, so it can rise and fall.
pub const INITIAL_REPUTATION: u32 = 500;

/// Whether a provider takes new jobs.
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
pub enum ProviderStatus {
	/// Eligible for new jobs (when bonded at least the minimum and serving the model).
	Active,
	/// Takes no new jobs; open jobs still run to the end.
	Chilled,
}

/// Bond on its way out: released by `withdraw_unbonded` from block `unlock_at` on. It stays held
/// (and slashable) until then.
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
pub struct UnlockChunk<Balance, BlockNumber> {
	/// Amount released.
	pub value: Balance,
	/// First block at which it can be withdrawn.
	pub unlock_at: BlockNumber,
}

/// A registered compute provider.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxModels, MaxChunks))]
#[allow(clippy::multiple_bound_locations)] // reason: the NoBound derives restate the struct's bounds
pub struct ProviderInfo<
	Balance: Clone + Eq + Debug,
	BlockNumber: Clone + Eq + Debug,
	MaxModels: Get<u32>,
	MaxChunks: Get<u32>,
> {
	/// The hardware the provider declared.
	pub hardware: HardwareProfile,
	/// Bond at risk: held, slashable, backs open jobs.
	pub bonded: Balance,
	/// Part of the bond backing open jobs; it cannot be unbonded. After a slash it may exceed
	/// `bonded` until the jobs close.
	pub locked: Balance,
	/// Bond waiting out the unbonding delay, oldest first.
	pub unlocking: BoundedVec<UnlockChunk<Balance, BlockNumber>, MaxChunks>,
	/// Models the provider serves.
	pub models: BoundedVec<ModelId, MaxModels>,
	/// Whether the provider takes new jobs.
	pub status: ProviderStatus,
	/// 0..=`MAX_REPUTATION`: verified jobs raise it, no-shows lower it; selection weighs it.
	pub reputation: u32,
	/// Jobs delivered and verified.
	pub jobs_verified: u32,
	/// Jobs assigned and not delivered in time.
	pub no_shows: u32,
	/// When the provider registered.
	pub registered_at: BlockNumber,
}

/// Governance-set parameters of compute staking.
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
pub struct StakingParams<Balance, BlockNumber> {
	/// Least bond a provider must keep to take jobs; a partial unbond may not go below it.
	pub min_bond: Balance,
	/// Blocks between `unbond` and the bond becoming withdrawable.
	pub unbonding_delay: BlockNumber,
	/// Most models one provider may serve (at most the runtime's `MaxModelsPerProvider`).
	pub max_models_per_provider: u32,
	/// Share of every slash paid to whoever reported the fault; the rest goes to the treasury.
	pub reporter_share: Perbill,
	/// Reputation lost per no-show.
	pub no_show_penalty: u32,
	/// Reputation gained per verified job.
	pub verified_reward: u32,
}

/// What a slash took and where it went.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct SlashOutcome<Balance> {
	/// Taken from the bond (at most what was asked for).
	pub slashed: Balance,
	/// Paid to the reporter.
	pub to_reporter: Balance,
	/// Paid to the treasury.
	pub to_treasury: Balance,
}
