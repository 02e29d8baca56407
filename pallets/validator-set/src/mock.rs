//! A minimal runtime for the validator-set tests: System plus this pallet, with session-key
//! registration replaced by a list the tests control.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code

use crate as pallet_validator_set;
use frame_support::{derive_impl, parameter_types, traits::ValidatorRegistration};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		ValidatorSet: pallet_validator_set,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

parameter_types! {
	/// Accounts that have "registered session keys".
	pub static WithKeys: Vec<u64> = vec![1, 2, 3, 10, 11, 12, 13];
}

pub struct MockRegistration;
impl ValidatorRegistration<u64> for MockRegistration {
	fn is_registered(id: &u64) -> bool {
		WithKeys::get().contains(id)
	}
}

parameter_types! {
	/// Accounts the "session pallet" disabled.
	pub static Disabled: Vec<u64> = vec![];
}

pub struct MockDisabler;
impl crate::DisableOffender<u64> for MockDisabler {
	fn disable(who: &u64) -> bool {
		Disabled::mutate(|d| d.push(*who));
		true
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for MockRegistration {
	fn register_keys(who: &u64) {
		WithKeys::mutate(|k| k.push(*who));
	}
}

impl pallet_validator_set::Config for Test {
	type UpdateOrigin = EnsureRoot<u64>;
	type ValidatorRegistration = MockRegistration;
	type MaxValidators = frame_support::traits::ConstU32<4>;
	type MinValidators = frame_support::traits::ConstU32<1>;
	type DisableOffender = MockDisabler;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockRegistration;
}

/// Genesis: validators 1, 2 and 3.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_validator_set::GenesisConfig::<Test> { validators: vec![3, 1, 2] }
		.assimilate_storage(&mut storage)
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` on the genesis state, then checks the pallet's invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		ValidatorSet::do_try_state().expect("invariants hold after the test");
	});
}
