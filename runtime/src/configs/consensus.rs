//! BABE, GRANDPA, authorship, session and the governance-managed validator set.

use crate::{
	AccountId, Babe, Balances, Runtime, RuntimeEvent, Session, SessionKeys, ValidatorSet,
	EPOCH_DURATION_IN_SLOTS, MILLI_SECS_PER_BLOCK,
};
use frame_support::{parameter_types, traits::ConstU32};
use sp_core::Void;
use sp_runtime::traits::ConvertInto;

parameter_types! {
	pub const EpochDuration: u64 = EPOCH_DURATION_IN_SLOTS;
	pub const ExpectedBlockTime: u64 = MILLI_SECS_PER_BLOCK;
	pub const MaxAuthorities: u32 = 100;
	pub const MaxNominators: u32 = 0;
	pub const MaxSetIdSessionEntries: u64 = 0;
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	// Sessions (and so validator-set changes) are driven by BABE epochs.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = Session;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = MaxNominators;
	// Equivocation reports need historical session proofs; see ADR 0002 (not enabled yet).
	type KeyOwnerProof = Void;
	type EquivocationReportSystem = ();
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = MaxNominators;
	type MaxSetIdSessionEntries = MaxSetIdSessionEntries;
	type KeyOwnerProof = Void;
	type EquivocationReportSystem = ();
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	type EventHandler = ();
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	type SessionManager = ValidatorSet;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	// Keys are only useful to members that governance admits; no deposit needed to set them.
	type KeyDeposit = ();
}

impl pallet_validator_set::Config for Runtime {
	// Membership of consensus is a Root-track decision.
	type UpdateOrigin = frame_system::EnsureRoot<AccountId>;
	type ValidatorRegistration = Session;
	type MaxValidators = MaxAuthorities;
	type MinValidators = ConstU32<1>;
	type WeightInfo = pallet_validator_set::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::ValidatorSetBenchmarkHelper;
}
