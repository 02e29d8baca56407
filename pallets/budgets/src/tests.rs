#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use infera_primitives::JobId;

fn limits(per_job: Balance, per_period: Balance, period: u64, total: Balance) -> LimitsOf<Test> {
	Limits { per_job, per_period, period, total, expires_at: None }
}

fn budget() -> Balance {
	PayerBudgets::<Test>::get(PAYER).map_or(0, |b| b.balance)
}

fn held(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::Budget.into(), &who)
}

fn allowance(delegate: u64) -> AllowanceOf<Test> {
	Allowances::<Test>::get(PAYER, delegate).expect("authorised")
}

/// `delegate` submits `n` jobs of 16-byte inputs for `PAYER`; the ids its `JobsFunded` names.
fn submit(
	delegate: u64,
	n: usize,
	max_fee: Balance,
) -> Result<Vec<JobId>, sp_runtime::DispatchError> {
	Budgets::submit_jobs(
		RuntimeOrigin::signed(delegate),
		PAYER,
		MODEL,
		vec![b"sixteen bytes...".to_vec(); n],
		max_fee,
		100,
	)?;
	System::events()
		.into_iter()
		.rev()
		.find_map(|r| match r.event {
			RuntimeEvent::Budgets(Event::JobsFunded { jobs, .. }) => Some(jobs),
			_ => None,
		})
		.ok_or(sp_runtime::DispatchError::Other("no JobsFunded event"))
}

/// Every token is somewhere: the payer's free and held balance, the open escrow and what the
/// provider was paid, against what the payer started with.
fn assert_conserved(payer_start: Balance, provider_start: Balance) {
	let payer_total = Balances::total_balance(&PAYER);
	let paid = Balances::balance(&PROVIDER) - provider_start;
	assert_eq!(payer_total + open_escrow() + paid, payer_start, "no token created or destroyed");
}

#[test]
fn a_payer_funds_tops_up_and_withdraws_its_budget() {
	build_and_execute(|| {
		let free = Balances::balance(&PAYER);
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(PAYER), 10_000));
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(PAYER), 5_000));
		assert_eq!((budget(), held(PAYER)), (15_000, 15_000));
		assert_eq!(Balances::balance(&PAYER), free - 15_000);
		assert!(System::events().iter().any(|r| r.event
			== RuntimeEvent::Budgets(Event::Funded {
				payer: PAYER,
				amount: 5_000,
				balance: 15_000
			})));

		assert_noop!(
			Budgets::withdraw(RuntimeOrigin::signed(PAYER), 15_001),
			Error::<Test>::InsufficientBudget
		);
		assert_noop!(Budgets::withdraw(RuntimeOrigin::signed(PAYER), 0), Error::<Test>::ZeroAmount);
		// Nobody else can touch it: a stranger's withdraw is from its own (absent) budget.
		assert_noop!(
			Budgets::withdraw(RuntimeOrigin::signed(STRANGER), 1),
			Error::<Test>::NoBudget
		);
		assert_ok!(Budgets::withdraw(RuntimeOrigin::signed(PAYER), 15_000));
		assert_eq!(Balances::balance(&PAYER), free);
		assert!(
			!PayerBudgets::<Test>::contains_key(PAYER),
			"an empty budget without delegates is removed"
		);

		// The account must stay alive: funding all of it is refused, nothing moves.
		assert_noop!(
			Budgets::fund(RuntimeOrigin::signed(STRANGER), 1_000),
			Error::<Test>::InsufficientFunds
		);
		assert_noop!(Budgets::fund(RuntimeOrigin::signed(PAYER), 0), Error::<Test>::ZeroAmount);
	});
}

#[test]
fn a_delegates_jobs_draw_on_the_budget_and_unspent_escrow_returns_to_it() {
	build_and_execute(|| {
		let (payer_start, provider_start) =
			(Balances::total_balance(&PAYER), Balances::balance(&PROVIDER));
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(PAYER), 10_000));
		assert_ok!(Budgets::authorize(
			RuntimeOrigin::signed(PAYER),
			AGENT,
			limits(500, 5_000, 10, 20_000)
		));
		let agent_free = Balances::balance(&AGENT);

		let jobs = submit(AGENT, 3, 400).unwrap();
		assert_eq!(jobs, vec![JobId(0), JobId(1), JobId(2)]);
		assert_eq!(budget(), 10_000 - 1_200);
		assert_eq!(allowance(AGENT).spent, 1_200);
		assert_eq!(Balances::balance(&AGENT), agent_free, "the delegate pays nothing itself");
		assert_conserved(payer_start, provider_start);

		// Each job cost its price (116); the rest of its 400 comes back into the budget and off
		// the delegate's spending.
		for job in &jobs {
			finish_job(*job, 116);
		}
		assert_eq!(budget(), 10_000 - 3 * 116, "the budget moved by exactly what the jobs cost");
		assert_eq!(held(PAYER), budget());
		assert_eq!((allowance(AGENT).spent, allowance(AGENT).spent_in_period), (348, 348));
		assert!(FundedJobs::<Test>::iter().next().is_none());
		assert_conserved(payer_start, provider_start);
	});
}

#[test]
fn limits_per_job_per_period_total_and_expiry_hold_for_batches_too() {
	build_and_execute(|| {
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(PAYER), 50_000));
		let mut l = limits(300, 1_000, 10, 1_600);
		l.expires_at = Some(30);
		assert_ok!(Budgets::authorize(RuntimeOrigin::signed(PAYER), AGENT, l));

		assert_eq!(submit(AGENT, 1, 301), Err(Error::<Test>::OverJobLimit.into()));
		// Four jobs of 300 are 1,200: over the period's 1,000 as one batch; nothing is drawn.
		assert_eq!(submit(AGENT, 4, 300), Err(Error::<Test>::OverPeriodLimit.into()));
		assert_eq!(budget(), 50_000);
		assert_ok!(submit(AGENT, 3, 300));
		assert_eq!(submit(AGENT, 1, 300), Err(Error::<Test>::OverPeriodLimit.into()));

		// The next period (blocks 11–20) starts afresh, up to the total of 1,600.
		run_to(11);
		assert_ok!(submit(AGENT, 2, 300));
		assert_eq!(allowance(AGENT).spent_in_period, 600);
		assert_eq!(submit(AGENT, 1, 300), Err(Error::<Test>::OverTotalLimit.into()));
		// Unspent escrow returning makes room again: 3 jobs of the first period cost nothing
		// (refunded), freeing 900 of the total but not of this period.
		for job in 0..3 {
			finish_job(JobId(job), 0);
		}
		assert_eq!((allowance(AGENT).spent, allowance(AGENT).spent_in_period), (600, 600));
		assert_ok!(submit(AGENT, 1, 300));

		// After its last block the delegate is done.
		run_to(31);
		assert_eq!(submit(AGENT, 1, 100), Err(Error::<Test>::Expired.into()));
	});
}

#[test]
fn a_revoked_delegate_submits_nothing_more_and_its_open_job_still_finishes() {
	build_and_execute(|| {
		let (payer_start, provider_start) =
			(Balances::total_balance(&PAYER), Balances::balance(&PROVIDER));
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(PAYER), 10_000));
		assert_ok!(Budgets::authorize(
			RuntimeOrigin::signed(PAYER),
			AGENT,
			limits(500, 5_000, 10, 5_000)
		));
		let jobs = submit(AGENT, 1, 500).unwrap();
		assert_ok!(Budgets::revoke(RuntimeOrigin::signed(PAYER), AGENT));
		assert_eq!(submit(AGENT, 1, 500), Err(Error::<Test>::NotDelegate.into()));
		assert_noop!(
			Budgets::revoke(RuntimeOrigin::signed(PAYER), AGENT),
			Error::<Test>::NotDelegate
		);

		// The job completes and is paid; its unspent escrow returns to the budget.
		finish_job(jobs[0], 120);
		assert_eq!(budget(), 10_000 - 120);
		assert_eq!(Balances::balance(&PROVIDER), provider_start + 120);
		assert_conserved(payer_start, provider_start);

		// Withdrawn while a job is open: the job's unspent escrow still comes back, into the
		// budget, from which the payer withdraws it too.
		assert_ok!(Budgets::authorize(
			RuntimeOrigin::signed(PAYER),
			OTHER_AGENT,
			limits(500, 5_000, 10, 5_000)
		));
		let open = submit(OTHER_AGENT, 1, 500).unwrap();
		assert_ok!(Budgets::withdraw(RuntimeOrigin::signed(PAYER), budget()));
		finish_job(open[0], 100);
		assert_eq!(budget(), 400);
		assert_ok!(Budgets::withdraw(RuntimeOrigin::signed(PAYER), 400));
		assert_eq!(held(PAYER), 0);
		assert_conserved(payer_start, provider_start);
	});
}

#[test]
fn nobody_draws_on_a_budget_they_were_not_given() {
	build_and_execute(|| {
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(PAYER), 10_000));
		assert_ok!(Budgets::authorize(
			RuntimeOrigin::signed(PAYER),
			AGENT,
			limits(500, 5_000, 10, 5_000)
		));
		// A stranger naming the payer; the payer as its own delegate.
		assert_eq!(submit(STRANGER, 1, 200), Err(Error::<Test>::NotDelegate.into()));
		assert_noop!(
			Budgets::authorize(RuntimeOrigin::signed(PAYER), PAYER, limits(1, 1, 1, 1)),
			Error::<Test>::SelfDelegation
		);
		// A delegate of another payer has no claim on this one.
		assert_ok!(Budgets::authorize(
			RuntimeOrigin::signed(STRANGER),
			OTHER_AGENT,
			limits(500, 500, 1, 500)
		));
		assert_eq!(submit(OTHER_AGENT, 1, 200), Err(Error::<Test>::NotDelegate.into()));
		// More than the budget holds, within the limits: refused, nothing drawn.
		assert_ok!(Budgets::withdraw(RuntimeOrigin::signed(PAYER), 9_800));
		assert_eq!(submit(AGENT, 1, 300), Err(Error::<Test>::InsufficientBudget.into()));
		assert_eq!(budget(), 200);
		// A job the escrow refuses (inactive model) draws nothing either.
		assert_noop!(
			Budgets::submit_jobs(
				RuntimeOrigin::signed(AGENT),
				PAYER,
				INACTIVE,
				vec![b"x".to_vec()],
				150,
				100
			),
			sp_runtime::DispatchError::Other("ModelNotActive")
		);
		assert_noop!(
			Budgets::authorize(RuntimeOrigin::signed(PAYER), OTHER_AGENT, limits(0, 1, 1, 1)),
			Error::<Test>::InvalidLimits
		);
		// The delegate list is bounded.
		for d in [OTHER_AGENT, 5] {
			assert_ok!(Budgets::authorize(RuntimeOrigin::signed(PAYER), d, limits(1, 1, 1, 1)));
		}
		assert_noop!(
			Budgets::authorize(RuntimeOrigin::signed(PAYER), 6, limits(1, 1, 1, 1)),
			Error::<Test>::TooManyDelegates
		);
		// Changing an existing delegate's limits keeps what it spent.
		assert_ok!(submit(AGENT, 1, 150));
		assert_ok!(Budgets::authorize(
			RuntimeOrigin::signed(PAYER),
			AGENT,
			limits(200, 200, 1, 200)
		));
		assert_eq!(allowance(AGENT).spent, 150);
	});
}
