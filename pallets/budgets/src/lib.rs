//! # Budgets: agents pay for jobs from a payer's budget, within limits
//!
//! A payer funds a budget (`fund`: a hold on its own account) and authorises delegate keys
//! (`authorize`) with limits: the most escrow one job may take, the most its jobs may cost per
//! period and in all, and an expiry. A delegate submits jobs for the payer (`submit_jobs`): the
//! escrow is drawn from the budget, the jobs are the payer's on chain (it is their client), and
//! when a job ends what it did not spend goes back into the budget and off the delegate's
//! spending. The payer can top up, revoke a delegate (its open jobs finish and are paid; it
//! submits no more) and withdraw what is left at any time.
//!
//! Invariant (`try_state`): for every account, the amount held under `HoldReason::Budget` is
//! the balance its budget records; each payer's delegate count is its allowances' count.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use pallet::*;
pub use types::{Allowance, Budget, Funded, Limits};
pub use weights::WeightInfo;

/// The balance type of runtime `T`.
pub type BalanceOf<T> = <<T as Config>::Currency as frame_support::traits::fungible::Inspect<
	<T as frame_system::Config>::AccountId,
>>::Balance;

/// A delegate's limits in runtime `T`.
pub type LimitsOf<T> = Limits<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;
/// A delegate's allowance in runtime `T`.
pub type AllowanceOf<T> = Allowance<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;

/// Sets up what the benchmarks need from the rest of the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// An active model with as many bonded providers as one model may have (each submitted
	/// job draws among them), for `submit_jobs`.
	fn model() -> infera_primitives::ModelId;
}

// The FRAME macros expand to code that trips the panic lints; the logic lives in `impls.rs`.
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
	use infera_primitives::{JobId, ModelId};

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Holds budgets.
		type Currency: Inspect<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, of which this pallet's `HoldReason` is one.
		type RuntimeHoldReason: From<HoldReason>;
		/// The job escrow, which delegates' jobs are submitted to (their client is the payer).
		type Jobs: infera_primitives::traits::JobSubmitter<
			Self::AccountId,
			BalanceOf<Self>,
			BlockNumberFor<Self>,
		>;
		/// Most delegates one payer may authorise.
		#[pallet::constant]
		type MaxDelegates: Get<u32>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
		/// Sets up models and jobs for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A payer's budget: what its delegates may still draw for jobs.
		Budget,
	}

	/// Budgets by payer. `Blake2_128Concat`: payers are chosen by users.
	#[pallet::storage]
	pub type PayerBudgets<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Budget<BalanceOf<T>>>;

	/// Delegates' allowances by payer and delegate. `Blake2_128Concat`: both chosen by users.
	#[pallet::storage]
	pub type Allowances<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		AllowanceOf<T>,
	>;

	/// Open jobs a budget paid for: whose budget takes back what they do not spend. Removed
	/// when the job ends. Job ids are sequential: `Twox64Concat` cannot be steered.
	#[pallet::storage]
	pub type FundedJobs<T: Config> =
		StorageMap<_, Twox64Concat, JobId, Funded<T::AccountId, BlockNumberFor<T>>>;

	/// Budgets funded at genesis (the dev chain's agent key): each payer, the amount it puts in
	/// (from its endowment) and the delegates it authorises with their limits (amounts in the
	/// smallest unit, periods and expiry in blocks).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		pub budgets: Vec<(T::AccountId, u128, Vec<(T::AccountId, Limits<u128, u32>)>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// A genesis whose budgets cannot be funded or whose amounts do not fit must not start.
			let amount = |a: u128| -> BalanceOf<T> {
				a.try_into().ok().expect("a genesis budget amount fits the balance type")
			};
			for (payer, funds, delegates) in &self.budgets {
				Pallet::<T>::do_fund(payer.clone(), amount(*funds))
					.expect("the payer's endowment covers its genesis budget");
				for (delegate, l) in delegates {
					let limits = Limits {
						per_job: amount(l.per_job),
						per_period: amount(l.per_period),
						period: l.period.into(),
						total: amount(l.total),
						expires_at: l.expires_at.map(Into::into),
					};
					Pallet::<T>::do_authorize(payer.clone(), delegate.clone(), limits)
						.expect("genesis delegates are valid and within MaxDelegates");
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `payer` put `amount` into its budget, which now holds `balance`.
		Funded { payer: T::AccountId, amount: BalanceOf<T>, balance: BalanceOf<T> },
		/// `payer` took `amount` out of its budget, which now holds `balance`.
		Withdrawn { payer: T::AccountId, amount: BalanceOf<T>, balance: BalanceOf<T> },
		/// `payer` authorised `delegate` to submit jobs from its budget within `limits` (or
		/// changed its limits; what it spent still counts).
		DelegateAuthorized { payer: T::AccountId, delegate: T::AccountId, limits: LimitsOf<T> },
		/// `payer` revoked `delegate`: it submits no more jobs; its open jobs finish.
		DelegateRevoked { payer: T::AccountId, delegate: T::AccountId },
		/// `delegate` submitted `jobs` for `payer`, drawing `escrow` from the budget.
		JobsFunded {
			payer: T::AccountId,
			delegate: T::AccountId,
			jobs: Vec<JobId>,
			escrow: BalanceOf<T>,
		},
		/// Job `job` ended having cost `spent`; `returned` went back into `payer`'s budget.
		EscrowReturned {
			job: JobId,
			payer: T::AccountId,
			spent: BalanceOf<T>,
			returned: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The amount is zero.
		ZeroAmount,
		/// The signer's free balance cannot fund that much (the account must stay alive).
		InsufficientFunds,
		/// The budget holds less than asked for.
		InsufficientBudget,
		/// The payer has no budget.
		NoBudget,
		/// The signer is not a delegate of this payer (never authorised, or revoked).
		NotDelegate,
		/// The payer already has `MaxDelegates` delegates.
		TooManyDelegates,
		/// A payer cannot be its own delegate.
		SelfDelegation,
		/// Limits with a zero period or a zero per-job limit.
		InvalidLimits,
		/// The delegate's authorisation has expired.
		Expired,
		/// `max_fee` is above the delegate's per-job limit.
		OverJobLimit,
		/// The jobs' escrow would take the delegate over its per-period limit.
		OverPeriodLimit,
		/// The jobs' escrow would take the delegate over its total limit.
		OverTotalLimit,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Puts `amount` of the signer's free balance into its budget (held; creates the
		/// budget, or tops it up).
		#[pallet::call_index(0)]
		pub fn fund(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let payer = ensure_signed(origin)?;
			Self::do_fund(payer, amount)
		}

		/// Takes `amount` out of the signer's budget, back to its free balance. Open jobs keep
		/// their escrow; what they do not spend comes back into the budget when they end.
		#[pallet::call_index(1)]
		pub fn withdraw(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let payer = ensure_signed(origin)?;
			Self::do_withdraw(payer, amount)
		}

		/// Authorises `delegate` to submit jobs from the signer's budget within `limits`, or
		/// changes the limits of one already authorised (what it spent still counts).
		#[pallet::call_index(2)]
		pub fn authorize(
			origin: OriginFor<T>,
			delegate: T::AccountId,
			limits: LimitsOf<T>,
		) -> DispatchResult {
			let payer = ensure_signed(origin)?;
			Self::do_authorize(payer, delegate, limits)
		}

		/// Revokes `delegate`: it can submit no more jobs from the signer's budget. Its open
		/// jobs finish and are paid; what they do not spend returns to the budget.
		#[pallet::call_index(3)]
		pub fn revoke(origin: OriginFor<T>, delegate: T::AccountId) -> DispatchResult {
			let payer = ensure_signed(origin)?;
			Self::do_revoke(payer, delegate)
		}

		/// Submits one job for each of `inputs` (all for `model`, each paying at most `max_fee`,
		/// done by `deadline`) for `payer`, whose delegate the signer is: the escrow comes out of
		/// the payer's budget, within the signer's limits, and the jobs are the payer's.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::submit_jobs(
			inputs.len() as u32,
			inputs.iter().map(|i| i.len() as u32).max().unwrap_or(0),
		))]
		pub fn submit_jobs(
			origin: OriginFor<T>,
			payer: T::AccountId,
			model: ModelId,
			inputs: Vec<Vec<u8>>,
			max_fee: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResult {
			let delegate = ensure_signed(origin)?;
			Self::do_submit_jobs(delegate, payer, model, inputs, max_fee, deadline).map(|_| ())
		}
	}
}
