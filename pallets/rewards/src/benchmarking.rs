//! Benchmarks: a claim that settles both pools of an earlier epoch and pays the dust of each, and
//! the epoch close (mint, fee measurement, treasury transfer, two pools).

use super::*;
use crate::pallet::{Accounts, CurrentEpoch, EpochStart, Params, TotalPaid};
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	EnsureOrigin, Hooks,
};
use frame_system::RawOrigin;
use infera_primitives::traits::WorkRecorder;
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill,
};

fn close_epoch<T: Config>() {
	let next = EpochStart::<T>::get().saturating_add(Params::<T>::get().epoch_length);
	frame_system::Pallet::<T>::set_block_number(next);
	Pallet::<T>::on_initialize(next);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn claim() {
		let who: T::AccountId = account("provider", 0, 0);
		Pallet::<T>::credit_work(&who, 1);
		Pallet::<T>::credit_audit(&who);
		close_epoch::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!Accounts::<T>::contains_key(&who));
		assert!(!TotalPaid::<T>::get().is_zero());
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin =
			T::ParamsOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let mut params = Params::<T>::get();
		params.validator_share = Perbill::from_percent(1);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn on_initialize_idle() {
		let now = frame_system::Pallet::<T>::block_number();

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		assert_eq!(CurrentEpoch::<T>::get(), 0);
	}

	/// Closes an epoch with work and audits and fees received.
	#[benchmark]
	fn on_initialize_epoch() {
		let who: T::AccountId = account("provider", 0, 0);
		Pallet::<T>::credit_work(&who, 1);
		Pallet::<T>::credit_audit(&who);
		let fee = T::Currency::minimum_balance().saturating_mul(100u32.into());
		let _ = T::Currency::mint_into(&Pallet::<T>::account_id(), fee);
		let next = EpochStart::<T>::get().saturating_add(Params::<T>::get().epoch_length);
		frame_system::Pallet::<T>::set_block_number(next);

		#[block]
		{
			Pallet::<T>::on_initialize(next);
		}

		assert_eq!(CurrentEpoch::<T>::get(), 1);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
