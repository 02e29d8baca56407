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

fn auditor_of(id: JobId) -> u64 {
	job(id).auditor.expect("audited").who
}

fn commit(id: JobId, who: u64, out: [i16; 4]) {
	assert_ok!(JobEscrow::commit_result(
		RuntimeOrigin::signed(who),
		id,
		commitment(id, who, &embedding(out), SALT)
	));
}

fn reveal(id: JobId, who: u64, out: [i16; 4]) {
	assert_ok!(JobEscrow::reveal_result(RuntimeOrigin::signed(who), id, embedding(out), SALT));
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

/// Makes the auditors bonded (but serving no model, so they are never providers).
fn bond_auditors() {
	for a in [A1, A2, A3, A4] {
		add_provider(a, 50_000);
		PROVIDERS.with(|p| p.borrow_mut().get_mut(&a).unwrap().models.clear());
	}
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
		assert_eq!((job(id).status, job(id).wake_at), (JobStatus::Committed, 3));
		run_to(3);
		assert!(has_event(Event::AuditDecided { job: id, auditor: None }));
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
		assert_eq!(work(P1), PRICE);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(open_jobs_of_model(MODEL), 0);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(
			(receipt.status, receipt.verdict, receipt.fee_paid),
			(JobStatus::Settled, Verdict::Unaudited, PRICE)
		);
		assert_eq!(receipt.output_hash, Some(H256(sp_io::hashing::blake2_256(&embedding(RIGHT)))));

		// After the retention period only the receipt remains.
		run_to(18);
		assert!(Jobs::<Test>::get(id).is_none());
		assert!(Outputs::<Test>::get(id, P1).is_none());
		assert!(Receipts::<Test>::get(id).is_some());
		assert!(has_event(Event::JobPruned { job: id }));
		assert_eq!(JobEscrow::jobs_by_client(&CLIENT, None, 10), vec![id]);
		assert_eq!(JobEscrow::jobs_by_provider(&P1, None, 10), vec![id]);
	});
}

#[test]
fn an_audited_job_passes_within_tolerance_and_credits_the_auditor() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let auditor = auditor_of(id);
		assert!([A1, A2, A3, A4].contains(&auditor));
		assert_eq!(job(id).status, JobStatus::Auditing);
		// No output is public before the auditor commits: the provider cannot reveal yet.
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(P1), id, embedding(RIGHT), SALT),
			Error::<Test>::NotRevealPhase
		);
		commit(id, auditor, CLOSE);
		assert_eq!(job(id).status, JobStatus::Revealing { audited: true });
		reveal(id, P1, RIGHT);
		assert_eq!(job(id).status, JobStatus::Revealing { audited: true });
		reveal(id, auditor, CLOSE);
		assert_eq!(job(id).status, JobStatus::Verified);
		assert_eq!(audits(auditor), 1);
		let pay_at = job(id).wake_at;
		run_to(pay_at);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!((receipt.verdict, receipt.auditor), (Verdict::AuditPassed, Some(auditor)));
		assert!(slashes().is_empty());
	});
}

#[test]
fn a_wrong_output_is_caught_the_provider_slashed_and_the_client_refunded() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		bond_auditors();
		let client = Balances::balance(&CLIENT);
		let id = submit(1_000);
		commit(id, P1, WRONG);
		run_to(3);
		let auditor = auditor_of(id);
		commit(id, auditor, RIGHT);
		reveal(id, P1, WRONG);
		reveal(id, auditor, RIGHT);
		assert_eq!(job(id).status, JobStatus::Disputed);
		let committee: Vec<u64> = job(id).committee.iter().map(|p| p.who).collect();
		assert_eq!(committee.len(), 3);
		assert!(!committee.contains(&auditor) && !committee.contains(&P1));
		for &m in &committee {
			commit(id, m, CLOSE);
		}
		assert_eq!(job(id).status, JobStatus::DisputeRevealing);
		for &m in &committee {
			reveal(id, m, CLOSE);
		}
		assert!(has_event(Event::DisputeResolved {
			job: id,
			for_provider: 0,
			for_auditor: 3,
			verdict: Verdict::CommitteeRejected,
		}));
		assert_eq!(slashes(), vec![(P1, STAKE, Some(auditor))]);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Fraud });
		assert_eq!((Balances::balance(&CLIENT), escrow(CLIENT)), (client, 0));
		assert_eq!(provider(P1).locked, 0);
		for m in committee {
			assert_eq!(audits(m), 1);
		}
		assert_eq!(audits(auditor), 1);
	});
}

#[test]
fn a_false_accusation_slashes_the_auditor_and_the_provider_is_paid() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		bond_auditors();
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let auditor = auditor_of(id);
		commit(id, auditor, WRONG);
		reveal(id, P1, RIGHT);
		reveal(id, auditor, WRONG);
		let committee: Vec<u64> = job(id).committee.iter().map(|p| p.who).collect();
		for &m in &committee {
			commit(id, m, RIGHT);
		}
		for &m in &committee {
			reveal(id, m, RIGHT);
		}
		assert_eq!(slashes(), vec![(auditor, STAKE, None)]);
		assert_eq!(job(id).status, JobStatus::Verified);
		let pay_at = job(id).wake_at;
		run_to(pay_at);
		let receipt = Receipts::<Test>::get(id).unwrap();
		assert_eq!(
			(receipt.status, receipt.verdict),
			(JobStatus::Settled, Verdict::CommitteeUpheld)
		);
	});
}

#[test]
fn a_silent_committee_leaves_the_dispute_undecided_and_refunds_without_slashing() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let auditor = auditor_of(id);
		commit(id, auditor, WRONG);
		reveal(id, P1, RIGHT);
		reveal(id, auditor, WRONG);
		let wake = job(id).wake_at;
		run_to(wake);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Undecided });
		assert!(slashes().is_empty());
		assert_eq!((escrow(CLIENT), provider(P1).locked), (0, 0));
	});
}

#[test]
fn a_dispute_without_enough_auditors_is_undecided() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		for a in [A2, A3, A4] {
			assert_ok!(JobEscrow::remove_auditor(RuntimeOrigin::root(), a));
		}
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		assert_eq!(auditor_of(id), A1);
		commit(id, A1, WRONG);
		reveal(id, P1, RIGHT);
		reveal(id, A1, WRONG);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::Undecided });
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
fn a_provider_that_commits_but_never_reveals_is_penalised_and_the_client_refunded() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(8);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::NoShow });
		assert_eq!(slashes(), vec![(P1, STAKE / 10, None)]);
		assert_eq!((escrow(CLIENT), provider(P1).locked), (0, 0));
	});
}

#[test]
fn an_auditor_that_does_not_commit_lets_the_job_go_on_unaudited() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let auditor = auditor_of(id);
		run_to(8);
		assert!(has_event(Event::PartyMissedWindow {
			job: id,
			who: auditor,
			status: JobStatus::Auditing
		}));
		assert_eq!(job(id).status, JobStatus::Revealing { audited: false });
		reveal(id, P1, RIGHT);
		assert_eq!(job(id).status, JobStatus::Verified);
	});
}

#[test]
fn an_auditor_that_does_not_reveal_lets_the_result_stand() {
	build_and_execute(|| {
		set_audit_rate(Perbill::one());
		add_provider(P1, 10_000);
		let id = submit(1_000);
		commit(id, P1, RIGHT);
		run_to(3);
		let auditor = auditor_of(id);
		commit(id, auditor, RIGHT);
		reveal(id, P1, RIGHT);
		let wake = job(id).wake_at;
		run_to(wake);
		assert_eq!(job(id).status, JobStatus::Verified);
		assert_eq!(audits(auditor), 0);
	});
}

#[test]
fn a_queued_job_is_assigned_when_a_provider_appears() {
	build_and_execute(|| {
		set_audit_rate(Perbill::zero());
		let id = submit(1_000);
		assert_eq!(job(id).status, JobStatus::Queued);
		assert!(has_event(Event::JobQueued { job: id }));
		assert_eq!(Queue::<Test>::get().to_vec(), vec![id]);
		add_provider(P1, 10_000);
		run_to(2);
		assert_eq!((job(id).status, provider_of(id)), (JobStatus::Assigned, P1));
		assert!(Queue::<Test>::get().is_empty());
	});
}

#[test]
fn a_queued_job_without_providers_is_refunded_at_its_deadline() {
	build_and_execute(|| {
		let id = submit(1_000);
		run_to(51);
		assert_eq!(job(id).status, JobStatus::Refunded { reason: RefundReason::NoProvider });
		assert!(Queue::<Test>::get().is_empty());
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
fn cancel_refunds_in_full_before_a_commit_and_not_after() {
	build_and_execute(|| {
		let client = Balances::balance(&CLIENT);
		let queued = submit(1_000);
		assert_noop!(
			JobEscrow::cancel_job(RuntimeOrigin::signed(STRANGER), queued),
			Error::<Test>::NotClient
		);
		assert_ok!(JobEscrow::cancel_job(RuntimeOrigin::signed(CLIENT), queued));
		assert_eq!(job(queued).status, JobStatus::Refunded { reason: RefundReason::Cancelled });
		assert!(Queue::<Test>::get().is_empty());

		add_provider(P1, 10_000);
		let assigned = submit(1_000);
		assert_ok!(JobEscrow::cancel_job(RuntimeOrigin::signed(CLIENT), assigned));
		assert_eq!(provider(P1).locked, 0);
		assert_eq!((Balances::balance(&CLIENT), escrow(CLIENT)), (client, 0));

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
fn submit_fails_cleanly_when_the_queue_the_scheduler_or_the_ids_are_full() {
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

		// Every block the deadline could move to is full.
		let taken = frame_support::BoundedVec::truncate_from(vec![JobId(1_000); 8]);
		for b in (now + 50)..(now + 50 + 16) {
			Wakeups::<Test>::insert(b, taken.clone());
		}
		assert_noop!(
			JobEscrow::submit_job(
				RuntimeOrigin::signed(CLIENT),
				MODEL,
				INPUT.to_vec(),
				1_000,
				now + 50
			),
			Error::<Test>::SchedulerFull
		);
		for b in (now + 50)..(now + 50 + 16) {
			Wakeups::<Test>::remove(b);
		}
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
		let auditor = auditor_of(id);
		commit(id, auditor, RIGHT);
		reveal(id, P1, WRONG);
		reveal(id, auditor, RIGHT);
		let member = job(id).committee[0].who;
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
		let auditor = auditor_of(id);
		commit(id, auditor, RIGHT);
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
		// Raising the collateral restores it: 0.04 · 26 = 1.04.
		let fixed = JobParams { collateral_ratio: 25, ..lax };
		assert_ok!(JobEscrow::set_params(RuntimeOrigin::root(), fixed));
		assert!(has_event(Event::ParamsUpdated { params: fixed }));
		assert_eq!(Params::<Test>::get(), fixed);
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
			if job(id).auditor.is_some() {
				audited += 1;
			}
			assert_ok!(JobEscrow::do_try_state());
		}
		// Binomial(200, 0.25): mean 50, σ ≈ 6.1; 25..75 is beyond four σ.
		assert!((25..=75).contains(&audited), "{audited} of 200 audited");
	});
}
