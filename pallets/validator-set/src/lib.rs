#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

/// Prepares accounts for benchmarks: the runtime knows how to give an account session keys.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Make `who` a valid candidate: registered session keys and whatever else that needs.
	fn register_keys(who: &AccountId);
}

// The FRAME macros expand to code that trips the panic lints; the pallet's own logic lives outside
// this module, below, where the lints apply.
#[allow(
	clippy::expect_used,
	clippy::unwrap_used,
	clippy::indexing_slicing,
	clippy::arithmetic_side_effects
)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::traits::ValidatorRegistration;
	use frame_system::pallet_prelude::*;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Who may add and remove validators (governance).
		type UpdateOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Tells whether an account has registered session keys (`pallet_session::Pallet`).
		type ValidatorRegistration: ValidatorRegistration<Self::AccountId>;
		/// Upper bound on the set; also bounds the storage.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// Removing a validator may not shrink the set below this.
		#[pallet::constant]
		type MinValidators: Get<u32>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// Gives benchmark accounts session keys.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// The validator set, sorted by account so membership is a binary search.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Whether `Validators` changed since it was last handed to the session pallet.
	#[pallet::storage]
	pub type SetChanged<T: Config> = StorageValue<_, bool, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The validators of the first sessions; each needs keys in the session genesis.
		pub validators: Vec<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut set = self.validators.clone();
			set.sort();
			let before = set.len();
			set.dedup();
			assert_eq!(before, set.len(), "genesis validator set contains duplicates");
			let bounded = BoundedVec::<T::AccountId, T::MaxValidators>::try_from(set)
				.map_err(|_| "genesis validator set is larger than MaxValidators");
			match bounded {
				Ok(set) => Validators::<T>::put(set),
				Err(e) => panic!("{e}"),
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` joins the validator set from the next session rotation.
		ValidatorAdded { who: T::AccountId, set_size: u32 },
		/// `who` leaves the validator set at the next session rotation.
		ValidatorRemoved { who: T::AccountId, set_size: u32 },
		/// The changed set was handed to the session pallet for session `session`.
		NewSetPlanned { session: u32, set_size: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already in the validator set.
		AlreadyValidator,
		/// The account is not in the validator set.
		NotValidator,
		/// The set already holds `MaxValidators` members.
		TooManyValidators,
		/// Removing would leave fewer than `MinValidators` validators.
		TooFewValidators,
		/// The account has no session keys: call `session.setKeys` from it first.
		NoSessionKeys,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Add `who` to the validator set; it starts authoring after the next session rotation.
		#[pallet::call_index(0)]
		pub fn add_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_add_validator(who)
		}

		/// Remove `who` from the validator set at the next session rotation.
		#[pallet::call_index(1)]
		pub fn remove_validator(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::UpdateOrigin::ensure_origin(origin)?;
			Self::do_remove_validator(who)
		}
	}
}

use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*, traits::ValidatorRegistration};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_add_validator(who: T::AccountId) -> DispatchResult {
		ensure!(T::ValidatorRegistration::is_registered(&who), Error::<T>::NoSessionKeys);
		let mut set = Validators::<T>::get();
		let at = match set.binary_search(&who) {
			Ok(_) => return Err(Error::<T>::AlreadyValidator.into()),
			Err(at) => at,
		};
		set.try_insert(at, who.clone()).map_err(|_| Error::<T>::TooManyValidators)?;
		let set_size = set.len() as u32;
		Validators::<T>::put(set);
		SetChanged::<T>::put(true);
		Self::deposit_event(Event::ValidatorAdded { who, set_size });
		Ok(())
	}

	pub(crate) fn do_remove_validator(who: T::AccountId) -> DispatchResult {
		let mut set = Validators::<T>::get();
		let at = set.binary_search(&who).map_err(|_| Error::<T>::NotValidator)?;
		ensure!(set.len() as u32 > T::MinValidators::get(), Error::<T>::TooFewValidators);
		set.remove(at);
		let set_size = set.len() as u32;
		Validators::<T>::put(set);
		SetChanged::<T>::put(true);
		Self::deposit_event(Event::ValidatorRemoved { who, set_size });
		Ok(())
	}

	/// Members that can author: those whose session keys are still registered.
	fn authoring_members() -> Vec<T::AccountId> {
		Validators::<T>::get().into_iter().filter(T::ValidatorRegistration::is_registered).collect()
	}

	/// The stored set is sorted, has no duplicates and fits its bound.
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let set = Validators::<T>::get();
		ensure!(
			set.windows(2).all(|w| matches!(w, [a, b] if a < b)),
			"validator set must be strictly sorted (sorted and free of duplicates)"
		);
		ensure!(set.len() as u32 <= T::MaxValidators::get(), "validator set exceeds MaxValidators");
		Ok(())
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(new_index: u32) -> Option<Vec<T::AccountId>> {
		if !SetChanged::<T>::get() {
			return None;
		}
		let members = Self::authoring_members();
		if members.is_empty() {
			log::warn!(
				target: "runtime::validator-set",
				"no member of the changed set has session keys; keeping the current set"
			);
			return None;
		}
		SetChanged::<T>::put(false);
		Self::deposit_event(Event::NewSetPlanned {
			session: new_index,
			set_size: members.len() as u32,
		});
		Some(members)
	}

	fn new_session_genesis(_new_index: u32) -> Option<Vec<T::AccountId>> {
		// At genesis the session pallet has just stored the keys of every validator.
		Some(Validators::<T>::get().into_inner())
	}

	fn end_session(_end_index: u32) {}
	fn start_session(_start_index: u32) {}
}
