//! Benchmarks at the worst case of each call's bounds: longest metadata, a parent to update, a
//! deposit that moves between accounts.

use super::*;
use crate::pallet::{Models, Pallet as ModelRegistry};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use infera_primitives::{Architecture, EmbeddingTolerance, ModelId};
use sp_core::H256;
use sp_runtime::{traits::Bounded, Perbill};

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

fn longest_metadata<T: Config>(fill: u8) -> ModelMetadataOf<T> {
	let name = alloc::vec![b'a'.saturating_add(fill % 26); T::MaxNameLength::get() as usize];
	ModelMetadata {
		name: BoundedVec::truncate_from(name.clone()),
		version: BoundedVec::truncate_from(name),
		license: BoundedVec::truncate_from(alloc::vec![b'M'; T::MaxLicenseLength::get() as usize]),
		dataset_hash: Some(H256::repeat_byte(fill)),
	}
}

fn files(seed: u8) -> ModelFiles {
	ModelFiles {
		weights_hash: H256::repeat_byte(seed),
		weights_size: u64::MAX,
		config_hash: H256::repeat_byte(seed),
		tokenizer_hash: H256::repeat_byte(seed),
	}
}

fn strictest() -> Architecture {
	Architecture::TextEmbedding {
		dimensions: 384,
		tolerance: EmbeddingTolerance { min_cosine: Perbill::one(), max_element_diff: 0 },
	}
}

fn registered<T: Config>(owner: &T::AccountId, seed: u8, parent: Option<ModelId>) -> ModelId
where
	T::Currency: Mutate<T::AccountId>,
{
	let id = crate::NextModelId::<T>::get();
	let result = ModelRegistry::<T>::do_register(
		owner.clone(),
		files(seed),
		strictest(),
		longest_metadata::<T>(seed),
		parent,
		Perbill::zero(),
	);
	assert!(result.is_ok(), "benchmark setup registers a model");
	id
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_model() {
		let owner = funded::<T>("owner", 0);
		let parent = registered::<T>(&owner, 1, None);
		let id = crate::NextModelId::<T>::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			files(2),
			strictest(),
			longest_metadata::<T>(2),
			Some(parent),
			Perbill::zero(),
		);

		assert!(Models::<T>::contains_key(id));
	}

	#[benchmark]
	fn update_metadata() {
		// Worst case: the deposit moves from the original depositor to the new owner.
		let first = funded::<T>("owner", 0);
		let second = funded::<T>("owner", 1);
		let id = registered::<T>(&first, 1, None);
		assert!(ModelRegistry::<T>::do_transfer(first, id, second.clone()).is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(second.clone()), id, longest_metadata::<T>(9));

		assert!(Models::<T>::get(id).is_some_and(|m| m.depositor == second));
	}

	#[benchmark]
	fn deprecate_model() {
		let owner = funded::<T>("owner", 0);
		let id = registered::<T>(&owner, 1, None);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert!(Models::<T>::get(id).is_some_and(|m| m.status != ModelStatus::Active));
	}

	#[benchmark]
	fn transfer_ownership() {
		let owner = funded::<T>("owner", 0);
		let new_owner: T::AccountId = account("new", 0, 0);
		let id = registered::<T>(&owner, 1, None);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, new_owner.clone());

		assert!(Models::<T>::get(id).is_some_and(|m| m.owner == new_owner));
	}

	#[benchmark]
	fn remove_model() {
		// Worst case: a child whose parent's child count is updated.
		let owner = funded::<T>("owner", 0);
		let parent = registered::<T>(&owner, 1, None);
		let id = registered::<T>(&owner, 2, Some(parent));
		assert!(ModelRegistry::<T>::do_deprecate(Some(owner.clone()), id).is_ok());

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);

		assert!(!Models::<T>::contains_key(id));
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin =
			T::ParamsOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = T::DefaultParams::get();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);

		assert!(crate::Params::<T>::get() == params);
		Ok(())
	}

	#[benchmark]
	fn force_deprecate() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let id = registered::<T>(&owner, 1, None);
		let origin =
			T::ParamsOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert!(Models::<T>::get(id).is_some_and(|m| m.status != ModelStatus::Active));
		Ok(())
	}

	impl_benchmark_test_suite!(ModelRegistry, crate::mock::new_test_ext(), crate::mock::Test);
}
