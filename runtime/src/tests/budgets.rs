//! Agent budgets on the real runtime (real job escrow, real balances and holds): a payer's
//! delegate submits jobs paid from the budget, the budget moves by exactly what they cost, and
//! revocation, withdrawal and cancellation mid-job lose nobody anything.

use super::*;
use crate::{Budgets, JobEscrow};
use infera_primitives::JobId;
use pallet_budgets::{Event as BudgetEvent, Limits};
use pallet_job_escrow::{JobStatus, Jobs};

/// A payer of its own (Ferdie already funds the presets' agent budget), endowed by Alice.
fn payer() -> AccountId {
	sp_core::sr25519::Public::from_raw([0xb0; 32]).into()
}

fn endow_payer() {
	assert_ok!(Balances::transfer_keep_alive(
		RuntimeOrigin::signed(alice()),
		payer().into(),
		1_000 * UNITS
	));
}

/// A fresh key with nothing but the existential deposit: an agent that holds no money.
fn agent() -> AccountId {
	let agent: AccountId = sp_core::sr25519::Public::from_raw([0xa6; 32]).into();
	assert_ok!(Balances::transfer_keep_alive(
		RuntimeOrigin::signed(alice()),
		agent.clone().into(),
		crate::EXISTENTIAL_DEPOSIT
	));
	agent
}

fn budget() -> Balance {
	pallet_budgets::PayerBudgets::<Runtime>::get(payer()).map_or(0, |b| b.balance)
}

fn held_for_budget() -> Balance {
	use frame_support::traits::fungible::InspectHold;
	Balances::balance_on_hold(&pallet_budgets::HoldReason::Budget.into(), &payer())
}

fn no_audits() {
	endow_payer();
	pallet_job_escrow::Params::<Runtime>::mutate(|p| p.audit_rate = sp_runtime::Perbill::zero());
	pallet_rewards::Params::<Runtime>::mutate(|p| p.emission_per_epoch = 0);
}

fn submit(
	agent: &AccountId,
	model: infera_primitives::ModelId,
	n: usize,
	max_fee: Balance,
) -> Vec<JobId> {
	assert_ok!(Budgets::submit_jobs(
		RuntimeOrigin::signed(agent.clone()),
		payer(),
		model,
		vec![b"The quick brown fox".to_vec(); n],
		max_fee,
		System::block_number() + 100
	));
	System::events()
		.into_iter()
		.rev()
		.find_map(|r| match r.event {
			RuntimeEvent::Budgets(BudgetEvent::JobsFunded { jobs, .. }) => Some(jobs),
			_ => None,
		})
		.expect("JobsFunded")
}

/// The provider (BobStash) commits and reveals every job's output at once; the jobs run to
/// settlement (audits are off).
fn run_jobs(jobs: &[JobId]) {
	let out = minilm_output();
	for job in jobs {
		let c = commit_and_reveal_plan(*job, &provider(), &out);
		assert_ok!(JobEscrow::commit_result(RuntimeOrigin::signed(provider()), *job, c));
	}
	let decide = jobs.iter().map(|j| Jobs::<Runtime>::get(j).unwrap().wake_at).max().unwrap();
	run_to(decide);
	for job in jobs {
		assert_ok!(JobEscrow::reveal_result(
			RuntimeOrigin::signed(provider()),
			*job,
			out.clone(),
			[9u8; 32]
		));
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Verified);
	}
	let pay = jobs.iter().map(|j| Jobs::<Runtime>::get(j).unwrap().wake_at).max().unwrap();
	run_to(pay);
	for job in jobs {
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Settled);
	}
}

fn limits(per_job: Balance, total: Balance) -> Limits<Balance, u32> {
	Limits { per_job, per_period: total, period: 100, total, expires_at: None }
}

#[test]
fn an_agents_jobs_are_paid_from_the_budget_which_moves_by_exactly_what_they_cost() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		no_audits();
		let model = model_served_by_bob();
		let agent = agent();
		let issuance = Balances::total_issuance();
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(payer()), 100 * UNITS));
		assert_ok!(Budgets::authorize(
			RuntimeOrigin::signed(payer()),
			agent.clone(),
			limits(UNITS, 10 * UNITS)
		));
		let payer_total = Balances::total_balance(&payer());

		let jobs = submit(&agent, model, 3, UNITS);
		assert_eq!(budget(), 97 * UNITS);
		for job in &jobs {
			let j = Jobs::<Runtime>::get(job).unwrap();
			assert_eq!(
				(j.client.clone(), j.status),
				(payer(), JobStatus::Assigned),
				"the payer's job"
			);
		}
		let prices: Balance = jobs.iter().map(|j| Jobs::<Runtime>::get(j).unwrap().price).sum();
		run_jobs(&jobs);
		assert_eq!(budget(), 100 * UNITS - prices, "the budget paid exactly the prices");
		assert_eq!(held_for_budget(), budget());
		assert_eq!(payer_total - Balances::total_balance(&payer()), prices);
		let allowance = pallet_budgets::Allowances::<Runtime>::get(payer(), &agent).unwrap();
		assert_eq!(allowance.spent, prices);
		assert_eq!(
			Balances::total_balance(&agent),
			crate::EXISTENTIAL_DEPOSIT,
			"the agent paid nothing"
		);
		assert_eq!(Balances::total_issuance(), issuance, "tokens moved, none created or destroyed");
		check_invariants();
	});
}

#[test]
fn revoking_or_withdrawing_mid_job_lets_the_job_finish_and_returns_its_change_to_the_budget() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		no_audits();
		let model = model_served_by_bob();
		let agent = agent();
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(payer()), 10 * UNITS));
		assert_ok!(Budgets::authorize(
			RuntimeOrigin::signed(payer()),
			agent.clone(),
			limits(UNITS, 10 * UNITS)
		));
		let jobs = submit(&agent, model, 1, UNITS);
		assert_ok!(Budgets::revoke(RuntimeOrigin::signed(payer()), agent.clone()));
		assert_noop!(
			Budgets::submit_jobs(
				RuntimeOrigin::signed(agent.clone()),
				payer(),
				model,
				vec![b"more".to_vec()],
				UNITS,
				System::block_number() + 100
			),
			pallet_budgets::Error::<Runtime>::NotDelegate
		);
		// The payer takes everything left out; the job still completes and Bob is paid.
		assert_ok!(Budgets::withdraw(RuntimeOrigin::signed(payer()), budget()));
		let price = Jobs::<Runtime>::get(jobs[0]).unwrap().price;
		let bob = Balances::balance(&provider());
		run_jobs(&jobs);
		assert!(Balances::balance(&provider()) > bob, "the provider was paid");
		assert_eq!(budget(), UNITS - price, "the job's change came back into the budget");
		assert_eq!(held_for_budget(), budget());
		check_invariants();
	});
}

#[test]
fn a_payer_cancels_a_budget_job_that_found_no_provider_and_the_budget_gets_the_rest_back() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		no_audits();
		// A model nobody serves: the job waits in the queue.
		let model = register_model(&alice(), 7);
		let agent = agent();
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(payer()), 10 * UNITS));
		assert_ok!(Budgets::authorize(
			RuntimeOrigin::signed(payer()),
			agent.clone(),
			limits(UNITS, 10 * UNITS)
		));
		let jobs = submit(&agent, model, 2, UNITS);
		assert_eq!(Jobs::<Runtime>::get(jobs[0]).unwrap().status, JobStatus::Queued);
		// The agent is not the job's client; the payer is.
		assert!(JobEscrow::cancel_job(RuntimeOrigin::signed(agent.clone()), jobs[0]).is_err());
		assert_ok!(JobEscrow::cancel_job(RuntimeOrigin::signed(payer()), jobs[0]));
		let storage_fee = pallet_job_escrow::Params::<Runtime>::get().storage_fee.min(UNITS);
		assert_eq!(budget(), 9 * UNITS - storage_fee);
		let allowance = pallet_budgets::Allowances::<Runtime>::get(payer(), &agent).unwrap();
		assert_eq!(
			allowance.spent,
			UNITS + storage_fee,
			"the open job's escrow and the cancelled one's cost"
		);
		check_invariants();
	});
}

#[test]
fn an_agents_limits_and_expiry_hold_on_the_real_runtime() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		no_audits();
		// A model nobody serves: the jobs wait in its queue, open, until their deadline.
		let model = register_model(&alice(), 8);
		let agent = agent();
		assert_ok!(Budgets::fund(RuntimeOrigin::signed(payer()), 100 * UNITS));
		let now = System::block_number();
		let limits = Limits {
			per_job: UNITS,
			per_period: 3 * UNITS,
			period: 20,
			total: 4 * UNITS,
			expires_at: Some(now + 30),
		};
		assert_ok!(Budgets::authorize(RuntimeOrigin::signed(payer()), agent.clone(), limits));
		let try_submit = |n: usize, max_fee: Balance| {
			Budgets::submit_jobs(
				RuntimeOrigin::signed(agent.clone()),
				payer(),
				model,
				vec![b"The quick brown fox".to_vec(); n],
				max_fee,
				System::block_number() + 100,
			)
		};
		use pallet_budgets::Error as E;
		assert_noop!(try_submit(1, 2 * UNITS), E::<Runtime>::OverJobLimit);
		// Four jobs of 1 INFR in one call are over the period's 3: none is submitted.
		assert_noop!(try_submit(4, UNITS), E::<Runtime>::OverPeriodLimit);
		assert_ok!(try_submit(3, UNITS));
		assert_noop!(try_submit(1, UNITS), E::<Runtime>::OverPeriodLimit);
		assert_eq!(budget(), 97 * UNITS);
		// A new period, but the three open jobs still count against the total of 4.
		run_to(now + 21);
		assert_eq!(pallet_budgets::FundedJobs::<Runtime>::iter().count(), 3);
		assert_noop!(try_submit(2, UNITS), E::<Runtime>::OverTotalLimit);
		assert_ok!(try_submit(1, UNITS));
		// After its last block the agent submits nothing.
		run_to(now + 31);
		assert_noop!(try_submit(1, UNITS / 10), E::<Runtime>::Expired);
		check_invariants();
	});
}
