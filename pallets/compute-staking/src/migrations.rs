//! Storage migrations.

/// Version 2 (issue 15): every model's provider list gets its selection weights
/// (`ListWeights`), computed from the members' records. Reads each listed record once: lists
/// are bounded, models are as many as registered.
pub mod v2 {
	use crate::pallet::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		BoundedVec,
	};
	use sp_runtime::Saturating;

	/// Builds the weights; use through [`MigrateToV2`].
	pub struct InnerMigrateToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let (mut reads, mut writes) = (0u64, 0u64);
			for (model, list) in ProvidersByModel::<T>::iter() {
				reads.saturating_inc();
				let weights: alloc::vec::Vec<u128> = list
					.iter()
					.map(|who| {
						reads.saturating_inc();
						Providers::<T>::get(who)
							.map(|info| Pallet::<T>::selection_weight(&info))
							.unwrap_or(0)
					})
					.collect();
				// As long as the list, so it fits the same bound.
				ListWeights::<T>::insert(model, BoundedVec::truncate_from(weights));
				writes.saturating_inc();
			}
			T::DbWeight::get().reads_writes(reads, writes)
		}
	}

	/// The version-guarded migration from storage version 1 to 2.
	pub type MigrateToV2<T> = frame_support::migrations::VersionedMigration<
		1,
		2,
		InnerMigrateToV2<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;

	#[cfg(test)]
	#[allow(clippy::expect_used, clippy::unwrap_used)] // reason: test code
	mod tests {
		use super::*;
		use crate::mock::*;
		use frame_support::traits::{OnRuntimeUpgrade, StorageVersion};
		use infera_primitives::ModelId;

		const M1: ModelId = ModelId(1);

		#[test]
		fn version_2_weighs_every_listed_provider() {
			new_test_ext().execute_with(|| {
				for (who, bond) in [(ALICE, 30_000), (BOB, 10_000)] {
					Pallet::<Test>::do_register(who, cpu()).expect("registers");
					Pallet::<Test>::do_bond(who, bond, false).expect("bonds");
					Pallet::<Test>::do_set_models(who, BoundedVec::truncate_from(vec![M1]))
						.expect("declares");
				}
				let expected = ListWeights::<Test>::get(M1);
				assert_eq!(expected.len(), 2);
				let _ = ListWeights::<Test>::clear(u32::MAX, None);
				StorageVersion::new(1).put::<Pallet<Test>>();
				let _ = MigrateToV2::<Test>::on_runtime_upgrade();
				assert_eq!(StorageVersion::get::<Pallet<Test>>(), 2);
				assert_eq!(ListWeights::<Test>::get(M1), expected);
				Pallet::<Test>::do_try_state().expect("invariants hold after the migration");
			});
		}
	}
}
