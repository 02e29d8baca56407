//! Test runtime: System, Balances and compute staking, with a model registry whose active models a
//! test sets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code

use crate::{self as pallet_compute_staking, StakingParams};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
};
use frame_system::EnsureRoot;
use infera_primitives::{Accelerator, Architecture, HardwareProfile, ModelId};
use sp_runtime::{BuildStorage, DispatchResult, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ComputeStaking: pallet_compute_staking,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// Above 1 so that a reporter's share can fall below it.
	type ExistentialDeposit = ConstU64<10>;
}

parameter_types! {
	/// Models the mock registry reports as active.
	pub static ActiveModels: Vec<ModelId> = vec![ModelId(1), ModelId(2), ModelId(3)];
	pub const Treasury: u64 = TREASURY;
	pub const DefaultParams: StakingParams<Balance, u64> = StakingParams {
		min_bond: 1_000,
		unbonding_delay: 10,
		max_models_per_provider: 3,
		reporter_share: Perbill::from_percent(10),
		no_show_penalty: 100,
		verified_reward: 10,
	};
}

/// A registry with the models in `ActiveModels`.
pub struct MockRegistry;
impl infera_primitives::traits::ModelRegistry<u64> for MockRegistry {
	fn is_active(model: ModelId) -> bool {
		ActiveModels::get().contains(&model)
	}
	fn architecture(_: ModelId) -> Option<Architecture> {
		None
	}
	fn royalty(_: ModelId) -> Option<(u64, Perbill)> {
		None
	}
	fn provenance(_: ModelId) -> Option<([u8; 32], Option<[u8; 32]>)> {
		None
	}
	fn note_job_opened(_: ModelId) -> DispatchResult {
		Ok(())
	}
	fn note_job_closed(_: ModelId) {}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for MockRegistry {
	fn active_model(seed: u32) -> ModelId {
		let id = ModelId(u64::from(seed).saturating_add(1_000));
		ActiveModels::mutate(|m| m.push(id));
		id
	}
}

impl pallet_compute_staking::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelRegistry = MockRegistry;
	type TreasuryAccount = Treasury;
	type ProviderDeposit = ConstU64<DEPOSIT>;
	type ParamsOrigin = EnsureRoot<u64>;
	type DefaultParams = DefaultParams;
	type MaxModelsPerProvider = ConstU32<4>;
	type MaxProvidersPerModel = ConstU32<3>;
	type MaxUnlockingChunks = ConstU32<2>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockRegistry;
}

pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
pub const CHARLIE: u64 = 3;
pub const DAVE: u64 = 4;
/// Has less than the minimum bond.
pub const POOR: u64 = 5;
/// Reports faults; starts with nothing.
pub const REPORTER: u64 = 6;
pub const TREASURY: u64 = 99;
/// The registration deposit.
pub const DEPOSIT: u64 = 50;
/// Accounts 100.. are squatters' and challengers' (funded by `fund`).
pub fn fund(who: u64, amount: u64) {
	use frame_support::traits::fungible::Mutate;
	Balances::set_balance(&who, amount);
}

pub fn cpu() -> HardwareProfile {
	HardwareProfile {
		accelerator: Accelerator::Cpu,
		cpu_cores: 2,
		memory_mib: 24_576,
		accelerator_memory_mib: 0,
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(ALICE, 1_000_000),
			(BOB, 1_000_000),
			(CHARLIE, 1_000_000),
			(DAVE, 1_000_000),
			(POOR, 500),
			(TREASURY, 10),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test`, then checks the pallet's invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		ComputeStaking::do_try_state().expect("staking invariants hold after the test");
	});
}
