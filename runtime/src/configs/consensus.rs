//! BABE, GRANDPA, authorship, session and the governance-managed validator set.

use crate::{
	AccountId, Babe, Balances, Historical, Runtime, RuntimeEvent, Session, SessionKeys,
	ValidatorSet, EPOCH_DURATION_IN_SLOTS, MILLI_SECS_PER_BLOCK,
};
use alloc::vec::Vec;
use frame_support::{parameter_types, traits::ConstU32};
use sp_runtime::{
	traits::{Convert, ConvertInto},
	Perbill,
};
use sp_staking::{offence::OffenceSeverity, SessionIndex};

/// Sessions of history kept to prove equivocations (see `HistoryDepth`).
const HISTORY_DEPTH: u32 = 24;

parameter_types! {
	pub const EpochDuration: u64 = EPOCH_DURATION_IN_SLOTS;
	pub const ExpectedBlockTime: u64 = MILLI_SECS_PER_BLOCK;
	pub const MaxAuthorities: u32 = 100;
	pub const MaxNominators: u32 = 0;
	/// Sessions (epochs, an hour each) for which equivocations can still be proven and reported:
	/// a day. Historical session roots, GRANDPA's set-id map and offence reports keep that long.
	pub const HistoryDepth: u32 = HISTORY_DEPTH;
	pub const MaxSetIdSessionEntries: u64 = HISTORY_DEPTH as u64;
	/// An equivocation report stays valid in the pool for the whole history, in blocks.
	pub const ReportLongevity: u64 = (HISTORY_DEPTH as u64).saturating_mul(EPOCH_DURATION_IN_SLOTS);
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
	// Equivocations are proven against historical sessions and punished by the validator set
	// (ADR 0018).
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_babe::EquivocationReportSystem<Self, ValidatorSet, Historical, ReportLongevity>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = MaxNominators;
	type MaxSetIdSessionEntries = MaxSetIdSessionEntries;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_grandpa::EquivocationReportSystem<Self, ValidatorSet, Historical, ReportLongevity>;
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
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, HistoricalSet>;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	// A proven offender stops authoring and voting at once, but never more than a third of the
	// set (so finality cannot be switched off by disabling).
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
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
	type DisableOffender = SessionDisabler;
	type WeightInfo = pallet_validator_set::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::ValidatorSetBenchmarkHelper;
}

/// Validators are identified by their account alone: there is no stake behind the set to name.
pub struct AccountIsIdentification;
impl Convert<AccountId, Option<()>> for AccountIsIdentification {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = AccountIsIdentification;
}

/// The validator set as the historical session pallet wants it, keeping `HistoryDepth` sessions
/// of roots (older equivocations can no longer be proven, so they are not kept).
pub struct HistoricalSet;
impl HistoricalSet {
	fn with_ids(set: Option<Vec<AccountId>>) -> Option<Vec<(AccountId, ())>> {
		set.map(|set| set.into_iter().map(|who| (who, ())).collect())
	}
}

impl pallet_session::SessionManager<AccountId> for HistoricalSet {
	fn new_session(new_index: SessionIndex) -> Option<Vec<AccountId>> {
		<ValidatorSet as pallet_session::SessionManager<_>>::new_session(new_index)
	}
	fn end_session(end_index: SessionIndex) {
		<ValidatorSet as pallet_session::SessionManager<_>>::end_session(end_index)
	}
	fn start_session(start_index: SessionIndex) {
		<ValidatorSet as pallet_session::SessionManager<_>>::start_session(start_index)
	}
}

impl pallet_session::historical::SessionManager<AccountId, ()> for HistoricalSet {
	fn new_session(new_index: SessionIndex) -> Option<Vec<(AccountId, ())>> {
		Historical::prune_up_to(new_index.saturating_sub(HistoryDepth::get()));
		Self::with_ids(<ValidatorSet as pallet_session::SessionManager<_>>::new_session(new_index))
	}
	fn new_session_genesis(new_index: SessionIndex) -> Option<Vec<(AccountId, ())>> {
		Self::with_ids(<ValidatorSet as pallet_session::SessionManager<_>>::new_session_genesis(
			new_index,
		))
	}
	fn end_session(end_index: SessionIndex) {
		<ValidatorSet as pallet_session::SessionManager<_>>::end_session(end_index)
	}
	fn start_session(start_index: SessionIndex) {
		<ValidatorSet as pallet_session::SessionManager<_>>::start_session(start_index)
	}
}

/// The validator set disables an offender through the session pallet, which applies its
/// disabling strategy (at most a third of the set).
pub struct SessionDisabler;
impl pallet_validator_set::DisableOffender<AccountId> for SessionDisabler {
	fn disable(who: &AccountId) -> bool {
		Session::report_offence(who.clone(), OffenceSeverity(Perbill::one()));
		Session::validator_id_to_index(who)
			.is_some_and(|i| Session::disabled_validators().contains(&i))
	}
}

/// What `BabeApi::submit_report_equivocation_unsigned_extrinsic` does: submits the report to the
/// local pool only when its proof would be accepted on chain.
///
/// `sc-consensus-babe` 0.60 builds its proofs from headers whose seal it has already removed; such
/// a report can only fail in a block (`InvalidEquivocationProof`) and, sitting in the pool under the
/// tag `(offender, slot)`, it could crowd out the node's valid report of the same offence (see
/// `node/src/equivocation.rs`). Refused here, it never reaches the pool.
pub fn submit_babe_equivocation_report(
	proof: sp_consensus_babe::EquivocationProof<crate::Header>,
	key_owner_proof: sp_consensus_babe::OpaqueKeyOwnershipProof,
) -> Option<()> {
	if !sp_consensus_babe::check_equivocation_proof(proof.clone()) {
		log::debug!(target: "runtime::babe", "not submitting a BABE equivocation report with an invalid proof");
		return None;
	}
	let key_owner_proof = key_owner_proof.decode()?;
	Babe::submit_unsigned_equivocation_report(proof, key_owner_proof)
}
