#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> = <<T as Config>::Currency as frame_support::traits::fungible::Inspect<
	<T as frame_system::Config>::AccountId,
>>::Balance;

/// The stored record of a model in runtime `T`.
pub type ModelInfoOf<T> = ModelInfo<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxNameLength,
	<T as Config>::MaxLicenseLength,
>;

/// The editable metadata of a model in runtime `T`.
pub type ModelMetadataOf<T> =
	ModelMetadata<<T as Config>::MaxNameLength, <T as Config>::MaxLicenseLength>;

// The FRAME macros expand to code that trips the panic lints; the pallet's logic lives in
// `impls.rs`, where the lints apply.
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
	use infera_primitives::{Architecture, ModelId};
	use sp_core::H256;
	use sp_runtime::Perbill;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Holds registration deposits.
		type Currency: Inspect<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, of which this pallet's `HoldReason` is one.
		type RuntimeHoldReason: From<HoldReason>;
		/// Who sets the parameters and force-deprecates models (governance).
		type ParamsOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The parameters before governance sets any.
		type DefaultParams: Get<RegistryParams<BalanceOf<Self>>>;
		/// Longest name or version label, bytes.
		#[pallet::constant]
		type MaxNameLength: Get<u32>;
		/// Longest license expression, bytes.
		#[pallet::constant]
		type MaxLicenseLength: Get<u32>;
		/// Most ancestors a model may have.
		#[pallet::constant]
		type MaxLineageDepth: Get<u32>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of a registered model.
		ModelDeposit,
	}

	/// The id the next registered model gets.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	/// Registered models. `ModelId`s are assigned sequentially by the pallet, so `Twox64Concat`
	/// cannot be steered by users.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelInfoOf<T>>;

	/// Which model has these weights. The hash is user-supplied, hence `Blake2_128Concat`.
	#[pallet::storage]
	pub type ModelByWeights<T> = StorageMap<_, Blake2_128Concat, H256, ModelId>;

	/// Models by owner, for paging through an owner's models. Accounts are user-chosen:
	/// `Blake2_128Concat`; model ids are sequential: `Twox64Concat`.
	#[pallet::storage]
	pub type ModelsByOwner<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, ModelId, ()>;

	/// Open jobs naming each model (kept by the job escrow through `ModelRegistry`).
	#[pallet::storage]
	pub type OpenJobs<T> = StorageMap<_, Twox64Concat, ModelId, u32, ValueQuery>;

	/// Number of registered models.
	#[pallet::storage]
	pub type ModelCount<T> = StorageValue<_, u32, ValueQuery>;

	/// Governance-set parameters.
	#[pallet::storage]
	pub type Params<T: Config> =
		StorageValue<_, RegistryParams<BalanceOf<T>>, ValueQuery, T::DefaultParams>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Models registered at genesis, in order (the first gets id 0).
		pub models: Vec<GenesisModel<T::AccountId>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for m in &self.models {
				let metadata = ModelMetadata {
					name: m.name.clone().try_into().expect("genesis model name fits"),
					version: m.version.clone().try_into().expect("genesis model version fits"),
					license: m.license.clone().try_into().expect("genesis model license fits"),
					dataset_hash: None,
				};
				Pallet::<T>::do_register(
					m.owner.clone(),
					m.files,
					m.architecture,
					metadata,
					None,
					m.royalty,
				)
				.expect("genesis model registers (valid, unique, owner can pay the deposit)");
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered.
		ModelRegistered {
			model: ModelId,
			owner: T::AccountId,
			weights_hash: H256,
			parent: Option<ModelId>,
			deposit: BalanceOf<T>,
		},
		/// The owner changed a model's metadata; the deposit now held is `deposit`.
		MetadataUpdated { model: ModelId, deposit: BalanceOf<T> },
		/// A model takes no new jobs.
		ModelDeprecated { model: ModelId, by_governance: bool },
		/// A model changed hands.
		OwnershipTransferred { model: ModelId, from: T::AccountId, to: T::AccountId },
		/// A model was removed and its deposit released to `depositor`.
		ModelRemoved { model: ModelId, depositor: T::AccountId, deposit: BalanceOf<T> },
		/// Governance set new parameters.
		ParamsUpdated { params: RegistryParams<BalanceOf<T>> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model has this id.
		ModelNotFound,
		/// Only the model's owner may do this.
		NotOwner,
		/// A model with these weights is registered already; register a new version with it as
		/// parent instead.
		WeightsAlreadyRegistered,
		/// The parent model does not exist.
		ParentNotFound,
		/// The parent's lineage is already `MaxLineageDepth` deep.
		LineageTooDeep,
		/// The royalty exceeds the governance cap.
		RoyaltyTooHigh,
		/// The tolerance is looser than governance allows.
		ToleranceTooLoose,
		/// The architecture has zero dimensions, classes or tokens, or more than the chain can
		/// check (`MAX_EMBEDDING_DIMENSIONS`, `MAX_GENERATION_TOKENS`).
		InvalidArchitecture,
		/// The license is empty or has characters an SPDX expression cannot contain.
		InvalidLicense,
		/// The name or version is empty.
		EmptyName,
		/// The weights file size is zero.
		EmptyWeights,
		/// The model is deprecated already.
		AlreadyDeprecated,
		/// Only a deprecated model can be removed.
		NotDeprecated,
		/// Jobs naming the model are still open.
		HasOpenJobs,
		/// Other models name this one as their parent.
		HasChildren,
		/// The new owner is the current one.
		SameOwner,
		/// The depositor cannot cover the storage deposit.
		InsufficientDeposit,
		/// The parameters are inconsistent (e.g. a royalty cap above 100 %).
		InvalidParams,
		/// All model ids are used.
		ModelIdsExhausted,
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
		/// Registers a model by the content hashes of its files. The signer becomes its owner and
		/// pays a storage deposit, released when the model is removed.
		#[pallet::call_index(0)]
		pub fn register_model(
			origin: OriginFor<T>,
			files: ModelFiles,
			architecture: Architecture,
			metadata: ModelMetadataOf<T>,
			parent: Option<ModelId>,
			royalty: Perbill,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register(who, files, architecture, metadata, parent, royalty).map(|_| ())
		}

		/// Changes a model's name, version, license or dataset hash (owner only). The deposit
		/// follows the new size.
		#[pallet::call_index(1)]
		pub fn update_metadata(
			origin: OriginFor<T>,
			model: ModelId,
			metadata: ModelMetadataOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_metadata(who, model, metadata)
		}

		/// Stops new jobs for a model (owner only). Its entry and lineage stay readable.
		#[pallet::call_index(2)]
		pub fn deprecate_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deprecate(Some(who), model)
		}

		/// Hands a model to `new_owner` (owner only). The deposit stays with its payer.
		#[pallet::call_index(3)]
		pub fn transfer_ownership(
			origin: OriginFor<T>,
			model: ModelId,
			new_owner: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_transfer(who, model, new_owner)
		}

		/// Removes a deprecated model with no open jobs and no children (owner only), releasing
		/// its deposit.
		#[pallet::call_index(4)]
		pub fn remove_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove(who, model)
		}

		/// Sets the registry's parameters (governance).
		#[pallet::call_index(5)]
		pub fn set_params(
			origin: OriginFor<T>,
			params: RegistryParams<BalanceOf<T>>,
		) -> DispatchResult {
			T::ParamsOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}

		/// Deprecates a model shown to be malicious (governance).
		#[pallet::call_index(6)]
		pub fn force_deprecate(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			T::ParamsOrigin::ensure_origin(origin)?;
			Self::do_deprecate(None, model)
		}
	}
}
