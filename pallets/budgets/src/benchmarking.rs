//! Benchmarks of every call and of a budget's job ending, each at its worst case.

use super::*;
use crate::pallet::{Allowances, FundedJobs, PayerBudgets};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate;
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use infera_primitives::{traits::JobSubmitter, JobId};
use sp_runtime::{
	traits::{Bounded, Saturating},
	Perbill,
};

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, i, 0);
	let _ = T::Currency::set_balance(
		&who,
		Perbill::from_parts(100_000).mul_floor(BalanceOf::<T>::max_value()),
	);
	who
}

fn no_limits<T: Config>() -> LimitsOf<T> {
	Limits {
		per_job: BalanceOf::<T>::max_value(),
		per_period: BalanceOf::<T>::max_value(),
		period: 1u32.into(),
		total: BalanceOf::<T>::max_value(),
		expires_at: None,
	}
}

/// A payer with a budget of `amount` and `delegate` authorised without limits.
fn budget_with_delegate<T: Config>(amount: BalanceOf<T>) -> (T::AccountId, T::AccountId)
where
	T::Currency: Mutate<T::AccountId>,
{
	let payer = funded::<T>("payer", 0);
	let delegate = funded::<T>("delegate", 0);
	let _ = Pallet::<T>::do_fund(payer.clone(), amount);
	let _ = Pallet::<T>::do_authorize(payer.clone(), delegate.clone(), no_limits::<T>());
	(payer, delegate)
}

fn units<T: Config>() -> BalanceOf<T> {
	Perbill::from_parts(1).mul_floor(BalanceOf::<T>::max_value())
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn fund() {
		let payer = funded::<T>("payer", 0);
		let amount = units::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(payer.clone()), amount);

		assert_eq!(PayerBudgets::<T>::get(&payer).map(|b| b.balance), Some(amount));
	}

	#[benchmark]
	fn withdraw() {
		let (payer, _) = budget_with_delegate::<T>(units::<T>());

		#[extrinsic_call]
		_(RawOrigin::Signed(payer.clone()), units::<T>());

		assert_eq!(PayerBudgets::<T>::get(&payer).map(|b| b.balance), Some(0u32.into()));
	}

	#[benchmark]
	fn authorize() {
		let payer = funded::<T>("payer", 0);
		let delegate: T::AccountId = account("delegate", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(payer.clone()), delegate.clone(), no_limits::<T>());

		assert!(Allowances::<T>::contains_key(&payer, &delegate));
	}

	#[benchmark]
	fn revoke() {
		let (payer, delegate) = budget_with_delegate::<T>(units::<T>());

		#[extrinsic_call]
		_(RawOrigin::Signed(payer.clone()), delegate.clone());

		assert!(!Allowances::<T>::contains_key(&payer, &delegate));
	}

	/// `n` jobs of `l`-byte inputs, each assigned by a draw over a full provider list.
	#[benchmark]
	fn submit_jobs(
		n: Linear<1, { <T::Jobs as JobSubmitter<_, _, _>>::max_inputs() }>,
		l: Linear<1, { <T::Jobs as JobSubmitter<_, _, _>>::max_input_len() }>,
	) -> Result<(), BenchmarkError> {
		let model = T::BenchmarkHelper::model();
		let price = <T::Jobs as JobSubmitter<_, _, BlockNumberFor<T>>>::price(l)
			.map_err(|_| BenchmarkError::Stop("price"))?;
		let (payer, delegate) =
			budget_with_delegate::<T>(price.saturating_mul(n.into()).saturating_mul(2u32.into()));
		let deadline = frame_system::Pallet::<T>::block_number().saturating_add(100u32.into());
		let inputs: Vec<Vec<u8>> = (0..n).map(|_| alloc::vec![b'a'; l as usize]).collect();

		#[extrinsic_call]
		_(RawOrigin::Signed(delegate), payer, model, inputs, price, deadline);

		assert_eq!(FundedJobs::<T>::iter().count(), n as usize);
		Ok(())
	}

	/// A budget's job ends with nothing spent: its whole escrow is held again and taken off the
	/// delegate's spending in the same period.
	#[benchmark]
	fn on_job_finished() {
		let escrow = units::<T>();
		let (payer, delegate) = budget_with_delegate::<T>(escrow);
		let period_start = frame_system::Pallet::<T>::block_number();
		Allowances::<T>::mutate(&payer, &delegate, |a| {
			if let Some(a) = a {
				a.spent = escrow;
				a.spent_in_period = escrow;
			}
		});
		let job = JobId(7);
		FundedJobs::<T>::insert(job, Funded { payer: payer.clone(), delegate, period_start });

		let funded;
		#[block]
		{
			funded = Pallet::<T>::job_finished(job, escrow, 0u32.into());
		}

		assert!(funded);
		assert_eq!(
			PayerBudgets::<T>::get(&payer).map(|b| b.balance),
			Some(escrow.saturating_add(escrow))
		);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
