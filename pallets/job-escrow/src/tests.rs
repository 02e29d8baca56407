#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use infera_primitives::{JobId, ModelId};
use sp_core::H256;
use sp_runtime::{DispatchError, Perbill};

const SALT: [u8; 32] = [7u8; 32];
const INPUT: &[u8] = b"hello world"; // price 100 + 11 = 111, stake 20 x 111 = 2_220
const PRICE: Balance = 111;
const STAKE: Balance = 2_220;
const RIGHT: [i16; 4] = [16_384, 16_384, 16_384, 16_384];
/// Within the mock model's tolerance of `RIGHT`.
const CLOSE: [i16; 4] = [16_400, 16_370, 16_384, 16_390];
const WRONG: [i16; 4] = [32_767, 0, 0, 0];

fn set_audit_rate(rate: Perbill) {
	// Straight to storage: a 0 % rate breaks the incentive inequality, which `set_params`
	// (tested separately) refuses; here it only makes the audit decision deterministic.
	Params::<Test>::mutate(|p| p.audit_rate = rate);
}

fn submit(max_fee: Balance) -> JobId {
	let id = NextJobId::<Test>::get();
	let deadline = System::block_number() + 50;
	assert_ok!(JobEscrow::submit_job(
		RuntimeOrigin::signed(CLIENT),
		MODEL,
		INPUT.to_vec(),
		max_fee,
		deadline
	));
	id
}

fn job(id: JobId) -> JobOf<Test> {
	Jobs::<Test>::get(id).expect("job exists")
}

fn provider_of(id: JobId) -> u64 {
	job(id).provider.expect("assigned").who
}

fn checkers_of(id: JobId) -> Vec<u64> {
	job(id).checkers.iter().map(|c| c.who).collect()
}

fn commit(id: JobId, who: u64, out: [i16; 4]) {
	assert_ok!(JobEscrow::commit_result(
		RuntimeOrigin::signed(who),
		id,
		commitment(id, who, &embedding(out), SALT)
	));
}

/// Reveals `out` as `who` (see `reveal_bytes`: the reveal that completes an audit is judged
/// in the next block, which comes).
fn reveal(id: JobId, who: u64, out: [i16; 4]) {
	reveal_bytes(id, who, &embedding(out));
}

/// Wake-up entries of block `n`, over its pages.
fn wakeups_at(n: u64) -> usize {
	WakeupPages::<Test>::iter_prefix(n).map(|(_, page)| page.len()).sum()
}

fn escrow(who: u64) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::JobEscrow(HoldReason::JobEscrow), &who)
}

fn escrow_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::JobEscrow(e) => Some(e),
			_ => None,
		})
		.collect()
}

fn has_event(e: Event<Test>) -> bool {
	escrow_events().contains(&e)
}

// ------------------------------------------------------------------ happy paths

#[test]
fn an_unaudited_job_is_paid_after_the_challenge_window_with_exact_shares() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let issuance = Balances::total_issuance();
		let id = submit(1_000);
		assert_eq!(job(id).status, JobStatus::Assigned);
		assert_eq!((provider_of(id), provider(P1).locked, escrow(CLIENT)), (P1, STAKE, 1_000));
		assert_eq!(job(id).wake_at, 6);
		assert!(has_event(Event::JobAssigned {
			job: id,
			provider: P1,
			stake_locked: STAKE,
			commit_by: 6
		}));
		assert_eq!(open_jobs_of_model(MODEL), 1);

		commit(id, P1, RIGHT);
		// The audit decision takes the next block's randomness: a result readable 2 blocks
		// after the submit's block (commit in the next, reveal in the one after).
		assert_eq!((job(id).status, job(id).wake_at), (JobStatus::Committed, 2));
		run_to(2);
		assert!(has_event(Event::AuditDecided { job: id, audited: false, checkers: vec![] }));
		assert_eq!(job(id).status, JobStatus::Revealing { audited: false });
		reveal(id, P1, RIGHT);
		assert_eq!(job(id).status, JobStatus::Verified);
		assert_eq!(JobEscrow::output(id), Some(embedding(RIGHT)));

		let before = |w| Balances::balance(&w);
		let (client, owner, protocol, p1) =
			(before(CLIENT), before(OWNER), before(PROTOCOL), before(P1));
		run_to(8);
		// 10 % royalty (11), 5 % protocol cut (5), the rest of the price (95) to the provider,
		// the unused 889 back to the client.
		assert!(has_event(Event::JobSettled {
			job: id,
			provider: P1,
			provider_paid: 95,
			royalty: 11,
			protocol: 5,
			refunded: 889,
		}));
		assert_eq!(Balances::balance(&CLIENT), client + 889);
		assert_eq!(Balances::balance(&OWNER), owner + 11);
		assert_eq!(Balances::balance(&PROTOCOL), protocol + 5);
		assert_eq!(Balances::balance(&P1), p1 + 95);
		assert_eq!((escrow(CLIENT), provider(P1).locked, provider(P1).verified), (0, 0, 1));
		// A client-paid job earns its fee, not emission (a client could pay itself).
		assert_eq!(work(P1), 0);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(open_jobs_of_model(MODEL), 0);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(
			(receipt.status, receipt.verdict, receipt.fee_paid),
			(JobStatus::Settled, Verdict::Unaudited, PRICE)
		);
		assert_eq!(receipt.output_hash, Some(H256(sp_io::hashing::blake2_256(&embedding(RIGHT)))));
		// The receipt says what ran: the registered weights and training data.
		assert_eq!(
			(receipt.weights_hash, receipt.dataset_hash),
			(H256(WEIGHTS), Some(H256(DATASET)))
		);

		// After the retention period only the receipt remains.
		run_to(18);
		assert!(Jobs::<Test>::get(id).is_none());
		assert!(Outputs::<Test>::get(id, P1).is_none());
		assert!(Receipts::<Test>::get(id).is_some());
		let finished = receipt.finished_at;
		assert!(has_event(Event::JobPruned { job: id, receipt_expires: finished + 40 }));
		assert_eq!(JobEscrow::jobs_by_client(&CLIENT, None, 10), vec![id]);
		assert_eq!(JobEscrow::jobs_by_provider(&P1, None, 10), vec![id]);

		// After the receipt retention the receipt and its index entries go too: a job's state
		// lives a bounded time.
		run_to(finished + 39);
		assert!(Receipts::<Test>::get(id).is_some());
		run_to(finished + 40);
		assert!(Receipts::<Test>::get(id).is_none());
		assert!(has_event(Event::ReceiptExpired { job: id }));
		assert!(JobEscrow::jobs_by_client(&CLIENT, None, 10).is_empty());
		assert!(JobEscrow::jobs_by_provider(&P1, None, 10).is_empty());
		assert_eq!(WakeupPages::<Test>::iter().count(), 0, "nothing left to wake");
	});
}

#[test]
fn an_audited_job_is_checked_by_a_blind_panel_and_passes() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let panel = checkers_of(id);
		assert_eq!(panel.len(), 3);
		assert!(panel.iter().all(|c| [A1, A2, A3, A4].contains(c)));
		assert!(has_event(Event::AuditDecided { job: id, audited: true, checkers: panel.clone() }));
		assert_eq!(job(id).status, JobStatus::Auditing);
		// Each checker has as much at stake as the provider.
		for &c in &panel {
			assert_eq!(provider(c).locked, STAKE);
		}
		// No output is public while the panel commits: the provider cannot reveal yet.
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), id, embedding(RIGHT), SALT),
			Error::<Test>::NotRevealPhase
		);
		commit(id, panel[0], CLOSE);
		commit(id, panel[1], RIGHT);
		assert_eq!(job(id).status, JobStatus::Auditing);
		commit(id, panel[2], RIGHT);
		assert_eq!(job(id).status, JobStatus::Revealing { audited: true });
		reveal(id, P1, RIGHT);
		for &c in &panel {
			reveal(id, c, if c == panel[0] { CLOSE } else { RIGHT });
		}
		assert!(has_event(Event::AuditJudged {
			job: id,
			for_provider: 3,
			against: 0,
			verdict: Verdict::AuditPassed
		}));
		assert_eq!(job(id).status, JobStatus::Verified);
		for &c in &panel {
			// Audits of client jobs earn no audit points (a client could buy them for a
			// colluding auditor); probes' audits do.
			assert_eq!((audits(c), provider(c).locked), (0, 0));
		}
		let pay_at = job(id).wake_at;
		run_to(pay_at);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!((receipt.verdict, receipt.checkers.to_vec()), (Verdict::AuditPassed, panel));
		assert_eq!(work(P1), 0);
		assert!(slashes().is_empty());
		assert_eq!(AuditStats::<Test>::get(), AuditRecord { drawn: 1, concluded: 1 });
	});
}

#[test]
fn a_wrong_output_is_caught_the_provider_slashed_and_the_client_refunded() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let client = Balances::balance(&CLIENT);
		let id = submit(1_000);
		commit(id, P1, WRONG);
		run_to(3);
		let panel = checkers_of(id);
		for &c in &panel {
			commit(id, c, CLOSE);
		}
		reveal(id, P1, WRONG);
		let reporter_before = Balances::balance(&panel[0]);
		let treasury_before = Balances::balance(&TREASURY);
		for &c in &panel {
			reveal(id, c, CLOSE);
		}
		assert!(has_event(Event::AuditJudged {
			job: id,
			for_provider: 0,
			against: 3,
			verdict: Verdict::AuditFailed
		}));
		assert_eq!(slashes(), vec![(P1, STAKE, Some(panel[0]))]);
		// The slash is real money: a tenth to the checker that reported, the rest to the treasury.
		assert_eq!(Balances::balance(&panel[0]), reporter_before + STAKE / 10);
		assert_eq!(Balances::balance(&TREASURY), treasury_before + STAKE - STAKE / 10);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Fraud });
		assert_eq!((Balances::balance(&CLIENT), escrow(CLIENT)), (client, 0));
		assert_eq!(provider(P1).locked, 0);
		for &c in &panel {
			assert_eq!(provider(c).locked, 0);
		}
		assert_eq!(work(P1), 0);
		assert_eq!(Receipts::<Test>::get(id).unwrap().verdict, Verdict::AuditFailed);
	});
}

#[test]
fn a_false_accusation_costs_the_accuser_its_stake_and_the_provider_is_paid() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let panel = checkers_of(id);
		let liar = panel[2];
		for &c in &panel {
			commit(id, c, if c == liar { WRONG } else { RIGHT });
		}
		reveal(id, P1, RIGHT);
		let liar_bond = provider(liar).bonded;
		let p1_balance = Balances::balance(&P1);
		for &c in &panel {
			reveal(id, c, if c == liar { WRONG } else { RIGHT });
		}
		assert_eq!(slashes(), vec![(liar, STAKE, Some(P1))]);
		assert_eq!(provider(liar).bonded, liar_bond - STAKE);
		// The accused provider gets the reporter's share of the accuser's stake.
		assert_eq!(Balances::balance(&P1), p1_balance + STAKE / 10);
		assert_eq!(audits(liar), 0, "a contradicted vote earns no audit credit");
		assert_eq!(job(id).status, JobStatus::Verified);
		let pay_at = job(id).wake_at;
		run_to(pay_at);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!((receipt.status, receipt.verdict), (JobStatus::Settled, Verdict::AuditPassed));
	});
}

#[test]
fn a_checker_vouching_for_a_wrong_output_is_slashed_with_the_provider() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, WRONG);
		run_to(3);
		let panel = checkers_of(id);
		let accomplice = panel[1];
		for &c in &panel {
			commit(id, c, if c == accomplice { WRONG } else { RIGHT });
		}
		reveal(id, P1, WRONG);
		for &c in &panel {
			reveal(id, c, if c == accomplice { WRONG } else { RIGHT });
		}
		let mut slashed: Vec<u64> = slashes()
			.into_iter()
			.map(|(who, amount, _)| {
				assert_eq!(amount, STAKE);
				who
			})
			.collect();
		slashed.sort();
		let mut expected = vec![P1, accomplice];
		expected.sort();
		assert_eq!(slashed, expected);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Fraud });
	});
}

#[test]
fn without_a_majority_the_result_stands_and_a_withholding_checker_pays() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let panel = checkers_of(id);
		commit(id, panel[0], RIGHT);
		commit(id, panel[1], WRONG);
		commit(id, panel[2], RIGHT);
		reveal(id, P1, RIGHT);
		reveal(id, panel[0], RIGHT);
		reveal(id, panel[1], WRONG);
		// panel[2] committed and withholds its reveal.
		let wake = job(id).wake_at;
		run_to(wake);
		assert!(has_event(Event::AuditJudged {
			job: id,
			for_provider: 1,
			against: 1,
			verdict: Verdict::Undecided
		}));
		// Withholding costs what a contradicted vote costs; the split votes cost nothing.
		assert_eq!(slashes(), vec![(panel[2], STAKE, None)]);
		assert_eq!(provider(panel[2]).locked, 0);
		assert_eq!(job(id).status, JobStatus::Verified);
		let pay_at = job(id).wake_at;
		run_to(pay_at);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!((receipt.status, receipt.verdict), (JobStatus::Settled, Verdict::Undecided));
		// The honest provider is paid, but an unconfirmed job earns no emission.
		assert_eq!(work(P1), 0);
		assert_eq!(AuditStats::<Test>::get(), AuditRecord { drawn: 1, concluded: 0 });
	});
}

#[test]
fn a_silent_checker_is_penalised_and_replaced_inside_the_job_time() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let panel = checkers_of(id);
		let silent = panel[0];
		commit(id, panel[1], RIGHT);
		commit(id, panel[2], RIGHT);
		run_to(8);
		assert_eq!(slashes(), vec![(silent, STAKE / 10, None)]);
		assert_eq!((provider(silent).no_shows, provider(silent).locked), (1, 0));
		let spare = [A1, A2, A3, A4].into_iter().find(|a| !panel.contains(a)).unwrap();
		assert!(has_event(Event::CheckersReplaced { job: id, checkers: vec![spare] }));
		assert_eq!(job(id).status, JobStatus::Auditing);
		assert_eq!(checkers_of(id), vec![panel[1], panel[2], spare]);
		commit(id, spare, CLOSE);
		assert_eq!(job(id).status, JobStatus::Revealing { audited: true });
		reveal(id, P1, RIGHT);
		reveal(id, panel[1], RIGHT);
		reveal(id, panel[2], RIGHT);
		reveal(id, spare, CLOSE);
		assert_eq!(job(id).verdict, Verdict::AuditPassed);
		assert_eq!(audits(silent), 0);
	});
}

#[test]
fn an_audit_nobody_commits_to_ends_undecided_with_every_silent_checker_penalised() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		run_to(8);
		// Three silent, one replacement drawn (the only auditor left), silent too.
		run_to(13);
		assert_eq!(slashes().len(), 4);
		assert!(slashes().iter().all(|(_, amount, _)| *amount == STAKE / 10));
		assert_eq!(job(id).status, JobStatus::Revealing { audited: false });
		reveal(id, P1, RIGHT);
		assert_eq!(job(id).status, JobStatus::Verified);
		assert_eq!(job(id).verdict, Verdict::Undecided);
		assert!([A1, A2, A3, A4].iter().all(|a| provider(*a).locked == 0));
	});
}

#[test]
fn a_model_no_bonded_auditor_checks_is_unverifiable_and_earns_no_emission() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		// The auditors stop declaring the model.
		for a in [A1, A2, A3, A4] {
			PROVIDERS.with(|p| p.borrow_mut().get_mut(&a).unwrap().models.clear());
		}
		assert_eq!(JobEscrow::checkers_for(MODEL, None), 0);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		assert!(has_event(Event::AuditUnavailable { job: id, model: MODEL }));
		assert_eq!(job(id).status, JobStatus::Revealing { audited: false });
		reveal(id, P1, RIGHT);
		let pay_at = job(id).wake_at;
		run_to(pay_at);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!((receipt.status, receipt.verdict), (JobStatus::Settled, Verdict::Unverifiable));
		assert_eq!(work(P1), 0);
	});
}

#[test]
fn a_self_dealer_on_a_model_only_it_checks_earns_no_emission() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		// The provider is also the only auditor declaring the model.
		for a in [A1, A2, A3, A4] {
			PROVIDERS.with(|p| p.borrow_mut().get_mut(&a).unwrap().models.clear());
		}
		add_provider(P1, 10_000);
		assert_ok!(JobEscrow::add_auditor(RuntimeOrigin::root(), P1));
		assert_eq!(JobEscrow::checkers_for(MODEL, None), 1);
		assert_eq!(JobEscrow::checkers_for(MODEL, Some(&P1)), 0);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		reveal(id, P1, RIGHT);
		let pay_at = job(id).wake_at;
		run_to(pay_at);
		assert_eq!(Receipts::<Test>::get(id).unwrap().status, JobStatus::Settled);
		assert_eq!(work(P1), 0);
	});
}

#[test]
fn a_provider_that_does_not_commit_is_penalised_and_the_job_reassigned() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		add_provider(P2, 10_000);
		let id = submit(1_000);
		let first = provider_of(id);
		let second = if first == P1 { P2 } else { P1 };
		run_to(6);
		assert_eq!(slashes(), vec![(first, STAKE / 10, None)]);
		assert_eq!((provider(first).no_shows, provider(first).locked), (1, 0));
		assert_eq!(provider_of(id), second);
		assert_eq!(provider(second).locked, STAKE);
		assert_eq!(job(id).no_shows.to_vec(), vec![first]);
		// The second provider fails too: with one reassignment allowed, the job is refunded.
		run_to(11);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::NoShow });
		assert_eq!((escrow(CLIENT), provider(second).locked, provider(second).no_shows), (0, 0, 1));
	});
}

#[test]
fn withholding_a_committed_result_costs_as_much_as_a_caught_wrong_output() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let client = Balances::balance(&CLIENT);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(8);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Withheld });
		assert_eq!(slashes(), vec![(P1, STAKE, None)]);
		assert_eq!((escrow(CLIENT), provider(P1).locked), (0, 0));
		assert_eq!(Balances::balance(&CLIENT), client);
		assert_eq!(Receipts::<Test>::get(id).unwrap().verdict, Verdict::Withheld);
	});
}

#[test]
fn an_audited_provider_that_withholds_is_slashed_as_a_cheat_and_the_panel_credited() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, WRONG);
		run_to(3);
		// The provider learns it is audited; withholding no longer helps it.
		let panel = checkers_of(id);
		for &c in &panel {
			commit(id, c, RIGHT);
		}
		for &c in &panel {
			reveal(id, c, RIGHT);
		}
		let wake = job(id).wake_at;
		run_to(wake);
		assert_eq!(slashes(), vec![(P1, STAKE, None)]);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Withheld });
		for &c in &panel {
			assert_eq!(provider(c).locked, 0);
		}
		assert_eq!(AuditStats::<Test>::get(), AuditRecord { drawn: 1, concluded: 1 });
	});
}

#[test]
fn the_mock_slashes_like_the_staking_pallet() {
	build_and_execute(|| {
		use infera_primitives::traits::ComputeProviders;
		assert!(MockProviders::slash(&STRANGER, 10, None).is_err());
		add_provider(P1, 100);
		let vault = Balances::balance(&VAULT);
		assert_eq!(MockProviders::slash(&P1, 1_000, None), Ok(100));
		assert_eq!(Balances::balance(&VAULT), vault - 100);
		assert_eq!(MockProviders::slash(&P1, 10, None), Ok(0));
	});
}

#[test]
fn a_queued_job_is_assigned_when_a_provider_appears() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		let id = submit(1_000);
		assert_eq!(job(id).status, JobStatus::Queued);
		assert!(has_event(Event::JobQueued { job: id }));
		assert_eq!(Queues::<Test>::get(MODEL).to_vec(), vec![id]);
		add_provider(P1, 10_000);
		run_to(2);
		assert_eq!((job(id).status, provider_of(id)), (JobStatus::Assigned, P1));
		assert!(Queues::<Test>::get(MODEL).is_empty());
	});
}

/// Issue 15: a job assigned late from the queue must not get a commit window its provider
/// cannot meet. A provider that appears when the job's phases no longer fit before its deadline
/// is not drawn; the job is refunded at its deadline and nobody is slashed.
#[test]
fn a_queued_job_is_not_assigned_once_its_phases_no_longer_fit_before_its_deadline() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		let id = submit(1_000);
		let deadline = job(id).deadline;
		// The last block from which commit, audit decision, commit and reveal windows fit.
		let last = deadline - 17;
		run_to(last + 1);
		add_provider(P1, 10_000);
		let bond = Balances::balance(&VAULT);
		run_to(deadline - 1);
		assert_eq!(job(id).status, JobStatus::Queued, "too late to hand to a provider");
		run_to(deadline);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::NoProvider });
		assert_eq!(escrow(CLIENT), 0);
		assert_eq!(Balances::balance(&VAULT), bond, "nobody was slashed");
		assert!(!System::events()
			.iter()
			.any(|r| matches!(r.event, RuntimeEvent::JobEscrow(Event::PartyMissedWindow { .. }))));
	});
}

/// The same job with a provider appearing one block earlier gets a full commit window.
#[test]
fn a_queued_job_assigned_at_the_last_moment_still_gets_a_full_commit_window() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		let id = submit(1_000);
		let last = job(id).deadline - 17;
		run_to(last - 1);
		add_provider(P1, 10_000);
		run_to(last);
		assert_eq!((job(id).status, provider_of(id)), (JobStatus::Assigned, P1));
		assert_eq!(job(id).wake_at, last + 5, "a full commit window");
	});
}

#[test]
fn a_queued_job_without_providers_is_refunded_at_its_deadline() {
	build_and_execute(|| {
		let id = submit(1_000);
		run_to(51);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::NoProvider });
		assert!(Queues::<Test>::get(MODEL).is_empty());
		assert_eq!(escrow(CLIENT), 0);
	});
}

#[test]
fn a_provider_too_poor_in_free_stake_is_not_assigned() {
	build_and_execute(|| {
		add_provider(P1, STAKE - 1);
		let id = submit(1_000);
		assert_eq!(job(id).status, JobStatus::Queued);
		// The client is never its own provider.
		add_provider(CLIENT, 100_000);
		run_to(2);
		assert_eq!(job(id).status, JobStatus::Queued);
	});
}

#[test]
fn cancel_refunds_in_full_while_queued_and_not_once_a_provider_is_drawn() {
	build_and_execute(|| {
		let client = Balances::balance(&CLIENT);
		let queued = submit(1_000);
		assert_noop!(
			JobEscrow::cancel_job(RuntimeOrigin::signed(STRANGER), queued),
			Error::<Test>::NotClient
		);
		assert_ok!(JobEscrow::cancel_job(RuntimeOrigin::signed(CLIENT), queued));
		assert_eq!(job(queued).status, JobStatus::Refunded { reason: RefundReason::Cancelled });
		assert!(Queues::<Test>::get(MODEL).is_empty());

		// The escrow comes back less the storage fee, which the protocol keeps.
		assert_eq!((Balances::balance(&CLIENT), escrow(CLIENT)), (client - 10, 0));
		assert!(has_event(Event::JobRefunded {
			job: queued,
			reason: RefundReason::Cancelled,
			amount: 990,
			storage_fee: 10
		}));

		// Once the draw has named a provider the client cannot cancel and resubmit to re-roll it.
		add_provider(P1, 10_000);
		let assigned = submit(1_000);
		assert_noop!(
			JobEscrow::cancel_job(RuntimeOrigin::signed(CLIENT), assigned),
			Error::<Test>::TooLateToCancel
		);
		let committed = submit(1_000);
		commit(committed, P1, RIGHT);
		assert_noop!(
			JobEscrow::cancel_job(RuntimeOrigin::signed(CLIENT), committed),
			Error::<Test>::TooLateToCancel
		);
		assert_noop!(
			JobEscrow::cancel_job(RuntimeOrigin::signed(CLIENT), JobId(99)),
			Error::<Test>::JobNotFound
		);
	});
}

// ------------------------------------------------------------------ error paths

#[test]
fn submit_rejects_every_bad_input_and_holds_nothing() {
	build_and_execute(|| {
		let now = System::block_number();
		let sub = |who: u64, model, input: Vec<u8>, fee, deadline| {
			JobEscrow::submit_job(RuntimeOrigin::signed(who), model, input, fee, deadline)
		};
		let ok_input = INPUT.to_vec();
		assert_noop!(
			sub(CLIENT, ModelId(77), ok_input.clone(), 1_000, now + 50),
			Error::<Test>::ModelNotActive
		);
		assert_noop!(
			sub(CLIENT, DEPRECATED, ok_input.clone(), 1_000, now + 50),
			Error::<Test>::ModelNotActive
		);
		assert_noop!(sub(CLIENT, MODEL, vec![], 1_000, now + 50), Error::<Test>::EmptyInput);
		assert_noop!(sub(CLIENT, MODEL, vec![1; 65], 1_000, now + 50), Error::<Test>::InputTooLong);
		// A text model cannot read bytes that are not UTF-8 (a lone continuation byte, a
		// truncated multi-byte character): the client hears it now, and no provider is drawn
		// to fail at it later.
		for bytes in [vec![b'a', 0x80, b'b'], "é".as_bytes()[..1].to_vec(), vec![0xff; 8]] {
			assert_noop!(sub(CLIENT, MODEL, bytes, 1_000, now + 50), Error::<Test>::InputNotText);
		}
		assert_noop!(
			sub(CLIENT, MODEL, ok_input.clone(), PRICE - 1, now + 50),
			Error::<Test>::FeeBelowPrice
		);
		assert_noop!(
			sub(CLIENT, MODEL, ok_input.clone(), 0, now + 50),
			Error::<Test>::FeeBelowPrice
		);
		assert_noop!(
			sub(CLIENT, MODEL, ok_input.clone(), 10_001, now + 50),
			Error::<Test>::FeeTooHigh
		);
		assert_noop!(
			sub(CLIENT, MODEL, ok_input.clone(), u64::MAX, now + 50),
			Error::<Test>::FeeTooHigh
		);
		assert_noop!(
			sub(POOR, MODEL, ok_input.clone(), 1_000, now + 50),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			sub(CLIENT, MODEL, ok_input.clone(), 1_000, now),
			Error::<Test>::DeadlineInPast
		);
		assert_noop!(
			sub(CLIENT, MODEL, ok_input.clone(), 1_000, now + 11),
			Error::<Test>::DeadlineTooSoon
		);
		assert_noop!(
			sub(CLIENT, MODEL, ok_input.clone(), 1_000, now + 101),
			Error::<Test>::DeadlineTooFar
		);
		assert_noop!(
			JobEscrow::submit_job(RuntimeOrigin::none(), MODEL, ok_input, 1_000, now + 50),
			DispatchError::BadOrigin
		);
		assert_eq!(escrow(CLIENT), 0);
	});
}

#[test]
fn submit_fails_cleanly_when_the_queue_or_the_ids_are_full() {
	build_and_execute(|| {
		for _ in 0..4 {
			submit(1_000);
		}
		let now = System::block_number();
		assert_noop!(
			JobEscrow::submit_job(
				RuntimeOrigin::signed(CLIENT),
				MODEL,
				INPUT.to_vec(),
				1_000,
				now + 50
			),
			Error::<Test>::QueueFull
		);
		for id in 0..4u64 {
			assert_ok!(JobEscrow::cancel_job(RuntimeOrigin::signed(CLIENT), JobId(id)));
		}

		NextJobId::<Test>::put(JobId(u64::MAX));
		assert_noop!(
			JobEscrow::submit_job(
				RuntimeOrigin::signed(CLIENT),
				MODEL,
				INPUT.to_vec(),
				1_000,
				now + 50
			),
			Error::<Test>::JobIdsExhausted
		);
		NextJobId::<Test>::put(JobId(10));

		// Pruning wake-ups of the cancelled jobs remain; everything balances.
		assert_eq!(escrow(CLIENT), 0);
	});
}

#[test]
fn commit_is_only_for_the_assigned_party_once_in_its_phase() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		let c = commitment(id, P1, &embedding(RIGHT), SALT);
		assert_noop!(
			JobEscrow::commit_result(RuntimeOrigin::signed(P1), JobId(9), c),
			Error::<Test>::JobNotFound
		);
		assert_noop!(
			JobEscrow::commit_result(RuntimeOrigin::signed(STRANGER), id, c),
			Error::<Test>::NotAssigned
		);
		commit(id, P1, RIGHT);
		// Now `Committed`: the provider is a party, but no commit is due.
		assert_noop!(
			JobEscrow::commit_result(RuntimeOrigin::signed(P1), id, c),
			Error::<Test>::NotCommitPhase
		);
		assert_noop!(
			JobEscrow::commit_result(RuntimeOrigin::signed(STRANGER), id, c),
			Error::<Test>::NotAssigned
		);
	});
}

#[test]
fn a_party_cannot_commit_twice() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, WRONG);
		run_to(3);
		let member = checkers_of(id)[0];
		commit(id, member, RIGHT);
		assert_noop!(
			JobEscrow::commit_result(
				RuntimeOrigin::signed(member),
				id,
				commitment(id, member, &embedding(WRONG), SALT)
			),
			Error::<Test>::AlreadyCommitted
		);
	});
}

#[test]
fn reveal_checks_phase_party_commitment_size_and_format() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), id, embedding(RIGHT), SALT),
			Error::<Test>::NotRevealPhase
		);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(STRANGER), id, embedding(RIGHT), SALT),
			Error::<Test>::NotAssigned
		);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), JobId(9), embedding(RIGHT), SALT),
			Error::<Test>::JobNotFound
		);
		commit(id, P1, RIGHT);
		run_to(3);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(STRANGER), id, embedding(RIGHT), SALT),
			Error::<Test>::NotAssigned
		);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), id, embedding(CLOSE), SALT),
			Error::<Test>::CommitmentMismatch
		);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), id, embedding(RIGHT), [8u8; 32]),
			Error::<Test>::CommitmentMismatch
		);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), id, vec![0; 257], SALT),
			Error::<Test>::OutputTooLong
		);
		reveal(id, P1, RIGHT);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), id, embedding(RIGHT), SALT),
			Error::<Test>::NotRevealPhase
		);
	});
}

#[test]
fn a_malformed_output_and_a_second_reveal_are_refused() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		// Three dimensions where the model has four: committed, but not a canonical output.
		let short = infera_primitives::canonical::CanonicalOutput::Embedding(vec![1, 2, 3]);
		let short = codec::Encode::encode(&short);
		assert_ok!(JobEscrow::commit_result(
			RuntimeOrigin::signed(P1),
			id,
			commitment(id, P1, &short, SALT)
		));
		run_to(3);
		let panel = checkers_of(id);
		for &c in &panel {
			commit(id, c, RIGHT);
		}
		let auditor = panel[0];
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), id, short, SALT),
			Error::<Test>::MalformedOutput
		);
		reveal(id, auditor, RIGHT);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(auditor), id, embedding(RIGHT), SALT),
			Error::<Test>::AlreadyRevealed
		);
	});
}

#[test]
fn params_are_governance_only_and_must_keep_honesty_profitable() {
	build_and_execute(|| {
		let p = DefaultParams::get();
		assert_noop!(
			JobEscrow::set_params(RuntimeOrigin::signed(CLIENT), p),
			DispatchError::BadOrigin
		);
		for bad in [
			JobParams { commit_window: 0, ..p },
			JobParams { committee_size: 0, ..p },
			JobParams { committee_size: 4, ..p },
			JobParams { max_reassignments: 3, ..p },
			JobParams { max_fee: 99, ..p },
			JobParams { max_deadline: 11, ..p },
			JobParams { collateral_ratio: 0, ..p },
		] {
			assert_noop!(
				JobEscrow::set_params(RuntimeOrigin::root(), bad),
				Error::<Test>::InvalidParams
			);
		}
		// 4 % audits with 20x collateral: 0.04 · 21 = 0.84 < 1, skipping work would pay.
		let lax = JobParams { audit_rate: Perbill::from_percent(4), ..p };
		assert_noop!(
			JobEscrow::set_params(RuntimeOrigin::root(), lax),
			Error::<Test>::BreaksIncentiveInequality
		);
		let half_slash = JobParams { fraud_slash: Perbill::from_percent(50), ..p };
		assert_noop!(
			JobEscrow::set_params(RuntimeOrigin::root(), half_slash),
			Error::<Test>::BreaksIncentiveInequality
		);
		// A no-show must cost something, and never more than committing junk and withholding.
		for bad in [
			JobParams { no_show_slash: Perbill::zero(), ..p },
			JobParams {
				collateral_ratio: 100,
				fraud_slash: Perbill::from_percent(50),
				no_show_slash: Perbill::from_percent(60),
				..p
			},
			JobParams { collateral_ratio: 100, fraud_slash: Perbill::from_percent(5), ..p },
		] {
			assert_noop!(
				JobEscrow::set_params(RuntimeOrigin::root(), bad),
				Error::<Test>::BreaksIncentiveInequality
			);
		}
		// Raising the collateral restores it: 0.04 · 26 = 1.04.
		let fixed = JobParams { collateral_ratio: 25, ..lax };
		assert_ok!(JobEscrow::set_params(RuntimeOrigin::root(), fixed));
		assert!(has_event(Event::ParamsUpdated { params: fixed }));
		assert_eq!(Params::<Test>::get(), fixed);
		// The check uses the *effective* audit probability: when only 80 % of drawn audits
		// reach a verdict, 0.04 · 0.8 · 26 = 0.83 < 1 and the same parameters are refused.
		AuditStats::<Test>::put(AuditRecord { drawn: 1_000, concluded: 800 });
		assert_noop!(
			JobEscrow::set_params(RuntimeOrigin::root(), fixed),
			Error::<Test>::BreaksIncentiveInequality
		);
		assert_ok!(JobEscrow::set_params(
			RuntimeOrigin::root(),
			JobParams { collateral_ratio: 32, ..fixed }
		));
		// Fewer than `MIN_AUDITS_MEASURED` audits measure nothing yet.
		AuditStats::<Test>::put(AuditRecord { drawn: 99, concluded: 0 });
		assert_ok!(JobEscrow::set_params(RuntimeOrigin::root(), fixed));
	});
}

#[test]
fn auditors_are_managed_by_governance() {
	build_and_execute(|| {
		assert_noop!(
			JobEscrow::add_auditor(RuntimeOrigin::signed(A1), A5),
			DispatchError::BadOrigin
		);
		assert_noop!(
			JobEscrow::add_auditor(RuntimeOrigin::root(), A1),
			Error::<Test>::AlreadyAuditor
		);
		assert_noop!(
			JobEscrow::remove_auditor(RuntimeOrigin::root(), A5),
			Error::<Test>::NotAuditor
		);
		assert_ok!(JobEscrow::add_auditor(RuntimeOrigin::root(), A5));
		assert_ok!(JobEscrow::add_auditor(RuntimeOrigin::root(), STRANGER));
		assert_eq!(Auditors::<Test>::get().to_vec(), vec![A1, A2, A3, A4, A5, STRANGER]);
		assert_noop!(
			JobEscrow::add_auditor(RuntimeOrigin::root(), OWNER),
			Error::<Test>::TooManyAuditors
		);
		assert_ok!(JobEscrow::remove_auditor(RuntimeOrigin::root(), A3));
		assert!(has_event(Event::AuditorRemoved { who: A3 }));
		assert_eq!(Auditors::<Test>::get().to_vec(), vec![A1, A2, A4, A5, STRANGER]);
	});
}

#[test]
fn audits_happen_at_about_the_configured_rate() {
	build_and_execute(|| {
		add_provider(P1, 10_000_000);
		Params::<Test>::mutate(|p| p.audit_rate = Perbill::from_percent(25));
		let mut audited = 0;
		for round in 0..200u64 {
			RANDOM_SALT.with(|s| *s.borrow_mut() = round);
			let id = submit(1_000);
			commit(id, P1, RIGHT);
			run_to(System::block_number() + 2);
			if !job(id).checkers.is_empty() {
				audited += 1;
			}
			assert_ok!(JobEscrow::do_try_state());
		}
		// Binomial(200, 0.25): mean 50, σ ≈ 6.1; 25..75 is beyond four σ.
		assert!((25..=75).contains(&audited), "{audited} of 200 audited");
	});
}

// ------------------------------------------------------------------ client challenges

/// A verified, unaudited job of `P1` with output `out`, in its challenge window.
fn verified_unaudited(out: [i16; 4]) -> JobId {
	set_audit_rate(Perbill::zero());
	let id = submit(1_000);
	commit(id, P1, out);
	run_to(System::block_number() + 2);
	reveal(id, P1, out);
	assert_eq!((job(id).status, job(id).verdict), (JobStatus::Verified, Verdict::Unaudited));
	id
}

#[test]
fn a_client_challenge_catches_a_wrong_output_and_refunds_everything() {
	build_and_execute(|| {
		add_provider(P1, 10_000);
		let client = Balances::balance(&CLIENT);
		let id = verified_unaudited(WRONG);
		let bond = JobEscrow::challenge_bond_for(PRICE);
		assert_eq!(bond, 3 * PRICE);
		assert_ok!(JobEscrow::challenge_job(RuntimeOrigin::signed(CLIENT), id));
		assert_eq!(escrow(CLIENT), 1_000 + bond);
		assert_eq!(job(id).status, JobStatus::Auditing);
		let panel = checkers_of(id);
		assert!(has_event(Event::JobChallenged { job: id, bond, checkers: panel.clone() }));
		for &c in &panel {
			commit(id, c, RIGHT);
		}
		// The provider revealed already: only the panel reveals.
		for &c in &panel {
			reveal(id, c, RIGHT);
		}
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Fraud });
		assert_eq!(slashes(), vec![(P1, STAKE, Some(panel[0]))]);
		assert_eq!((Balances::balance(&CLIENT), escrow(CLIENT)), (client, 0));
		// Client-demanded audits do not count towards the random audits' reliability.
		assert_eq!(AuditStats::<Test>::get(), AuditRecord::default());
	});
}

#[test]
fn a_challenge_of_a_right_output_pays_the_provider_and_the_bond_pays_the_panel() {
	build_and_execute(|| {
		add_provider(P1, 10_000);
		let id = verified_unaudited(RIGHT);
		let client = Balances::balance(&CLIENT);
		assert_ok!(JobEscrow::challenge_job(RuntimeOrigin::signed(CLIENT), id));
		let panel = checkers_of(id);
		let before: Vec<Balance> = panel.iter().map(Balances::balance).collect();
		for &c in &panel {
			commit(id, c, CLOSE);
		}
		for &c in &panel {
			reveal(id, c, CLOSE);
		}
		assert_eq!(job(id).verdict, Verdict::AuditPassed);
		for (c, b) in panel.iter().zip(before) {
			assert_eq!(Balances::balance(c), b + PRICE, "each checker is paid one price");
		}
		assert!(has_event(Event::ChallengeBondPaid {
			job: id,
			to_checkers: 3 * PRICE,
			returned: 0
		}));
		let pay_at = job(id).wake_at;
		run_to(pay_at);
		assert_eq!(Receipts::<Test>::get(id).unwrap().status, JobStatus::Settled);
		// The client paid the price and the bond, and got the unused escrow back.
		assert_eq!(Balances::balance(&CLIENT), client - PRICE - 3 * PRICE + 1_000);
		assert_eq!(escrow(CLIENT), 0);
		// One challenge per job.
		assert_noop!(
			JobEscrow::challenge_job(RuntimeOrigin::signed(CLIENT), id),
			Error::<Test>::NotChallengeable
		);
	});
}

#[test]
fn a_challenge_nobody_answers_returns_the_bond() {
	build_and_execute(|| {
		add_provider(P1, 10_000);
		let id = verified_unaudited(RIGHT);
		let client = Balances::balance(&CLIENT);
		assert_ok!(JobEscrow::challenge_job(RuntimeOrigin::signed(CLIENT), id));
		// Every checker and the replacement stay silent.
		for _ in 0..30 {
			run_to(System::block_number() + 1);
			if job(id).status == JobStatus::Verified {
				break;
			}
		}
		assert_eq!((job(id).status, job(id).verdict), (JobStatus::Verified, Verdict::Undecided));
		assert_eq!((Balances::balance(&CLIENT), escrow(CLIENT)), (client, 1_000));
		assert!(has_event(Event::ChallengeBondPaid {
			job: id,
			to_checkers: 0,
			returned: 3 * PRICE
		}));
	});
}

#[test]
fn a_challenge_is_refused_when_it_cannot_be_made() {
	build_and_execute(|| {
		add_provider(P1, 10_000);
		set_audit_rate(Perbill::zero());
		let id = submit(1_000);
		assert_noop!(
			JobEscrow::challenge_job(RuntimeOrigin::signed(CLIENT), id),
			Error::<Test>::NotChallengeable
		);
		let id = verified_unaudited(RIGHT);
		assert_noop!(
			JobEscrow::challenge_job(RuntimeOrigin::signed(STRANGER), id),
			Error::<Test>::NotClient
		);
		assert_noop!(
			JobEscrow::challenge_job(RuntimeOrigin::signed(CLIENT), JobId(77)),
			Error::<Test>::JobNotFound
		);
		// Nobody checks the model any more.
		for a in [A1, A2, A3, A4] {
			PROVIDERS.with(|p| p.borrow_mut().get_mut(&a).unwrap().models.clear());
		}
		assert_noop!(
			JobEscrow::challenge_job(RuntimeOrigin::signed(CLIENT), id),
			Error::<Test>::NoCheckers
		);
	});
}

// ------------------------------------------------------------------ probes

#[test]
fn probes_are_issued_on_schedule_always_audited_and_paid_in_emission_only() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		Params::<Test>::mutate(|p| p.probe_interval = 5);
		let balances = |who: &[u64]| who.iter().map(Balances::balance).collect::<Vec<_>>();
		let watched = [CLIENT, P1, OWNER, PROTOCOL, A1, A2, A3, A4];
		let before = balances(&watched);
		let id = NextJobId::<Test>::get();
		run_to(5);
		assert!(has_event(Event::ProbeIssued { job: id, model: MODEL }));
		let probe = job(id);
		assert!(probe.probe);
		assert_eq!((probe.client, probe.max_fee, probe.price), (PROTOCOL, 0, 0));
		assert_eq!(probe.stake, 20 * 100, "a probe locks the stake of the cheapest job");
		assert!(!probe.input.is_empty() && core::str::from_utf8(&probe.input).is_ok());
		commit(id, P1, RIGHT);
		run_to(7);
		// Audited although the audit rate is zero.
		let panel = checkers_of(id);
		assert_eq!(panel.len(), 3);
		for &c in &panel {
			commit(id, c, RIGHT);
		}
		reveal(id, P1, RIGHT);
		for &c in &panel {
			reveal(id, c, RIGHT);
		}
		let pay_at = job(id).wake_at;
		run_to(pay_at);
		assert_eq!(Receipts::<Test>::get(id).unwrap().verdict, Verdict::AuditPassed);
		// One work point for the provider and an audit point for each checker; no money moved.
		assert_eq!(work(P1), 1);
		for &c in &panel {
			assert_eq!(audits(c), 1);
		}
		assert_eq!(balances(&watched), before);
		assert_eq!(
			JobEscrow::jobs_by_client(&PROTOCOL, None, 10),
			vec![],
			"probes are not indexed"
		);
		// Not every block: the next probe comes five blocks after the last.
		assert_eq!(NextJobId::<Test>::get(), JobId(id.0 + 1 + (pay_at / 5 - 1)));
	});
}

#[test]
fn a_wrong_answer_to_a_probe_is_slashed_and_earns_nothing() {
	build_and_execute(|| {
		add_provider(P1, 10_000);
		Params::<Test>::mutate(|p| p.probe_interval = 5);
		let id = NextJobId::<Test>::get();
		run_to(5);
		Params::<Test>::mutate(|p| p.probe_interval = 0);
		commit(id, P1, WRONG);
		run_to(7);
		let panel = checkers_of(id);
		for &c in &panel {
			commit(id, c, RIGHT);
		}
		reveal(id, P1, WRONG);
		for &c in &panel {
			reveal(id, c, RIGHT);
		}
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Fraud });
		assert_eq!(slashes(), vec![(P1, 2_000, Some(panel[0]))]);
		assert_eq!(work(P1), 0);
		for &c in &panel {
			assert_eq!(audits(c), 1);
		}
	});
}

#[test]
fn probe_models_are_set_by_governance_and_checked() {
	build_and_execute(|| {
		let list = |m: Vec<ModelId>| ProbeModelsList::truncate_from(m);
		assert_noop!(
			JobEscrow::set_probe_models(RuntimeOrigin::signed(CLIENT), list(vec![MODEL])),
			DispatchError::BadOrigin
		);
		assert_noop!(
			JobEscrow::set_probe_models(RuntimeOrigin::root(), list(vec![DEPRECATED])),
			Error::<Test>::ModelNotActive
		);
		assert_noop!(
			JobEscrow::set_probe_models(RuntimeOrigin::root(), list(vec![MODEL, MODEL])),
			Error::<Test>::DuplicateModel
		);
		assert_ok!(JobEscrow::set_probe_models(RuntimeOrigin::root(), list(vec![])));
		assert!(has_event(Event::ProbeModelsSet { models: vec![] }));
		// Without models no probe is issued.
		Params::<Test>::mutate(|p| p.probe_interval = 1);
		let id = NextJobId::<Test>::get();
		add_provider(P1, 10_000);
		run_to(4);
		assert_eq!(NextJobId::<Test>::get(), id);
	});
}

/// Issue 15: more phases ending in one block than the hook handles per block (8 in the mock)
/// are carried over, oldest block first; no live job is refunded for lack of room, each is woken
/// once, and every one settles.
#[test]
fn wake_ups_beyond_a_block_s_budget_are_carried_over_and_no_live_job_is_refunded() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 1_000_000);
		let ids: Vec<JobId> = (0..20).map(|_| submit(1_000)).collect();
		for id in ids.iter() {
			commit(*id, P1, RIGHT);
		}
		// All twenty audit decisions fall due in block 2.
		assert_eq!(wakeups_at(2), 20);
		run_to(2);
		let revealing = || {
			ids.iter().filter(|id| matches!(job(**id).status, JobStatus::Revealing { .. })).count()
		};
		assert_eq!((revealing(), WakeCursor::<Test>::get()), (8, 2), "8 handled, the rest wait");
		run_to(3);
		assert_eq!((revealing(), WakeCursor::<Test>::get()), (16, 2));
		run_to(4);
		assert_eq!(revealing(), 20);
		assert!(WakeCursor::<Test>::get() > 2, "block 2 is done");
		let decided =
			escrow_events().iter().filter(|e| matches!(e, Event::AuditDecided { .. })).count();
		assert_eq!(decided, 20, "each job woken exactly once");
		for id in ids.iter() {
			reveal(*id, P1, RIGHT);
		}
		run_to(12);
		for id in ids.iter() {
			assert_eq!(job(*id).status, JobStatus::Settled);
		}
		assert!(!escrow_events().iter().any(|e| matches!(e, Event::JobRefunded { .. })));
	});
}

/// A crowded block is no lever against other jobs: the pruning wake-ups of 30 submitted and
/// cancelled jobs fill the block a verified job is paid in; its payment comes a few blocks late,
/// never as a refund.
#[test]
fn submit_and_cancel_traffic_cannot_black_out_a_window() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		// Queued (no provider yet) and cancelled at block 1: pruned at block 11.
		for _ in 0..30 {
			let id = submit(1_000);
			assert_ok!(JobEscrow::cancel_job(RuntimeOrigin::signed(CLIENT), id));
		}
		assert_eq!(wakeups_at(11), 30);
		add_provider(P1, 1_000_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(6);
		reveal(id, P1, RIGHT);
		assert_eq!(job(id).wake_at, 11, "paid in the crowded block");
		run_to(11);
		run_to(15);
		assert_eq!(job(id).status, JobStatus::Settled, "paid, late at most, never refunded");
		assert_eq!(wakeups_at(11), 0);
	});
}

/// Pages of a client's jobs come in id order from any id, reading only the page.
#[test]
fn a_client_s_jobs_page_in_id_order() {
	build_and_execute(|| {
		add_provider(P1, 1_000_000);
		let ids: Vec<JobId> = (0..12).map(|_| submit(1_000)).collect();
		assert_eq!(JobEscrow::jobs_by_client(&CLIENT, None, 5), ids[..5].to_vec());
		assert_eq!(JobEscrow::jobs_by_client(&CLIENT, Some(ids[4]), 5), ids[5..10].to_vec());
		assert_eq!(JobEscrow::jobs_by_client(&CLIENT, Some(ids[9]), 5), ids[10..].to_vec());
		assert!(JobEscrow::jobs_by_client(&CLIENT, Some(ids[11]), 5).is_empty());
		assert!(JobEscrow::jobs_by_client(&STRANGER, None, 5).is_empty());
		assert_eq!(JobEscrow::jobs_by_provider(&P1, Some(ids[7]), 100), ids[8..].to_vec());
	});
}

fn refused() -> Vec<u8> {
	use codec::Encode;
	infera_primitives::canonical::CanonicalOutput::Refused(
		infera_primitives::canonical::Refusal::InputUnreadable,
	)
	.encode()
}

fn commit_bytes(id: JobId, who: u64, out: &[u8]) {
	assert_ok!(JobEscrow::commit_result(
		RuntimeOrigin::signed(who),
		id,
		commitment(id, who, out, SALT)
	));
}

/// Reveals `out` as `who`, moving on to the next block when the reveal left a judgement (or a
/// refusal's panel) to its hook (see `reveal`).
fn reveal_bytes(id: JobId, who: u64, out: &[u8]) {
	let info = JobEscrow::reveal_result(RuntimeOrigin::signed(who), id, out.to_vec(), SALT);
	assert_ok!(info);
	let deferred = <Test as crate::Config>::WeightInfo::reveal_result();
	if info.ok().and_then(|i| i.actual_weight) == Some(deferred) {
		run_to(System::block_number() + 1);
	}
}

/// Issue 15: an unaudited job whose provider reveals "could not run" gets an audit panel.
/// The panel cannot run it either: the claim stands, the client pays the price for the attempt
/// and nobody is slashed.
#[test]
fn a_refusal_the_panel_confirms_is_paid_by_the_client_and_costs_the_provider_nothing() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let client = Balances::balance(&CLIENT);
		let id = submit(1_000);
		commit_bytes(id, P1, &refused());
		run_to(2);
		assert_eq!(job(id).status, JobStatus::Revealing { audited: false });
		reveal_bytes(id, P1, &refused());
		let panel = checkers_of(id);
		assert_eq!(panel.len(), 3);
		assert!(has_event(Event::RefusalAudited {
			job: id,
			reason: infera_primitives::canonical::Refusal::InputUnreadable,
			checkers: panel.clone()
		}));
		assert_eq!(job(id).status, JobStatus::Auditing);
		for &c in &panel {
			commit_bytes(id, c, &refused());
		}
		for &c in &panel {
			reveal_bytes(id, c, &refused());
		}
		assert_eq!((job(id).status, job(id).verdict), (JobStatus::Verified, Verdict::AuditPassed));
		run_to(job(id).wake_at);
		assert_eq!(job(id).status, JobStatus::Settled);
		assert!(slashes().is_empty(), "nobody is slashed for a true refusal");
		assert_eq!(Balances::balance(&CLIENT), client - 111, "the client paid the price");
		assert_eq!(AuditStats::<Test>::get(), AuditRecord { drawn: 1, concluded: 1 });
	});
}

/// A provider that claims "could not run" to skip the work is contradicted by the panel that
/// ran the input and slashed as for a wrong output; the client gets everything back.
#[test]
fn a_false_refusal_is_caught_by_the_panel_and_slashed_as_fraud() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let client = Balances::balance(&CLIENT);
		let id = submit(1_000);
		commit_bytes(id, P1, &refused());
		run_to(2);
		reveal_bytes(id, P1, &refused());
		let panel = checkers_of(id);
		for &c in &panel {
			commit(id, c, RIGHT);
		}
		for &c in &panel {
			reveal(id, c, RIGHT);
		}
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Fraud });
		assert_eq!(slashes().first().map(|s| (s.0, s.1)), Some((P1, STAKE)));
		assert_eq!((Balances::balance(&CLIENT), escrow(CLIENT)), (client, 0));
	});
}

/// With nobody to check a refusal the job ends without a result: the provider is neither paid
/// nor slashed and the client keeps all but the storage fee.
#[test]
fn a_refusal_nobody_can_check_ends_the_job_without_a_result() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		for a in [A1, A2, A3, A4] {
			assert_ok!(JobEscrow::remove_auditor(RuntimeOrigin::root(), a));
		}
		let client = Balances::balance(&CLIENT);
		let id = submit(1_000);
		commit_bytes(id, P1, &refused());
		run_to(2);
		reveal_bytes(id, P1, &refused());
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Unrunnable });
		assert!(slashes().is_empty());
		assert_eq!(Balances::balance(&CLIENT), client - 10, "only the storage fee");
		assert_eq!(provider(P1).locked, 0);
	});
}

/// A reveal that judges nothing is charged what such a reveal costs; one that draws a panel (a
/// refusal) or judges an audit keeps the full charge.
#[test]
fn a_reveal_is_charged_for_the_path_it_took() {
	build_and_execute(|| {
		use crate::WeightInfo as _;
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let plain = submit(1_000);
		let refusing = submit(1_000);
		commit(plain, P1, RIGHT);
		commit_bytes(refusing, P1, &refused());
		run_to(2);
		let info =
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), plain, embedding(RIGHT), SALT)
				.unwrap();
		assert_eq!(
			info.actual_weight,
			Some(<Test as crate::Config>::WeightInfo::reveal_result_unaudited())
		);
		let info =
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), refusing, refused(), SALT).unwrap();
		assert_eq!(
			info.actual_weight,
			Some(<Test as crate::Config>::WeightInfo::reveal_result()),
			"a refusal's panel is drawn by the next block's hook"
		);
		assert_eq!(job(refusing).status, JobStatus::Revealing { audited: false });
		run_to(System::block_number() + 1);
		assert_eq!(job(refusing).status, JobStatus::Auditing);
	});
}

#[test]
fn submit_jobs_opens_one_job_per_input_under_one_hold_or_none_at_all() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 100_000);
		let deadline = System::block_number() + 50;
		let first = NextJobId::<Test>::get();
		let inputs = vec![b"one".to_vec(), b"a longer second input".to_vec(), INPUT.to_vec()];
		let free = Balances::balance(&CLIENT);
		assert_ok!(JobEscrow::submit_jobs(
			RuntimeOrigin::signed(CLIENT),
			MODEL,
			inputs.clone(),
			500,
			deadline
		));
		assert_eq!(escrow(CLIENT), 1_500, "3 × max_fee, held once");
		assert_eq!(Balances::balance(&CLIENT), free - 1_500);
		for (i, input) in inputs.iter().enumerate() {
			let j = job(JobId(first.0 + i as u64));
			assert_eq!(
				(j.status, j.input.to_vec(), j.max_fee),
				(JobStatus::Assigned, input.clone(), 500)
			);
			// Each job is priced for its own input.
			assert_eq!(j.price, 100 + input.len() as Balance);
		}
		assert_eq!(NextJobId::<Test>::get(), JobId(first.0 + 3));

		// One bad input, or too many, or none: nothing is held, no job opens.
		let before = (NextJobId::<Test>::get(), escrow(CLIENT), Balances::balance(&CLIENT));
		for (inputs, max_fee, error) in [
			(vec![b"fine".to_vec(), Vec::new()], 500, Error::<Test>::EmptyInput),
			(vec![b"fine".to_vec(), vec![0xff, 0xfe]], 500, Error::<Test>::InputNotText),
			(vec![b"fine".to_vec(), vec![b'x'; 65]], 500, Error::<Test>::InputTooLong),
			(vec![b"fine".to_vec(); 9], 500, Error::<Test>::TooManyInputs),
			(Vec::new(), 500, Error::<Test>::NoInputs),
			// 104 covers "fine" (100 + 4) but not a 20-byte input (120).
			(vec![b"fine".to_vec(), vec![b'x'; 20]], 110, Error::<Test>::FeeBelowPrice),
		] {
			assert_noop!(
				JobEscrow::submit_jobs(
					RuntimeOrigin::signed(CLIENT),
					MODEL,
					inputs,
					max_fee,
					deadline
				),
				error
			);
		}
		// An account that cannot hold all of the escrow gets none of the jobs.
		assert_noop!(
			JobEscrow::submit_jobs(
				RuntimeOrigin::signed(POOR),
				MODEL,
				vec![INPUT.to_vec(); 8],
				1_000,
				deadline
			),
			Error::<Test>::InsufficientBalance
		);
		assert_eq!(before, (NextJobId::<Test>::get(), escrow(CLIENT), Balances::balance(&CLIENT)));
	});
}

/// Runs the hook of every block up to `n` and returns what block `n`'s hook charged.
fn hook_weight_at(n: u64) -> frame_support::weights::Weight {
	use frame_support::traits::Hooks;
	run_to(n - 1);
	System::set_block_number(n);
	let weight = JobEscrow::on_initialize(n);
	JobEscrow::do_try_state().expect("escrow invariants hold");
	weight
}

/// What a hook that made only `visit` (one job, one wake-up list read) charges.
fn one_visit(visit: frame_support::weights::Weight) -> frame_support::weights::Weight {
	use frame_support::traits::Get;
	let db: frame_support::weights::RuntimeDbWeight =
		<<Test as frame_system::Config>::DbWeight as Get<_>>::get();
	db.reads_writes(4, 1).saturating_add(visit)
}

#[test]
fn each_hook_visit_of_a_job_is_charged_its_own_benchmark_not_a_payment() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		let settle = <() as WeightInfo>::on_initialize_settle(1);
		// The audit decision that drew nothing: far below a payment.
		let decide = job(id).wake_at;
		assert_eq!(hook_weight_at(decide), one_visit(<() as WeightInfo>::on_initialize_decide(1)));
		assert!(<() as WeightInfo>::on_initialize_decide(1).ref_time() < settle.ref_time());
		reveal(id, P1, RIGHT);
		// The payment.
		let pay = job(id).wake_at;
		assert_eq!(hook_weight_at(pay), one_visit(settle));
		assert_eq!(job(id).status, JobStatus::Settled);
		// Pruning a job with one output and nobody that failed it.
		let prune = job(id).wake_at;
		assert_eq!(hook_weight_at(prune), one_visit(<() as WeightInfo>::on_initialize_prune(1)));
		assert!(Jobs::<Test>::get(id).is_none());
		// The receipt's expiry.
		let expire = Receipts::<Test>::get(id).unwrap().finished_at + 40;
		assert_eq!(hook_weight_at(expire), one_visit(<() as WeightInfo>::on_initialize_expire(1)));
		assert!(Receipts::<Test>::get(id).is_none());
	});
}

#[test]
fn pruning_an_audited_job_or_one_a_provider_failed_is_charged_the_full_prune() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let panel = checkers_of(id);
		for &c in &panel {
			commit(id, c, RIGHT);
		}
		reveal(id, P1, RIGHT);
		for &c in &panel {
			reveal(id, c, RIGHT);
		}
		let pay = job(id).wake_at;
		run_to(pay);
		let prune = job(id).wake_at;
		let full = <() as WeightInfo>::on_initialize_prune_full(1);
		assert_eq!(hook_weight_at(prune), one_visit(full));
		assert!(<() as WeightInfo>::on_initialize_prune(1).ref_time() < full.ref_time());
		assert_eq!(Outputs::<Test>::iter_prefix(id).count(), 0);
	});
}

#[test]
fn payments_that_touch_an_earlier_payments_provider_and_model_are_charged_the_shared_benchmark() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let jobs = [submit(1_000), submit(1_000), submit(1_000)];
		for id in jobs {
			commit(id, P1, RIGHT);
		}
		run_to(job(jobs[0]).wake_at);
		for id in jobs {
			reveal(id, P1, RIGHT);
		}
		let pay = job(jobs[0]).wake_at;
		assert!(jobs.iter().all(|id| job(*id).wake_at == pay));
		// The first payment writes the provider's and the model's records; the next two find
		// them already touched in the block.
		let first = <() as WeightInfo>::on_initialize_settle(1);
		let shared = <() as WeightInfo>::on_initialize_settle_shared(2);
		assert_eq!(hook_weight_at(pay), one_visit(first.saturating_add(shared)));
		// Each further payment sharing the records costs less than one with records of its own.
		type Measured = crate::weights::SubstrateWeight<Test>;
		let each = |w: fn(u32) -> frame_support::weights::Weight| w(65).saturating_sub(w(64));
		assert!(
			each(Measured::on_initialize_settle_shared).ref_time()
				< each(Measured::on_initialize_settle).ref_time()
		);
		assert!(jobs.iter().all(|id| job(*id).status == JobStatus::Settled));
	});
}

#[test]
fn the_hook_stops_at_its_weight_budget_and_carries_the_rest_over() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 100_000);
		let jobs: Vec<JobId> = (0..6).map(|_| submit(1_000)).collect();
		for id in &jobs {
			commit(*id, P1, RIGHT);
		}
		run_to(job(jobs[0]).wake_at);
		for id in &jobs {
			reveal(*id, P1, RIGHT);
		}
		let pay = job(jobs[0]).wake_at;
		// Room for three payments (the first a full one, two sharing its provider and model)
		// and, before each, one more visit at the dearest kind.
		let dearest = <() as WeightInfo>::on_initialize_wakeups(1)
			.max(<() as WeightInfo>::on_initialize_audits(1))
			.max(<() as WeightInfo>::on_initialize_judge(1));
		let budget = <() as WeightInfo>::on_initialize_settle(1)
			.saturating_add(<() as WeightInfo>::on_initialize_settle_shared(1))
			.saturating_add(dearest);
		MaxWakeupWeight::set(&budget);
		let settled = || jobs.iter().filter(|id| job(**id).status == JobStatus::Settled).count();
		let weight = hook_weight_at(pay);
		assert_eq!(settled(), 3, "three payments fit, the fourth might not");
		assert!(weight.all_lte(one_visit(budget)), "the hook kept to its budget");
		hook_weight_at(pay + 1);
		assert_eq!(settled(), 6, "the rest in the next block");
	});
}

#[test]
fn a_hook_budget_below_one_visit_still_takes_one_visit_a_block() {
	build_and_execute(|| {
		add_provider(P1, 100_000);
		let jobs = [submit(1_000), submit(1_000)];
		MaxWakeupWeight::set(&frame_support::weights::Weight::zero());
		let missed = || jobs.iter().filter(|id| job(**id).no_shows.len() == 1).count();
		let window_end = job(jobs[0]).wake_at;
		hook_weight_at(window_end);
		assert_eq!(missed(), 1, "one visit, however small the budget");
		hook_weight_at(window_end + 1);
		assert_eq!(missed(), 2);
	});
}
