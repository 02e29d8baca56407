//! Benchmarks for the validator-set calls, worst case: a set one short of full (add) or full
//! (remove), so the binary search and the shift of the stored vector are at their longest.

use super::*;
use crate::pallet::Validators;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{traits::EnsureOrigin, BoundedVec};

fn fill<T: Config>(n: u32) -> Result<(), BenchmarkError> {
	let mut members: Vec<T::AccountId> = (0..n).map(|i| account("validator", i, 0)).collect();
	members.sort();
	let bounded = BoundedVec::try_from(members).map_err(|_| BenchmarkError::Weightless)?;
	Validators::<T>::put(bounded);
	Ok(())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator() -> Result<(), BenchmarkError> {
		fill::<T>(T::MaxValidators::get().saturating_sub(1))?;
		let who: T::AccountId = account("candidate", 0, 0);
		T::BenchmarkHelper::register_keys(&who);
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Validators::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_validator() -> Result<(), BenchmarkError> {
		let max = T::MaxValidators::get();
		if max <= T::MinValidators::get() {
			return Err(BenchmarkError::Weightless);
		}
		fill::<T>(max)?;
		let who = Validators::<T>::get().first().cloned().ok_or(BenchmarkError::Weightless)?;
		let origin =
			T::UpdateOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Validators::<T>::get().contains(&who));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
