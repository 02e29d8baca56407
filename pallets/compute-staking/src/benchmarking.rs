//! Benchmarks at the worst case of each call's bounds: the most models per provider, each model's
//! provider list full of weaker providers (so joining reads every member and displaces one), the
//! most unbonding chunks.

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

/// Tops `model`'s provider list up to `MaxProvidersPerModel` with providers bonded the minimum
/// (records like `template`'s), so whoever joins it reads every member and displaces one.
fn fill_list<T: Config>(model: ModelId, template: &ProviderInfoOf<T>, seed: u32) {
	let mut list = ProvidersByModel::<T>::get(model);
	let mut weights = crate::ListWeights::<T>::get(model);
	let mut j = 0u32;
	while !list.is_full() {
		let member: T::AccountId = account("member", j, seed);
		j = j.saturating_add(1);
		if list.contains(&member) {
			continue;
		}
		let mut info = template.clone();
		info.bonded = Params::<T>::get().min_bond;
		info.models = BoundedVec::truncate_from(alloc::vec![model]);
		let weight = ComputeStaking::<T>::selection_weight(&info);
		Providers::<T>::insert(&member, info);
		if list.try_push(member).is_err() || weights.try_push(weight).is_err() {
			break;
		}
	}
	ProvidersByModel::<T>::insert(model, list);
	crate::ListWeights::<T>::insert(model, weights);
}

/// A provider record to copy into list members.
fn template<T: Config>() -> Result<ProviderInfoOf<T>, BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let who = funded::<T>("template", 0);
	if !Providers::<T>::contains_key(&who) {
		ComputeStaking::<T>::do_register(who.clone(), hardware())?;
	}
	Providers::<T>::get(&who).ok_or(BenchmarkError::Stop("the template registers"))
}

/// `n` fresh active models whose provider lists are full of providers bonded the minimum.
fn full_models<T: Config>(n: u32, offset: u32) -> Result<Vec<ModelId>, BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let template = template::<T>()?;
	Ok((0..n)
		.map(|i| {
			let model = T::BenchmarkHelper::active_model(offset.saturating_add(i));
			fill_list::<T>(model, &template, offset.saturating_add(i));
			model
		})
		.collect())
}

/// Refills the lists of `models` to full (after the benchmarked provider took a place or left).
fn refill<T: Config>(models: &[ModelId]) -> Result<(), BenchmarkError>
where
	T::Currency: Mutate<T::AccountId>,
{
	let template = template::<T>()?;
	for (i, model) in models.iter().enumerate() {
		fill_list::<T>(*model, &template, 1_000u32.saturating_add(i as u32));
	}
	Ok(())
}

fn listed_everywhere<T: Config>(who: &T::AccountId, models: &[ModelId]) -> bool {
	models.iter().all(|m| ProvidersByModel::<T>::get(m).contains(who))
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

	/// A first bond of a provider that declared the most models, each list full of weaker
	/// providers: it joins every list, displacing one member of each.
	#[benchmark]
	fn bond() -> Result<(), BenchmarkError> {
		widest_model_cap::<T>();
		let who = funded::<T>("provider", 0);
		ComputeStaking::<T>::do_register(who.clone(), hardware())?;
		let models = full_models::<T>(T::MaxModelsPerProvider::get(), 0)?;
		ComputeStaking::<T>::do_set_models(who.clone(), BoundedVec::truncate_from(models.clone()))?;
		let value = Params::<T>::get().min_bond.saturating_mul(2u32.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), value);

		assert_eq!(Providers::<T>::get(&who).map(|p| p.bonded), Some(value));
		assert!(listed_everywhere::<T>(&who, &models));
		Ok(())
	}

	/// More bond for a provider left out of the most models' full lists: it now out-bonds their
	/// weakest members and joins every one.
	#[benchmark]
	fn bond_extra() -> Result<(), BenchmarkError> {
		widest_model_cap::<T>();
		let who = funded::<T>("provider", 0);
		ComputeStaking::<T>::do_register(who.clone(), hardware())?;
		let models = full_models::<T>(T::MaxModelsPerProvider::get(), 0)?;
		ComputeStaking::<T>::do_set_models(who.clone(), BoundedVec::truncate_from(models.clone()))?;
		let value = Params::<T>::get().min_bond;
		// Bonded as much as every member: left out of every list.
		ComputeStaking::<T>::do_bond(who.clone(), value, false)?;
		assert!(models.iter().all(|m| !ProvidersByModel::<T>::get(m).contains(&who)));

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), value);

		assert!(listed_everywhere::<T>(&who, &models));
		Ok(())
	}

	/// Replaces `MaxModelsPerProvider` served models with `n` new ones whose lists are full of
	/// weaker providers: it leaves the longest lists and displaces a member of each new one.
	#[benchmark]
	fn set_models(n: Linear<1, { T::MaxModelsPerProvider::get() }>) -> Result<(), BenchmarkError> {
		widest_model_cap::<T>();
		let who = bonded::<T>("provider")?;
		let max = T::MaxModelsPerProvider::get();
		let old = full_models::<T>(max, 0)?;
		ComputeStaking::<T>::do_set_models(who.clone(), BoundedVec::truncate_from(old.clone()))?;
		refill::<T>(&old)?;
		let new = full_models::<T>(n, max)?;
		let models: ModelsOf<T> = BoundedVec::truncate_from(new.clone());

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), models.clone());

		assert_eq!(Providers::<T>::get(&who).map(|p| p.models), Some(models));
		assert!(listed_everywhere::<T>(&who, &new));
		Ok(())
	}

	/// Unbonds the whole remaining bond into a chunk next to `MaxUnlockingChunks - 1` others,
	/// leaving the full lists of the most models.
	#[benchmark]
	fn unbond() -> Result<(), BenchmarkError> {
		widest_model_cap::<T>();
		let who = bonded::<T>("provider")?;
		let models = full_models::<T>(T::MaxModelsPerProvider::get(), 0)?;
		ComputeStaking::<T>::do_set_models(who.clone(), BoundedVec::truncate_from(models.clone()))?;
		let min = Params::<T>::get().min_bond;
		for _ in 1..T::MaxUnlockingChunks::get() {
			ComputeStaking::<T>::do_unbond(who.clone(), min)?;
			let now = frame_system::Pallet::<T>::block_number();
			frame_system::Pallet::<T>::set_block_number(now.saturating_add(One::one()));
		}
		let rest = Providers::<T>::get(&who).map(|p| p.bonded).unwrap_or(min);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), rest);

		let chunks = Providers::<T>::get(&who).map(|p| p.unlocking.len() as u32);
		assert_eq!(chunks, Some(T::MaxUnlockingChunks::get()));
		assert!(models.iter().all(|m| !ProvidersByModel::<T>::get(m).contains(&who)));
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

	/// Leaves the full lists of the most models.
	#[benchmark]
	fn chill() -> Result<(), BenchmarkError> {
		widest_model_cap::<T>();
		let who = bonded::<T>("provider")?;
		let models = full_models::<T>(T::MaxModelsPerProvider::get(), 0)?;
		ComputeStaking::<T>::do_set_models(who.clone(), BoundedVec::truncate_from(models.clone()))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Providers::<T>::get(&who).map(|p| p.status), Some(ProviderStatus::Chilled));
		assert!(models.iter().all(|m| !ProvidersByModel::<T>::get(m).contains(&who)));
		Ok(())
	}

	/// Rejoins the most models' lists, each full of weaker providers again.
	#[benchmark]
	fn unchill() -> Result<(), BenchmarkError> {
		widest_model_cap::<T>();
		let who = bonded::<T>("provider")?;
		let models = full_models::<T>(T::MaxModelsPerProvider::get(), 0)?;
		ComputeStaking::<T>::do_set_models(who.clone(), BoundedVec::truncate_from(models.clone()))?;
		ComputeStaking::<T>::do_set_status(who.clone(), ProviderStatus::Chilled)?;
		refill::<T>(&models)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Providers::<T>::get(&who).map(|p| p.status), Some(ProviderStatus::Active));
		assert!(listed_everywhere::<T>(&who, &models));
		Ok(())
	}

	/// Declares `n` models with full lists (an unbonded provider is on none of them) and
	/// returns its deposit.
	#[benchmark]
	fn deregister(n: Linear<1, { T::MaxModelsPerProvider::get() }>) -> Result<(), BenchmarkError> {
		widest_model_cap::<T>();
		let who = funded::<T>("provider", 0);
		ComputeStaking::<T>::do_register(who.clone(), hardware())?;
		let models = full_models::<T>(n, 0)?;
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
