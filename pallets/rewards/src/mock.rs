//! Test runtime: System, Balances and the rewards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{self as pallet_rewards, RewardParams};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU64, Hooks},
	PalletId,
};
use frame_system::EnsureRoot;
use sp_runtime::{BuildStorage, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Rewards: pallet_rewards,
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
	type ExistentialDeposit = ConstU64<10>;
}

pub const P1: u64 = 1;
pub const P2: u64 = 2;
pub const V1: u64 = 3;
pub const TREASURY: u64 = 99;
pub const PAYER: u64 = 50;

parameter_types! {
	pub const RewardsPalletId: PalletId = PalletId(*b"inf/rwds");
	pub const Treasury: u64 = TREASURY;
	/// Epochs of 10 blocks minting 1000; 70 % to providers, 20 % to auditors, 10 % to treasury.
	pub const DefaultParams: RewardParams<Balance, u64> = RewardParams {
		epoch_length: 10,
		emission_per_epoch: 1_000,
		provider_share: Perbill::from_percent(70),
		validator_share: Perbill::from_percent(20),
	};
}

impl pallet_rewards::Config for Test {
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type TreasuryAccount = Treasury;
	type ParamsOrigin = EnsureRoot<u64>;
	type DefaultParams = DefaultParams;
	type WeightInfo = ();
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(TREASURY, 10), (PAYER, 1_000_000)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_rewards::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test`, then checks the invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Rewards::do_try_state().expect("reward invariants hold after the test");
	});
}

/// Advances to block `n`, running the hook and checking the invariants in every block.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Rewards::on_initialize(next);
		Rewards::do_try_state().expect("reward invariants hold in every block");
	}
}
