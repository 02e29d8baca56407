#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime` expands to code that needs a higher recursion limit.
#![recursion_limit = "256"]

extern crate alloc;

use alloc::vec::Vec;

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

// Declared before `apis` so the benchmark-listing macros it defines are in scope there.
// `benchmarks` defines the `list_benchmarks!`/`add_benchmarks!` macros that `apis` expands, so
// it comes first.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod constants;
pub mod genesis_config_presets;
pub mod governance;
pub mod infera_api;
#[cfg(test)]
mod tests;
pub mod worker;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use constants::*;

/// Opaque types the node uses without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;

	impl_opaque_keys! {
		/// The session keys of an Infera validator.
		pub struct SessionKeys {
			pub babe: super::Babe,
			pub grandpa: super::Grandpa,
		}
	}
}
pub use opaque::SessionKeys;

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("infera"),
	impl_name: alloc::borrow::Cow::Borrowed("infera-node"),
	authoring_version: 1,
	spec_version: 105,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Signature of a transaction.
pub type Signature = MultiSignature;
/// An account: the public key behind a signature.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in plancks (10^-12 INFR).
pub type Balance = u128;
/// Index of a transaction in the chain.
pub type Nonce = u32;
/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block signed with a justification.
pub type SignedBlock = generic::SignedBlock<Block>;
/// `BlockId` type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions, checked in this order for every signed transaction.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// The extensions a wallet signs: `era`, the sender's `nonce`, no tip, no metadata hash. The
/// offchain worker, the runtime fuzzer and `infera-gateway` all sign with this.
pub fn tx_extension(era: sp_runtime::generic::Era, nonce: Nonce) -> TxExtension {
	(
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(era),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	)
}

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations to run on the next runtime upgrade: job escrow's version 2 (per-model
/// queues, carried-over wake-ups, expiring receipts) and 3 (no stored escrow aggregates), and
/// compute staking's (stored selection weights); no-ops on chains started from them.
type Migrations = (
	pallet_job_escrow::migrations::v2::MigrateToV2<Runtime>,
	pallet_job_escrow::migrations::v3::MigrateToV3<Runtime>,
	pallet_job_escrow::migrations::v4::MigrateToV4<Runtime>,
	pallet_compute_staking::migrations::v2::MigrateToV2<Runtime>,
);

/// Executive: dispatches incoming extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(2)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(3)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(4)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(5)]
	pub type Authorship = pallet_authorship;
	// The validator set must come before Session so its genesis is there when Session asks.
	#[runtime::pallet_index(6)]
	pub type ValidatorSet = pallet_validator_set;
	#[runtime::pallet_index(7)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(8)]
	pub type Grandpa = pallet_grandpa;
	/// Roots of past sessions' validator sets, to prove an equivocator's keys (ADR 0018).
	#[runtime::pallet_index(9)]
	pub type Historical = pallet_session::historical;

	#[runtime::pallet_index(10)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(11)]
	pub type Proxy = pallet_proxy;
	#[runtime::pallet_index(12)]
	pub type Multisig = pallet_multisig;

	#[runtime::pallet_index(20)]
	pub type Preimage = pallet_preimage;
	#[runtime::pallet_index(21)]
	pub type Scheduler = pallet_scheduler;
	#[runtime::pallet_index(22)]
	pub type Treasury = pallet_treasury;
	#[runtime::pallet_index(23)]
	pub type ConvictionVoting = pallet_conviction_voting;
	#[runtime::pallet_index(24)]
	pub type Referenda = pallet_referenda;
	#[runtime::pallet_index(25)]
	pub type Origins = governance::origins::pallet_custom_origins;

	// Infera's own pallets.
	#[runtime::pallet_index(40)]
	pub type ModelRegistry = pallet_model_registry;
	#[runtime::pallet_index(41)]
	pub type ComputeStaking = pallet_compute_staking;
	#[runtime::pallet_index(42)]
	pub type JobEscrow = pallet_job_escrow;
	#[runtime::pallet_index(43)]
	pub type Rewards = pallet_rewards;
	#[runtime::pallet_index(44)]
	pub type Budgets = pallet_budgets;

	// Only the `development` and `local_testnet` presets set a key; production genesis has none,
	// so no account can use it there.
	#[runtime::pallet_index(29)]
	pub type Sudo = pallet_sudo;
}
