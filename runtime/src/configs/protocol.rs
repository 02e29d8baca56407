//! Infera's own pallets: model provenance and compute staking (and, as they land, job escrow and
//! rewards). Every parameter is set by Root or the `infera_params` track.

use crate::{
	configs::monetary::TreasuryAccount, deposit, governance::EnsureRootOrParams, Balance, Balances,
	BlockNumber, ModelRegistry, Runtime, RuntimeHoldReason, DAYS, UNITS,
};
use frame_support::{parameter_types, traits::ConstU32};
use pallet_compute_staking::StakingParams;
use pallet_model_registry::RegistryParams;
use sp_runtime::Perbill;

parameter_types! {
	/// Until governance sets them: royalties up to 30 %; embedding tolerances no looser than
	/// cosine 0.99 and 2048/32767 per element; classification and generation margins of at most
	/// one and two logits; a deposit of 0.02 INFR plus 0.0001 INFR per stored byte.
	pub const DefaultModelRegistryParams: RegistryParams<Balance> = RegistryParams {
		max_royalty: Perbill::from_percent(30),
		min_cosine_floor: Perbill::from_percent(99),
		max_element_diff_cap: 2_048,
		max_tie_margin: 1 << 16,
		max_logit_margin: 1 << 17,
		deposit_base: deposit(1, 0),
		deposit_per_byte: deposit(0, 1),
	};
}

impl pallet_model_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ParamsOrigin = EnsureRootOrParams;
	type DefaultParams = DefaultModelRegistryParams;
	type MaxNameLength = ConstU32<64>;
	type MaxLicenseLength = ConstU32<64>;
	type MaxLineageDepth = ConstU32<16>;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Until governance sets them: a bond of at least 100 INFR, seven days to unbond, up to eight
	/// models per provider, a tenth of every slash to its reporter, and reputation that a no-show
	/// costs 50 points of (out of 1000) and a verified job earns back 5 of.
	pub const DefaultComputeStakingParams: StakingParams<Balance, BlockNumber> = StakingParams {
		min_bond: 100 * UNITS,
		unbonding_delay: 7 * DAYS,
		max_models_per_provider: 8,
		reporter_share: Perbill::from_percent(10),
		no_show_penalty: 50,
		verified_reward: 5,
	};
}

impl pallet_compute_staking::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelRegistry = ModelRegistry;
	type TreasuryAccount = TreasuryAccount;
	type ParamsOrigin = EnsureRootOrParams;
	type DefaultParams = DefaultComputeStakingParams;
	type MaxModelsPerProvider = ConstU32<16>;
	type MaxProvidersPerModel = ConstU32<64>;
	type MaxUnlockingChunks = ConstU32<16>;
	type WeightInfo = pallet_compute_staking::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::ComputeStakingBenchmarkHelper;
}
