//! Random sequences of submits, commits, reveals (right and wrong), cancels, timeouts, disputes
//! and block advances over several accounts. After every step the invariants hold and no
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

#[derive(Clone, Debug)]
enum Step {
	Submit {
		extra_fee: u64,
		len: u8,
	},
	/// The party due on job `pick` (mod the number of jobs) commits or reveals.
	Act {
		pick: u8,
		right: bool,
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
		3 => (0u64..2_000, 1u8..40).prop_map(|(extra_fee, len)| Step::Submit { extra_fee, len }),
		12 => (any::<u8>(), prop::bool::weighted(0.7)).prop_map(|(pick, right)| Step::Act { pick, right }),
		1 => any::<u8>().prop_map(|pick| Step::Cancel { pick }),
		3 => (1u8..8).prop_map(|blocks| Step::Advance { blocks }),
	]
}

fn salt(who: u64) -> [u8; 32] {
	[who as u8; 32]
}

/// Commits or reveals for whichever party is due on `id`; outputs are remembered per party.
fn act(id: JobId, right: bool, chosen: &mut BTreeMap<(JobId, u64), [i16; 4]>) {
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
		let out = if right { RIGHT } else { WRONG };
		chosen.insert((id, who), out);
		let c = commitment(id, who, &embedding(out), salt(who));
		let _ = JobEscrow::commit_result(RuntimeOrigin::signed(who), id, c);
	} else if let Some(out) = chosen.get(&(id, who)) {
		let _ =
			JobEscrow::reveal_result(RuntimeOrigin::signed(who), id, embedding(*out), salt(who));
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
			Params::<Test>::mutate(|p| p.audit_rate = Perbill::from_percent(50));
			add_provider(P1, 1_000_000);
			add_provider(P2, 1_000_000);
			let issuance = Balances::total_issuance();
			let client_start = Balances::balance(&CLIENT);
			let all_start = total_free();
			let mut chosen = BTreeMap::new();
			let mut submitted: Vec<JobId> = Vec::new();

			for s in steps {
				match s {
					Step::Submit { extra_fee, len } => {
						let id = NextJobId::<Test>::get();
						let deadline = System::block_number() + 40;
						let input = vec![b'x'; len as usize];
						let fee = 100 + u64::from(len) + extra_fee;
						if JobEscrow::submit_job(RuntimeOrigin::signed(CLIENT), MODEL, input, fee, deadline).is_ok() {
							submitted.push(id);
						}
					},
					Step::Act { pick, right } => {
						// Act on open jobs, so that sequences reach audits and disputes.
						let open: Vec<JobId> = submitted
							.iter()
							.copied()
							.filter(|id| Jobs::<Test>::get(id).is_some_and(|j| j.status.is_open()))
							.collect();
						if !open.is_empty() {
							act(open[pick as usize % open.len()], right, &mut chosen);
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
			assert_eq!(OpenJobs::<Test>::get(), 0);
			assert_eq!(TotalEscrow::<Test>::get(), 0);
			for who in [P1, P2, A1, A2, A3, A4] {
				assert_eq!(provider(who).locked, 0, "stake of {who} still locked");
			}
			let paid: u64 = submitted.iter().map(|id| Receipts::<Test>::get(id).unwrap().fee_paid).sum();
			assert_eq!(Balances::balance(&CLIENT), client_start - paid);
			assert_eq!(total_free(), all_start, "fees moved between accounts, none created or lost");
		});
	}
}
