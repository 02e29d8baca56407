#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
pub mod migrations;
#[cfg(test)]
mod mock;
mod selection;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> = <<T as Config>::Currency as frame_support::traits::fungible::Inspect<
	<T as frame_system::Config>::AccountId,
>>::Balance;

/// The stored record of a provider in runtime `T`.
pub type ProviderInfoOf<T> = ProviderInfo<
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxModelsPerProvider,
	<T as Config>::MaxUnlockingChunks,
>;

/// The parameters of runtime `T`.
pub type StakingParamsOf<T> =
	StakingParams<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;

/// A provider's list of models in runtime `T`.
pub type ModelsOf<T> =
	frame_support::BoundedVec<infera_primitives::ModelId, <T as Config>::MaxModelsPerProvider>;

/// Sets up what the benchmarks need from the rest of the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Registers a model that takes jobs and returns its id; `seed` makes each one distinct.
	fn active_model(seed: u32) -> infera_primitives::ModelId;
}

// The FRAME macros expand to code that trips the panic lints; the pallet's logic lives in
// `impls.rs` and `selection.rs`, where the lints apply.
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
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use infera_primitives::{HardwareProfile, ModelId};

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Holds bonds.
		type Currency: Inspect<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, of which this pallet's `HoldReason` is one.
		type RuntimeHoldReason: From<HoldReason>;
		/// Which models exist and take jobs.
		type ModelRegistry: infera_primitives::traits::ModelRegistry<Self::AccountId>;
		/// Receives slashed bond not paid to a reporter.
		type TreasuryAccount: Get<Self::AccountId>;
		/// Held from a provider at registration for the state its record takes, and returned
		/// when it deregisters: registering is never free, so records cannot be spammed.
		#[pallet::constant]
		type ProviderDeposit: Get<BalanceOf<Self>>;
		/// Who sets the parameters (governance).
		type ParamsOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The parameters before governance sets any.
		type DefaultParams: Get<StakingParamsOf<Self>>;
		/// Upper bound of the governance-set `max_models_per_provider`.
		#[pallet::constant]
		type MaxModelsPerProvider: Get<u32>;
		/// Most providers serving one model: bounds the work of a selection.
		#[pallet::constant]
		type MaxProvidersPerModel: Get<u32>;
		/// Most unbonding chunks in flight per provider.
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// Registers models for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A provider's bond, including bond waiting out the unbonding delay.
		ProviderBond,
		/// The storage deposit of a provider's record, returned when it deregisters.
		ProviderDeposit,
	}

	/// Registered providers. Accounts are user-chosen, hence `Blake2_128Concat`.
	#[pallet::storage]
	pub type Providers<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ProviderInfoOf<T>>;

	/// The providers a model's jobs are drawn from: only active (not chilled) providers with a
	/// bond that declare the model. When the list is full, a provider bonded more than the
	/// weakest member takes its place. `ModelId`s are only accepted when registered, so
	/// `Twox64Concat` cannot be steered.
	#[pallet::storage]
	pub type ProvidersByModel<T: Config> = StorageMap<
		_,
		Twox64Concat,
		ModelId,
		BoundedVec<T::AccountId, T::MaxProvidersPerModel>,
		ValueQuery,
	>;

	/// The selection weight of each provider in a model's list, in the list's order: a snapshot
	/// of `bonded · (reputation + floor) / (max + floor)` (see `selection.rs`), taken when the
	/// provider joins or bonds or unbonds, and refreshed whenever a selection draws it. A
	/// selection reads this and the list, then only the records it draws: O(1) reads however
	/// long the list.
	#[pallet::storage]
	pub type ListWeights<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BoundedVec<u128, T::MaxProvidersPerModel>, ValueQuery>;

	/// Number of registered providers.
	#[pallet::storage]
	pub type ProviderCount<T> = StorageValue<_, u32, ValueQuery>;

	/// Sum of all providers' bonds, active and unlocking (what the pallet holds).
	#[pallet::storage]
	pub type TotalBonded<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Governance-set parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, StakingParamsOf<T>, ValueQuery, T::DefaultParams>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Providers at genesis: account, hardware, bond and models served, set up as if each
		/// had called `register_provider`, `bond` and `set_models` (the bond is held).
		pub providers: Vec<(T::AccountId, HardwareProfile, BalanceOf<T>, Vec<ModelId>)>,
		/// Providers among them that start chilled: bonded and declaring models (so they can
		/// audit them) without taking jobs.
		pub chilled: Vec<T::AccountId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (who, hardware, bond, models) in &self.providers {
				Pallet::<T>::do_register(who.clone(), *hardware)
					.expect("genesis provider registers");
				Pallet::<T>::do_bond(who.clone(), *bond, false).expect("genesis provider bonds");
				let models: ModelsOf<T> =
					models.clone().try_into().expect("genesis provider's models fit");
				Pallet::<T>::do_set_models(who.clone(), models)
					.expect("genesis provider's models are registered");
			}
			for who in &self.chilled {
				Pallet::<T>::do_set_status(who.clone(), ProviderStatus::Chilled)
					.expect("a genesis provider chills");
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An account registered as a compute provider.
		ProviderRegistered { who: T::AccountId, hardware: HardwareProfile },
		/// A provider bonded `amount` more; its bond is now `bonded`.
		Bonded { who: T::AccountId, amount: BalanceOf<T>, bonded: BalanceOf<T> },
		/// A provider started unbonding `amount`, withdrawable from block `unlock_at`.
		Unbonded { who: T::AccountId, amount: BalanceOf<T>, unlock_at: BlockNumberFor<T> },
		/// Unbonded stake was released to the provider.
		Withdrawn { who: T::AccountId, amount: BalanceOf<T> },
		/// A provider now serves exactly `models`.
		ModelsSet { who: T::AccountId, models: ModelsOf<T> },
		/// A provider stopped taking new jobs.
		Chilled { who: T::AccountId },
		/// A provider takes new jobs again.
		Unchilled { who: T::AccountId },
		/// A provider left; nothing was bonded or locked, and its registration deposit was
		/// returned.
		ProviderDeregistered { who: T::AccountId, deposit: BalanceOf<T> },
		/// `model`'s provider list was full; `displaced`, its weakest member (bond
		/// `displaced_bond`), made room for `by`, bonded more. `displaced` keeps declaring the
		/// model and gets back in by `set_models` when it out-bonds the weakest member again.
		ProviderDisplaced {
			model: ModelId,
			displaced: T::AccountId,
			displaced_bond: BalanceOf<T>,
			by: T::AccountId,
		},
		/// `who` declares `model` but is not in its provider list: the list is full of providers
		/// bonded at least as much. It is not drawn for `model` until it bonds more and calls
		/// `set_models` again.
		NotListed { who: T::AccountId, model: ModelId },
		/// A provider was slashed. `slashed` is less than `requested` when the bond was smaller.
		Slashed {
			who: T::AccountId,
			requested: BalanceOf<T>,
			slashed: BalanceOf<T>,
			reporter: Option<T::AccountId>,
			to_reporter: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
		},
		/// A provider missed an assigned job; its reputation is now `reputation`.
		NoShowRecorded { who: T::AccountId, reputation: u32 },
		/// Governance set new parameters.
		ParamsUpdated { params: StakingParamsOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is not a registered provider.
		NotProvider,
		/// The account is registered as a provider already.
		AlreadyRegistered,
		/// The hardware profile is impossible: no cores or memory, or accelerator memory that
		/// does not match the accelerator.
		InvalidHardware,
		/// The amount is zero.
		ZeroAmount,
		/// The provider has a bond already; use `bond_extra`.
		AlreadyBonded,
		/// The provider has no bond; use `bond`.
		NotBonded,
		/// The bond would be below the governance minimum.
		BelowMinimumBond,
		/// The account's free balance cannot cover the bond.
		InsufficientBalance,
		/// The amount exceeds the bond not locked by open jobs.
		InsufficientFreeStake,
		/// Too many unbonding chunks are waiting; withdraw or wait for a later block.
		TooManyUnlockingChunks,
		/// No unbonding chunk has reached its unlock block.
		NothingToWithdraw,
		/// A model is not registered or takes no jobs.
		ModelNotActive,
		/// The same model is listed twice.
		DuplicateModel,
		/// More models than governance allows per provider.
		TooManyModels,
		/// The model's provider list is full and every member is bonded at least as much as the
		/// signer: bond more to take the weakest member's place.
		ModelProvidersFull,
		/// The provider is chilled already.
		AlreadyChilled,
		/// The provider is not chilled.
		NotChilled,
		/// The provider still has bond (active or unlocking); unbond and withdraw first.
		StillBonded,
		/// Open jobs still lock part of the bond.
		StakeLocked,
		/// The parameters are inconsistent (zero minimum bond, a model cap above the runtime's
		/// bound, or a zero no-show penalty).
		InvalidParams,
		/// All provider slots are used.
		TooManyProviders,
		/// The account's free balance cannot cover the registration deposit.
		CannotPayDeposit,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(T::MaxProvidersPerModel::get() > 0, "a model must be able to have providers");
			assert!(T::MaxUnlockingChunks::get() > 0, "unbonding needs at least one chunk");
			assert!(
				T::DefaultParams::get().max_models_per_provider <= T::MaxModelsPerProvider::get(),
				"the default model cap exceeds the storage bound"
			);
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Registers the signer as a compute provider with its hardware, holding
		/// `ProviderDeposit` until it deregisters. It takes jobs once it has bonded at least the
		/// minimum and set the models it serves.
		#[pallet::call_index(0)]
		pub fn register_provider(
			origin: OriginFor<T>,
			hardware: HardwareProfile,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register(who, hardware)
		}

		/// Bonds `value` (held from the free balance) as the provider's first bond; an active
		/// provider then joins the lists of the models it declared (as `unchill` does).
		#[pallet::call_index(1)]
		pub fn bond(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond(who, value, false)
		}

		/// Adds `value` to an existing bond.
		#[pallet::call_index(2)]
		pub fn bond_extra(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond(who, value, true)
		}

		/// Sets the models the provider serves (registered, active, no duplicates). An active,
		/// bonded provider joins each model's provider list, displacing the weakest member of a
		/// full list when it is bonded more (else `ModelProvidersFull`); calling it again with
		/// the same models retries lists it is not in.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_models(models.len() as u32))]
		pub fn set_models(origin: OriginFor<T>, models: ModelsOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_models(who, models)
		}

		/// Starts unbonding `value`; it can be withdrawn after the unbonding delay. Stake locked
		/// by open jobs cannot be unbonded, and what remains must be zero or at least the minimum.
		/// Unbonding everything leaves every provider list.
		#[pallet::call_index(4)]
		pub fn unbond(
			origin: OriginFor<T>,
			#[pallet::compact] value: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unbond(who, value)
		}

		/// Releases every unbonding chunk whose delay has passed.
		#[pallet::call_index(5)]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(who)
		}

		/// Stops taking new jobs and leaves every provider list; open jobs still run to the end.
		#[pallet::call_index(6)]
		pub fn chill(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_status(who, ProviderStatus::Chilled)
		}

		/// Takes new jobs again: rejoins the provider lists of its models where it fits (see
		/// `set_models`); `NotListed` names each list full of providers bonded at least as much.
		#[pallet::call_index(7)]
		pub fn unchill(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_status(who, ProviderStatus::Active)
		}

		/// Leaves the provider set and gets the registration deposit back. Only when nothing is
		/// bonded, unbonding or locked.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::deregister(T::MaxModelsPerProvider::get()))]
		pub fn deregister(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deregister(who)
		}

		/// Sets the parameters (governance).
		#[pallet::call_index(9)]
		pub fn set_params(origin: OriginFor<T>, params: StakingParamsOf<T>) -> DispatchResult {
			T::ParamsOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}
	}
}
