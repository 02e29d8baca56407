//! Benchmarks at the worst case of each call's bounds: model indexes one short of full, the most
//! models per provider, the most unbonding chunks.

use super::*;
use crate::pallet::{Pallet as ComputeStaking, Params, Providers, ProvidersByModel};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use infera_primitives::{Accelerator, HardwareProfile, ModelId};
use sp_runtime::{
	traits::{Bounded, One, Saturating},
	Perbill,
};

fn hardware() -> HardwareProfile {
	HardwareProfile {
		accelerator: Accelerator::Cuda,
		cpu_cores: 64,
		memory_mib: 524_288,
		accelerator_memory_mib: 81_920,
	}
}

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, i, 0);
	let _ = T::Currency::set_balance(
		&who,
		Perbill::from_percent(25).mul_floor(BalanceOf::<T>::max_value()),
	);
	who
}

/// A registered provider bonded enough to fill every unbonding chunk with the minimum and still
/// keep the minimum bonded.
fn bonded<T: Config>(name: &'static str) -> Result<T::AccountId, BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let who = funded::<T>(name, 0);
	ComputeStaking::<T>::do_register(who.clone(), hardware())?;
	let chunks = T::MaxUnlockingChunks::get().saturating_add(2);
	let bond = Params::<T>::get().min_bond.saturating_mul(chunks.into());
	ComputeStaking::<T>::do_bond(who.clone(), bond, false)?;
	Ok(who)
}

/// Lets a provider serve as many models as storage allows.
fn widest_model_cap<T: Config>() {
	Params::<T>::mutate(|p| p.max_models_per_provider = T::MaxModelsPerProvider::get());
}

/// `n` fresh active models, each served by one short of `MaxProvidersPerModel` other accounts,
/// so adding or removing a provider touches the longest index.
fn crowded_models<T: Config>(n: u32, offset: u32) -> Vec<ModelId> {
	let others = T::MaxProvidersPerModel::get().saturating_sub(1);
	(0..n)
		.map(|i| {
			let model = T::BenchmarkHelper::active_model(offset.saturating_add(i));
			let list: Vec<T::AccountId> = (0..others).map(|j| account("other", j, i)).collect();
			ProvidersByModel::<T>::insert(model, BoundedVec::truncate_from(list));
			model
		})
		.collect()
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_provider() {
		let who = funded::<T>("provider", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), hardware());

		assert!(Providers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn bond() -> Result<(), BenchmarkError> {
		let who = funded::<T>("provider", 0);
		ComputeStaking::<T>::do_register(who.clone(), hardware())?;
		let value = Params::<T>::get().min_bond;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), value);

		assert_eq!(Providers::<T>::get(&who).map(|p| p.bonded), Some(value));
		Ok(())
	}

	#[benchmark]
	fn bond_extra() -> Result<(), BenchmarkError> {
		let who = bonded::<T>("provider")?;
		let before = ComputeStaking::<T>::free_stake_of(&who);
		let value = Params::<T>::get().min_bond;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), value);

		assert_eq!(ComputeStaking::<T>::free_stake_of(&who), before.saturating_add(value));
		Ok(())
	}

	/// Replaces `MaxModelsPerProvider` served models with `n` new ones; every index touched is
	/// one short of full.
	#[benchmark]
	fn set_models(n: Linear<1, { T::MaxModelsPerProvider::get() }>) -> Result<(), BenchmarkError> {
		widest_model_cap::<T>();
		let who = bonded::<T>("provider")?;
		let max = T::MaxModelsPerProvider::get();
		let old = crowded_models::<T>(max, 0);
		ComputeStaking::<T>::do_set_models(who.clone(), BoundedVec::truncate_from(old))?;
		let new = crowded_models::<T>(n, max);
		let models: ModelsOf<T> = BoundedVec::truncate_from(new);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), models.clone());

		assert_eq!(Providers::<T>::get(&who).map(|p| p.models), Some(models));
		Ok(())
	}

	/// Adds a chunk next to `MaxUnlockingChunks - 1` others.
	#[benchmark]
	fn unbond() -> Result<(), BenchmarkError> {
		let who = bonded::<T>("provider")?;
		let min = Params::<T>::get().min_bond;
		for _ in 1..T::MaxUnlockingChunks::get() {
			ComputeStaking::<T>::do_unbond(who.clone(), min)?;
			let now = frame_system::Pallet::<T>::block_number();
			frame_system::Pallet::<T>::set_block_number(now.saturating_add(One::one()));
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), min);

		let chunks = Providers::<T>::get(&who).map(|p| p.unlocking.len() as u32);
		assert_eq!(chunks, Some(T::MaxUnlockingChunks::get()));
		Ok(())
	}

	/// Releases `MaxUnlockingChunks` chunks at once.
	#[benchmark]
	fn withdraw_unbonded() -> Result<(), BenchmarkError> {
		let who = bonded::<T>("provider")?;
		let min = Params::<T>::get().min_bond;
		for _ in 0..T::MaxUnlockingChunks::get() {
			ComputeStaking::<T>::do_unbond(who.clone(), min)?;
			let now = frame_system::Pallet::<T>::block_number();
			frame_system::Pallet::<T>::set_block_number(now.saturating_add(One::one()));
		}
		let now = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(
			now.saturating_add(Params::<T>::get().unbonding_delay),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Providers::<T>::get(&who).map(|p| p.unlocking.len()), Some(0));
		Ok(())
	}

	#[benchmark]
	fn chill() -> Result<(), BenchmarkError> {
		let who = bonded::<T>("provider")?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Providers::<T>::get(&who).map(|p| p.status), Some(ProviderStatus::Chilled));
		Ok(())
	}

	#[benchmark]
	fn unchill() -> Result<(), BenchmarkError> {
		let who = bonded::<T>("provider")?;
		ComputeStaking::<T>::do_set_status(who.clone(), ProviderStatus::Chilled)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Providers::<T>::get(&who).map(|p| p.status), Some(ProviderStatus::Active));
		Ok(())
	}

	/// Leaves `n` crowded model indexes.
	#[benchmark]
	fn deregister(n: Linear<1, { T::MaxModelsPerProvider::get() }>) -> Result<(), BenchmarkError> {
		widest_model_cap::<T>();
		let who = funded::<T>("provider", 0);
		ComputeStaking::<T>::do_register(who.clone(), hardware())?;
		let models = crowded_models::<T>(n, 0);
		ComputeStaking::<T>::do_set_models(who.clone(), BoundedVec::truncate_from(models))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!Providers::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin =
			T::ParamsOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let mut params = Params::<T>::get();
		params.reporter_share = Perbill::from_percent(20);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert_eq!(Params::<T>::get(), params);
		Ok(())
	}

	impl_benchmark_test_suite!(ComputeStaking, crate::mock::new_test_ext(), crate::mock::Test);
}
