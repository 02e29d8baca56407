//! Random sequences of submits (to a served model and to one nobody serves, each with its own
//! queue), commits, reveals (right, wrong and "could not run" refusals), cancels, timeouts,
//! disputes and block advances over several accounts. After every step the invariants hold and no
//! job's escrow is released twice; at the end every job is finished, nothing is held or locked,
//! and the client lost exactly what its receipts say it paid, which others received.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{mock::*, *};
use frame_support::traits::fungible::Inspect;
use infera_primitives::JobId;
use proptest::prelude::*;
use sp_runtime::Perbill;
use std::collections::BTreeMap;

const RIGHT: [i16; 4] = [16_384, 16_384, 16_384, 16_384];
const WRONG: [i16; 4] = [32_767, 0, 0, 0];
const GUESS: [i16; 4] = [0, 0, 32_767, 0];

#[derive(Clone, Debug)]
enum Step {
	Submit {
		extra_fee: u64,
		len: u8,
		/// To `UNSERVED` rather than `MODEL`.
		unserved: bool,
	},
	/// The party due on job `pick` (mod the number of jobs) commits or reveals: the right
	/// output, a wrong one, or a refusal (`out` 0–5, 6–8, 9).
	Act {
		pick: u8,
		out: u8,
	},
	Cancel {
		pick: u8,
	},
	Advance {
		blocks: u8,
	},
}

fn step() -> impl Strategy<Value = Step> {
	prop_oneof![
		3 => (0u64..2_000, 1u8..40, prop::bool::weighted(0.2))
			.prop_map(|(extra_fee, len, unserved)| Step::Submit { extra_fee, len, unserved }),
		12 => (any::<u8>(), 0u8..10).prop_map(|(pick, out)| Step::Act { pick, out }),
		1 => any::<u8>().prop_map(|pick| Step::Cancel { pick }),
		3 => (1u8..8).prop_map(|blocks| Step::Advance { blocks }),
	]
}

fn salt(who: u64) -> [u8; 32] {
	[who as u8; 32]
}

fn refusal() -> Vec<u8> {
	use codec::Encode;
	infera_primitives::canonical::CanonicalOutput::Refused(
		infera_primitives::canonical::Refusal::InputUnreadable,
	)
	.encode()
}

/// Commits or reveals for whichever party is due on `id`; outputs are remembered per party.
fn act(id: JobId, out: u8, chosen: &mut BTreeMap<(JobId, u64), Vec<u8>>) {
	use crate::phases::{due, Due, Role};
	let Some(job) = Jobs::<Test>::get(id) else { return };
	let parties = job
		.provider
		.iter()
		.map(|p| (Role::Provider, p))
		.chain(job.checkers.iter().map(|c| (Role::Checker, c)));
	let Some((_, party)) =
		parties.into_iter().find(|(role, p)| due(job.status, *role, p) != Due::Nothing)
	else {
		return;
	};
	let who = party.who;
	if party.commitment.is_none() {
		let out = match out {
			0..=5 => embedding(RIGHT),
			6..=8 => embedding(WRONG),
			_ => refusal(),
		};
		let c = commitment(id, who, &out, salt(who));
		chosen.insert((id, who), out);
		let _ = JobEscrow::commit_result(RuntimeOrigin::signed(who), id, c);
	} else if let Some(out) = chosen.get(&(id, who)) {
		let _ = JobEscrow::reveal_result(RuntimeOrigin::signed(who), id, out.clone(), salt(who));
	}
}

fn everyone() -> Vec<u64> {
	vec![CLIENT, P1, P2, A1, A2, A3, A4, OWNER, PROTOCOL, VAULT, TREASURY]
}

fn total_free() -> u64 {
	everyone().iter().map(Balances::balance).sum()
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

	#[test]
	fn escrow_is_released_exactly_once_and_nothing_is_lost(steps in prop::collection::vec(step(), 1..120)) {
		new_test_ext().execute_with(|| {
			Params::<Test>::mutate(|p| {
				p.audit_rate = Perbill::from_percent(50);
				// Receipts outlive the run: the test sums what they say was paid.
				p.receipt_retention = 100_000;
			});
			add_provider(P1, 1_000_000);
			add_provider(P2, 1_000_000);
			let issuance = Balances::total_issuance();
			let client_start = Balances::balance(&CLIENT);
			let all_start = total_free();
			let mut chosen = BTreeMap::new();
			let mut submitted: Vec<JobId> = Vec::new();

			for s in steps {
				match s {
					Step::Submit { extra_fee, len, unserved } => {
						let id = NextJobId::<Test>::get();
						let deadline = System::block_number() + 40;
						let input = vec![b'x'; len as usize];
						let fee = 100 + u64::from(len) + extra_fee;
						let model = if unserved { UNSERVED } else { MODEL };
						match JobEscrow::submit_job(RuntimeOrigin::signed(CLIENT), model, input, fee, deadline) {
							Ok(_) => submitted.push(id),
							// A full queue refuses only its own model's jobs.
							Err(e) if e == Error::<Test>::QueueFull.into() => assert_eq!(
								Queues::<Test>::get(model).len() as u32,
								<<Test as Config>::MaxQueued as frame_support::traits::Get<u32>>::get(),
								"{model:?} refused for another model's queue"
							),
							Err(_) => {},
						}
					},
					Step::Act { pick, out } => {
						// Act on open jobs, so that sequences reach audits and disputes.
						let open: Vec<JobId> = submitted
							.iter()
							.copied()
							.filter(|id| Jobs::<Test>::get(id).is_some_and(|j| j.status.is_open()))
							.collect();
						if !open.is_empty() {
							act(open[pick as usize % open.len()], out, &mut chosen);
						}
					},
					Step::Cancel { pick } if !submitted.is_empty() => {
						let id = submitted[pick as usize % submitted.len()];
						let _ = JobEscrow::cancel_job(RuntimeOrigin::signed(CLIENT), id);
					},
					Step::Advance { blocks } => run_to(System::block_number() + u64::from(blocks)),
					_ => {},
				}
				JobEscrow::do_try_state().expect("invariants hold after every step");
				assert_eq!(Balances::total_issuance(), issuance);
				let mut ends: BTreeMap<JobId, u32> = BTreeMap::new();
				for e in System::events() {
					if let RuntimeEvent::JobEscrow(Event::JobSettled { job, .. } | Event::JobRefunded { job, .. }) = e.event {
						*ends.entry(job).or_default() += 1;
					}
				}
				assert!(ends.values().all(|n| *n == 1), "a job's escrow was released twice");
			}

			// Let every job run out of time: all finish, nothing stays held or locked.
			run_to(System::block_number() + 200);
			assert_eq!(Jobs::<Test>::iter_values().filter(|j| j.status.is_open()).count(), 0);
			assert_eq!(JobEscrow::escrow_of_open_jobs(), 0);
			for who in [P1, P2, A1, A2, A3, A4] {
				assert_eq!(provider(who).locked, 0, "stake of {who} still locked");
			}
			let paid: u64 = submitted.iter().map(|id| Receipts::<Test>::get(id).unwrap().fee_paid).sum();
			assert_eq!(Balances::balance(&CLIENT), client_start - paid);
			assert_eq!(total_free(), all_start, "fees moved between accounts, none created or lost");
		});
	}
}

/// What each adversarial actor does when the phase table says it owes something.
fn output_of(who: u64, audited: bool) -> Option<[i16; 4]> {
	match who {
		// Skips the work: commits a made-up output, withholds it when audited.
		P2 => (!audited).then_some(WRONG),
		// Stays silent.
		A1 => None,
		// Runs nothing and reveals a guess, contradicting everyone.
		A2 => Some(GUESS),
		_ => Some(RIGHT),
	}
}

/// Every party of every open job does what its strategy says; returns whether anyone acted.
fn act_all(ids: &[JobId]) -> bool {
	use crate::phases::{due, Due, Role};
	let mut acted = false;
	for &id in ids {
		while let Some(job) = Jobs::<Test>::get(id).filter(|j| j.status.is_open()) {
			let audited = job.status == JobStatus::Revealing { audited: true };
			let parties: Vec<(Role, Party<u64>)> = job
				.provider
				.iter()
				.map(|p| (Role::Provider, p.clone()))
				.chain(job.checkers.iter().map(|c| (Role::Checker, c.clone())))
				.collect();
			let mut moved = false;
			for (role, p) in parties {
				let due_now = due(job.status, role, &p);
				let commits = if p.who == P2 { Some(WRONG) } else { output_of(p.who, false) };
				let result = match (due_now, commits) {
					(Due::Commit, Some(out)) => JobEscrow::commit_result(
						RuntimeOrigin::signed(p.who),
						id,
						commitment(id, p.who, &embedding(out), salt(p.who)),
					),
					(Due::Reveal, _) => match output_of(p.who, audited)
						.or(commits)
						.filter(|_| !(p.who == P2 && audited))
					{
						Some(out) => JobEscrow::reveal_result(
							RuntimeOrigin::signed(p.who),
							id,
							embedding(out),
							salt(p.who),
						)
						.map(|_| ())
						.map_err(|e| e.error),
						None => continue,
					},
					_ => continue,
				};
				if result.is_ok() {
					moved = true;
					acted = true;
					break;
				}
			}
			if !moved {
				break;
			}
		}
	}
	acted
}

fn worth(who: u64) -> i128 {
	i128::from(Balances::balance(&who)) + i128::from(provider(who).bonded)
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

	/// Adversaries in random sequences of submits, challenges, probes and blocks: a provider that
	/// skips the work (withholding when audited), a silent checker and a checker that accuses
	/// everyone, next to honest ones. Value is conserved, the invariants hold after every step,
	/// the dishonest checkers never gain, and the cheating provider never earns what honest
	/// work on the same jobs would have earned once any of them was audited.
	#[test]
	fn cheating_never_beats_honest_work(
		steps in prop::collection::vec((0u8..4, 1u8..40, any::<u8>()), 1..80),
		audit_percent in 20u32..=100,
	) {
		new_test_ext().execute_with(|| {
			Params::<Test>::mutate(|p| {
				p.audit_rate = Perbill::from_percent(audit_percent);
				p.probe_interval = 7;
				p.receipt_retention = 100_000;
			});
			add_provider(P1, 1_000_000);
			add_provider(P2, 1_000_000);
			let issuance = Balances::total_issuance();
			let all_start = total_free();
			let start: Vec<i128> = [P2, A1, A2].iter().map(|w| worth(*w)).collect();
			let mut prices: BTreeMap<JobId, u64> = BTreeMap::new();
			for (kind, len, pick) in steps {
				match kind {
					0 => {
						let id = NextJobId::<Test>::get();
						let deadline = System::block_number() + 40;
						let fee = 100 + u64::from(len) + 500;
						if JobEscrow::submit_job(RuntimeOrigin::signed(CLIENT), MODEL, vec![b'x'; len as usize], fee, deadline).is_ok() {
							prices.insert(id, 100 + u64::from(len));
						}
					},
					1 if !prices.is_empty() => {
						let ids: Vec<JobId> = prices.keys().copied().collect();
						let id = ids[pick as usize % ids.len()];
						let _ = JobEscrow::challenge_job(RuntimeOrigin::signed(CLIENT), id);
					},
					_ => run_to(System::block_number() + u64::from(len % 4) + 1),
				}
				let ids: Vec<JobId> = (0..NextJobId::<Test>::get().0).map(JobId).collect();
				act_all(&ids);
				JobEscrow::do_try_state().expect("invariants hold after every step");
				assert_eq!(Balances::total_issuance(), issuance);
			}
			// Everything runs out.
			for _ in 0..200 {
				let ids: Vec<JobId> = (0..NextJobId::<Test>::get().0).map(JobId).collect();
				act_all(&ids);
				Params::<Test>::mutate(|p| p.probe_interval = 0);
				run_to(System::block_number() + 1);
			}
			assert_eq!(Jobs::<Test>::iter_values().filter(|j| j.status.is_open()).count(), 0);
			assert_eq!(total_free(), all_start, "tokens moved between accounts, none created or lost");
			for who in [P1, P2, A1, A2, A3, A4] {
				assert_eq!(provider(who).locked, 0);
			}
			let gained: Vec<i128> = [P2, A1, A2].iter().zip(start).map(|(w, s)| worth(*w) - s).collect();
			assert!(gained[1] <= 0 && gained[2] <= 0, "a dishonest checker gained: {gained:?}");
			// What the cheat would have earned honestly: the provider share of every client job
			// it was given, had each been paid.
			let mut honest = 0i128;
			let mut caught = false;
			for (id, price) in prices.iter() {
				let Some(r) = Receipts::<Test>::get(id) else { continue };
				if r.provider != Some(P2) {
					continue;
				}
				honest += i128::from(price - price / 10 - price / 20);
				caught |= matches!(r.verdict, Verdict::AuditFailed | Verdict::Withheld);
			}
			assert!(gained[0] <= honest, "the cheat earned {} > honest {honest}", gained[0]);
			if caught {
				assert!(gained[0] < honest, "a caught cheat still earned what honest work would");
			}
		});
	}
}
