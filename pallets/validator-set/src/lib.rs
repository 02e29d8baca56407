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

/// Takes an offender out of block production and finality for the rest of the current session;
/// in the Infera runtime, `pallet_session`'s disabling (bounded by its disabling strategy).
pub trait DisableOffender<AccountId> {
	/// Disable `who` now; `true` if it is disabled afterwards.
	fn disable(who: &AccountId) -> bool;
}

impl<AccountId> DisableOffender<AccountId> for () {
	fn disable(_: &AccountId) -> bool {
		false
	}
}

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
		/// Disables a reported offender for the rest of the session.
		type DisableOffender: DisableOffender<Self::AccountId>;
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

	/// Validators removed for a proven offence, with the session of the report. A later report
	/// against the same account is known (and so refused before it reaches a block) until
	/// governance admits the account again. One entry per removed validator: bounded by the
	/// governance decisions that admitted them.
	#[pallet::storage]
	pub type Offenders<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, SessionIndex, OptionQuery>;

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
		/// A proven offence (`kind`, e.g. `b"babe:equivocatio"`) by `who` in session `session`:
		/// `disabled` says whether it stopped authoring and voting at once, `removed` whether it
		/// leaves the set at the next rotation (not when that would shrink the set below
		/// `MinValidators`; governance decides then).
		OffenderPunished {
			who: T::AccountId,
			kind: [u8; 16],
			session: SessionIndex,
			disabled: bool,
			removed: bool,
		},
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
use sp_staking::{
	offence::{Offence, OffenceError, ReportOffence},
	SessionIndex,
};

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
		// Admitted again by governance: a past offence no longer stands in the way.
		Offenders::<T>::remove(&who);
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

	/// Punishes one proven offender: disabled now, out of the set at the next rotation. Returns
	/// `false` when it was punished already.
	fn punish(who: &T::AccountId, kind: [u8; 16], session: SessionIndex) -> bool {
		if Offenders::<T>::contains_key(who) {
			return false;
		}
		Offenders::<T>::insert(who, session);
		let disabled = T::DisableOffender::disable(who);
		let mut set = Validators::<T>::get();
		let removed = match set.binary_search(who) {
			Ok(at) if set.len() as u32 > T::MinValidators::get() => {
				set.remove(at);
				let set_size = set.len() as u32;
				Validators::<T>::put(set);
				SetChanged::<T>::put(true);
				Self::deposit_event(Event::ValidatorRemoved { who: who.clone(), set_size });
				true
			}
			_ => false,
		};
		log::warn!(
			target: "runtime::validator-set",
			"offence {:?} in session {session}: disabled {disabled}, removed {removed}",
			kind,
		);
		Self::deposit_event(Event::OffenderPunished {
			who: who.clone(),
			kind,
			session,
			disabled,
			removed,
		});
		true
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

/// The chain's offence handler: BABE and GRANDPA hand it equivocations proven against a historical
/// session (`pallet_session::historical`), identified as `(account, full identification)`.
/// Every offender is punished once; a report naming only punished offenders is a duplicate.
impl<T: Config, Id, O> ReportOffence<T::AccountId, (T::AccountId, Id), O> for Pallet<T>
where
	O: Offence<(T::AccountId, Id)>,
{
	fn report_offence(_reporters: Vec<T::AccountId>, offence: O) -> Result<(), OffenceError> {
		let session = offence.session_index();
		let mut any = false;
		for (who, _) in offence.offenders() {
			any |= Self::punish(&who, O::ID, session);
		}
		if any {
			Ok(())
		} else {
			Err(OffenceError::DuplicateReport)
		}
	}

	fn is_known_offence(offenders: &[(T::AccountId, Id)], _time_slot: &O::Slot) -> bool {
		offenders.iter().all(|(who, _)| Offenders::<T>::contains_key(who))
	}
}
