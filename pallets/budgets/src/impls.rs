//! What the calls do, what happens when a budget's job ends, and the invariants.

use crate::{pallet::*, Allowance, AllowanceOf, BalanceOf, Budget, Funded, LimitsOf, WeightInfo};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::{Fortitude, Precision, Preservation},
		Get,
	},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::{
	traits::{JobSubmitter, OnJobFinished},
	JobId, ModelId,
};
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, Saturating, Zero},
	ArithmeticError, DispatchError, DispatchResult,
};

impl<T: Config> Pallet<T> {
	fn reason() -> T::RuntimeHoldReason {
		HoldReason::Budget.into()
	}

	pub(crate) fn do_fund(payer: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut budget = PayerBudgets::<T>::get(&payer).unwrap_or_default();
		budget.balance = budget.balance.checked_add(&amount).ok_or(ArithmeticError::Overflow)?;
		// The account must stay alive: only what it can spend and keep the existential deposit.
		let spendable =
			T::Currency::reducible_balance(&payer, Preservation::Preserve, Fortitude::Polite);
		ensure!(amount <= spendable, Error::<T>::InsufficientFunds);
		T::Currency::hold(&Self::reason(), &payer, amount)
			.map_err(|_| Error::<T>::InsufficientFunds)?;
		PayerBudgets::<T>::insert(&payer, &budget);
		Self::deposit_event(Event::Funded { payer, amount, balance: budget.balance });
		Ok(())
	}

	pub(crate) fn do_withdraw(payer: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut budget = PayerBudgets::<T>::get(&payer).ok_or(Error::<T>::NoBudget)?;
		budget.balance =
			budget.balance.checked_sub(&amount).ok_or(Error::<T>::InsufficientBudget)?;
		T::Currency::release(&Self::reason(), &payer, amount, Precision::Exact)?;
		Self::store(&payer, &budget);
		Self::deposit_event(Event::Withdrawn { payer, amount, balance: budget.balance });
		Ok(())
	}

	pub(crate) fn do_authorize(
		payer: T::AccountId,
		delegate: T::AccountId,
		limits: LimitsOf<T>,
	) -> DispatchResult {
		ensure!(payer != delegate, Error::<T>::SelfDelegation);
		ensure!(!limits.per_job.is_zero() && !limits.period.is_zero(), Error::<T>::InvalidLimits);
		let mut budget = PayerBudgets::<T>::get(&payer).unwrap_or_default();
		let allowance = match Allowances::<T>::get(&payer, &delegate) {
			Some(existing) => Allowance { limits, ..existing },
			None => {
				ensure!(budget.delegates < T::MaxDelegates::get(), Error::<T>::TooManyDelegates);
				budget.delegates = budget.delegates.saturating_add(1);
				Allowance {
					limits,
					spent: Zero::zero(),
					spent_in_period: Zero::zero(),
					period_start: frame_system::Pallet::<T>::block_number(),
				}
			}
		};
		PayerBudgets::<T>::insert(&payer, &budget);
		Allowances::<T>::insert(&payer, &delegate, allowance);
		Self::deposit_event(Event::DelegateAuthorized { payer, delegate, limits });
		Ok(())
	}

	pub(crate) fn do_revoke(payer: T::AccountId, delegate: T::AccountId) -> DispatchResult {
		ensure!(Allowances::<T>::contains_key(&payer, &delegate), Error::<T>::NotDelegate);
		let mut budget = PayerBudgets::<T>::get(&payer).ok_or(Error::<T>::NoBudget)?;
		Allowances::<T>::remove(&payer, &delegate);
		budget.delegates = budget.delegates.saturating_sub(1);
		Self::store(&payer, &budget);
		Self::deposit_event(Event::DelegateRevoked { payer, delegate });
		Ok(())
	}

	/// A budget with nothing in it and no delegates is removed.
	fn store(payer: &T::AccountId, budget: &Budget<BalanceOf<T>>) {
		if budget.balance.is_zero() && budget.delegates == 0 {
			PayerBudgets::<T>::remove(payer);
		} else {
			PayerBudgets::<T>::insert(payer, budget);
		}
	}

	/// The delegate's allowance with its period rolled to the one `now` falls in.
	fn current(mut allowance: AllowanceOf<T>, now: BlockNumberFor<T>) -> AllowanceOf<T> {
		let elapsed = now.saturating_sub(allowance.period_start);
		if elapsed >= allowance.limits.period {
			// The start of the period `now` is in, so periods keep their boundaries (a zero
			// period, which `authorize` refuses, restarts at `now`).
			let whole = elapsed.checked_div(&allowance.limits.period).unwrap_or_else(Zero::zero);
			let into = elapsed.saturating_sub(whole.saturating_mul(allowance.limits.period));
			allowance.period_start = now.saturating_sub(into);
			allowance.spent_in_period = Zero::zero();
		}
		allowance
	}

	pub(crate) fn do_submit_jobs(
		delegate: T::AccountId,
		payer: T::AccountId,
		model: ModelId,
		inputs: Vec<Vec<u8>>,
		max_fee: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
	) -> Result<Vec<JobId>, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let allowance = Allowances::<T>::get(&payer, &delegate).ok_or(Error::<T>::NotDelegate)?;
		let mut allowance = Self::current(allowance, now);
		let limits = allowance.limits;
		ensure!(limits.expires_at.is_none_or(|last| now <= last), Error::<T>::Expired);
		ensure!(max_fee <= limits.per_job, Error::<T>::OverJobLimit);
		let count = u32::try_from(inputs.len()).map_err(|_| ArithmeticError::Overflow)?;
		let escrow = max_fee.checked_mul(&count.into()).ok_or(ArithmeticError::Overflow)?;
		let in_period =
			allowance.spent_in_period.checked_add(&escrow).ok_or(ArithmeticError::Overflow)?;
		ensure!(in_period <= limits.per_period, Error::<T>::OverPeriodLimit);
		let spent = allowance.spent.checked_add(&escrow).ok_or(ArithmeticError::Overflow)?;
		ensure!(spent <= limits.total, Error::<T>::OverTotalLimit);
		let mut budget = PayerBudgets::<T>::get(&payer).ok_or(Error::<T>::NoBudget)?;
		budget.balance =
			budget.balance.checked_sub(&escrow).ok_or(Error::<T>::InsufficientBudget)?;

		// The budget's hold becomes the jobs' escrow hold on the same account (the job escrow
		// checks and submits every input, or fails and the whole call is undone).
		T::Currency::release(&Self::reason(), &payer, escrow, Precision::Exact)?;
		let jobs = T::Jobs::submit_jobs(&payer, model, inputs, max_fee, deadline)?;
		allowance.spent = spent;
		allowance.spent_in_period = in_period;
		for job in &jobs {
			FundedJobs::<T>::insert(
				job,
				Funded {
					payer: payer.clone(),
					delegate: delegate.clone(),
					period_start: allowance.period_start,
				},
			);
		}
		Allowances::<T>::insert(&payer, &delegate, allowance);
		PayerBudgets::<T>::insert(&payer, &budget);
		Self::deposit_event(Event::JobsFunded { payer, delegate, jobs: jobs.clone(), escrow });
		Ok(jobs)
	}

	/// A budget's job ended: what it did not spend (now free on the payer's account) goes back
	/// into the budget, and off the delegate's spending.
	/// Gives a budget-funded job's unspent escrow back to its budget. False when `job` was not
	/// funded by a budget (nothing done beyond one read).
	pub(crate) fn job_finished(job: JobId, escrow: BalanceOf<T>, spent: BalanceOf<T>) -> bool {
		let Some(funded) = FundedJobs::<T>::take(job) else { return false };
		let returned = escrow.saturating_sub(spent);
		let Funded { payer, delegate, period_start } = funded;
		if !returned.is_zero() {
			match T::Currency::hold(&Self::reason(), &payer, returned) {
				Ok(()) => PayerBudgets::<T>::mutate(&payer, |b| {
					let budget = b.get_or_insert_with(Default::default);
					budget.balance = budget.balance.saturating_add(returned);
				}),
				// The escrow was just released to this account, so holding it again cannot fail
				// short of a bug elsewhere; the tokens then stay free with the payer.
				Err(e) => log::error!(
					target: "runtime::budgets",
					"job {}: {returned:?} returned but not re-held: {e:?}",
					job.0
				),
			}
		}
		Allowances::<T>::mutate(&payer, &delegate, |a| {
			if let Some(a) = a {
				a.spent = a.spent.saturating_sub(returned);
				if a.period_start == period_start {
					a.spent_in_period = a.spent_in_period.saturating_sub(returned);
				}
			}
		});
		Self::deposit_event(Event::EscrowReturned { job, payer, spent, returned });
		true
	}

	/// Every account's budget hold is its recorded budget; every delegate count is right; every
	/// funded job's payer is recorded.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		for who in frame_system::Account::<T>::iter_keys() {
			let held =
				<T::Currency as frame_support::traits::fungible::InspectHold<_>>::balance_on_hold(
					&Self::reason(),
					&who,
				);
			let recorded = PayerBudgets::<T>::get(&who).map(|b| b.balance).unwrap_or_default();
			ensure!(held == recorded, "an account's budget hold differs from its budget");
		}
		for (payer, budget) in PayerBudgets::<T>::iter() {
			let delegates = Allowances::<T>::iter_prefix(&payer).count();
			ensure!(
				u32::try_from(delegates).ok() == Some(budget.delegates),
				"a budget's delegate count differs from its allowances"
			);
			ensure!(
				!budget.balance.is_zero() || budget.delegates > 0,
				"an empty budget without delegates is kept"
			);
		}
		Ok(())
	}
}

impl<T: Config> OnJobFinished<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn on_job_finished(
		job: JobId,
		_client: &T::AccountId,
		escrow: BalanceOf<T>,
		spent: BalanceOf<T>,
	) -> Weight {
		if Self::job_finished(job, escrow, spent) {
			T::WeightInfo::on_job_finished()
		} else {
			Weight::zero()
		}
	}

	fn weight() -> Weight {
		T::WeightInfo::on_job_finished()
	}
}
