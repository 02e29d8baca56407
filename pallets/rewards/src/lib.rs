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

/// The parameters of runtime `T`.
pub type RewardParamsOf<T> =
	RewardParams<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;

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
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate},
		PalletId,
	};
	use frame_system::pallet_prelude::*;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Mints the emission and pays rewards.
		type Currency: Mutate<Self::AccountId>;
		/// The pallet's account: receives the protocol cut of job fees and holds what is owed.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
		/// Receives the treasury share and rounding dust.
		type TreasuryAccount: Get<Self::AccountId>;
		/// Who sets the parameters (governance).
		type ParamsOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The parameters before governance sets any.
		type DefaultParams: Get<RewardParamsOf<Self>>;
		/// Weights of this pallet's calls and hook.
		type WeightInfo: WeightInfo;
	}

	/// The open epoch.
	#[pallet::storage]
	pub type CurrentEpoch<T> = StorageValue<_, u32, ValueQuery>;

	/// The block the open epoch started at.
	#[pallet::storage]
	pub type EpochStart<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Points earned so far in the open epoch: (work, audits).
	#[pallet::storage]
	pub type OpenPoints<T> = StorageValue<_, (u128, u128), ValueQuery>;

	/// Providers' pools of closed epochs with points not yet settled. Epochs are sequential:
	/// `Twox64Concat` is safe.
	#[pallet::storage]
	pub type WorkPools<T: Config> = StorageMap<_, Twox64Concat, u32, Pool<BalanceOf<T>>>;

	/// Auditors' pools of closed epochs with points not yet settled.
	#[pallet::storage]
	pub type AuditPools<T: Config> = StorageMap<_, Twox64Concat, u32, Pool<BalanceOf<T>>>;

	/// Each account's latest points and claimable balance. Accounts are user-chosen:
	/// `Blake2_128Concat`.
	#[pallet::storage]
	pub type Accounts<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Earnings<BalanceOf<T>>, ValueQuery>;

	/// What the pallet's account owes: unsettled pool amounts plus claimable balances.
	#[pallet::storage]
	pub type TotalOwed<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Everything ever minted as emission.
	#[pallet::storage]
	pub type TotalEmitted<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Everything ever received as fees (the protocol cut of jobs).
	#[pallet::storage]
	pub type TotalFees<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Everything ever claimed.
	#[pallet::storage]
	pub type TotalPaid<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Everything ever sent to the treasury (its share, empty pools and rounding dust).
	#[pallet::storage]
	pub type TotalToTreasury<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Governance-set parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, RewardParamsOf<T>, ValueQuery, T::DefaultParams>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// An epoch length other than the default (the dev chain uses short epochs).
		pub epoch_length: Option<BlockNumberFor<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(epoch_length) = self.epoch_length {
				let mut p = T::DefaultParams::get();
				p.epoch_length = epoch_length;
				assert!(
					Pallet::<T>::ensure_params_valid(&p).is_ok(),
					"genesis epoch length is valid"
				);
				Params::<T>::put(p);
			}
			// The pallet's account exists from the start, so fees below the existential deposit
			// can be received.
			let account = Pallet::<T>::account_id();
			let ed = T::Currency::minimum_balance();
			if T::Currency::balance(&account) < ed {
				// Minting can only fail if issuance overflows: a genesis that broken must not start.
				T::Currency::mint_into(&account, ed)
					.expect("the rewards account is endowed at genesis");
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An epoch closed: `emitted` was minted, `fees` had come in, and the pool was split.
		EpochClosed {
			epoch: u32,
			emitted: BalanceOf<T>,
			fees: BalanceOf<T>,
			to_providers: BalanceOf<T>,
			to_auditors: BalanceOf<T>,
			to_treasury: BalanceOf<T>,
		},
		/// An account claimed its rewards.
		Claimed { who: T::AccountId, amount: BalanceOf<T> },
		/// Rounding dust of a fully settled pool went to the treasury.
		DustToTreasury { epoch: u32, amount: BalanceOf<T> },
		/// Governance set new parameters.
		ParamsUpdated { params: RewardParamsOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account has nothing to claim (rewards of the open epoch become claimable when it
		/// closes).
		NothingToClaim,
		/// The shares add up to more than 100 % or the epoch length is zero.
		InvalidParams,
		/// The pallet's account holds less than it owes; claims wait for governance to look.
		InsufficientFunds,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::maybe_close_epoch(now)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(Self::ensure_params_valid(&T::DefaultParams::get()).is_ok());
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Pays the signer everything it earned in closed epochs.
		#[pallet::call_index(0)]
		pub fn claim(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_claim(who)
		}

		/// Sets the parameters (governance). A new epoch length applies from the next epoch.
		#[pallet::call_index(1)]
		pub fn set_params(origin: OriginFor<T>, params: RewardParamsOf<T>) -> DispatchResult {
			T::ParamsOrigin::ensure_origin(origin)?;
			Self::ensure_params_valid(&params)?;
			Params::<T>::put(params);
			Self::deposit_event(Event::ParamsUpdated { params });
			Ok(())
		}
	}
}
