//! The pallets benchmarked for this runtime's weights.

use crate::{AccountId, Balances, Runtime, RuntimeOrigin, Session, SessionKeys, UNITS};
use codec::Encode;
use frame_support::traits::fungible::Mutate;

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_validator_set, ValidatorSet]
	[pallet_model_registry, ModelRegistry]
);

/// Gives a benchmark account funds and real session keys with a valid ownership proof.
pub struct ValidatorSetBenchmarkHelper;
impl pallet_validator_set::BenchmarkHelper<AccountId> for ValidatorSetBenchmarkHelper {
	fn register_keys(who: &AccountId) {
		let _ = Balances::set_balance(who, UNITS);
		let generated = SessionKeys::generate(&who.encode(), None);
		let result = Session::set_keys(
			RuntimeOrigin::signed(who.clone()),
			generated.keys,
			generated.proof.encode(),
		);
		if let Err(e) = result {
			log::error!(target: "runtime::benchmarks", "set_keys for a benchmark account failed: {e:?}");
		}
	}
}
