//! The attacks of issue 14, each tried on the real runtime (real staking, real balances, the
//! presets' bonded auditors): none of them pays any more.

use super::*;
use crate::{ComputeStaking, JobEscrow};
use infera_primitives::{JobId, ModelId, Role, Verdict};
use pallet_job_escrow::{Event as JobEvent, JobStatus, Jobs, Outputs, RefundReason};

const SALT: [u8; 32] = [9u8; 32];

/// An embedding far outside the model's tolerance of `minilm_output()`.
fn wrong_output() -> Vec<u8> {
	let v: Vec<i16> = (0..384).map(|i| 1_000 - (i * 37 % 2_000) as i16).collect();
	infera_primitives::canonical::CanonicalOutput::Embedding(v).encode()
}

fn audit_everything(on: bool) {
	pallet_job_escrow::Params::<Runtime>::mutate(|p| {
		p.audit_rate = if on { sp_runtime::Perbill::one() } else { sp_runtime::Perbill::zero() }
	});
}

fn submit(model: ModelId) -> JobId {
	let job = pallet_job_escrow::NextJobId::<Runtime>::get();
	assert_ok!(JobEscrow::submit_job(
		RuntimeOrigin::signed(Sr25519Keyring::Ferdie.to_account_id()),
		model,
		b"The quick brown fox".to_vec(),
		UNITS,
		System::block_number() + 100
	));
	job
}

fn commit(job: JobId, who: &AccountId, out: &[u8]) {
	let c = commit_and_reveal_plan(job, who, out);
	assert_ok!(JobEscrow::commit_result(RuntimeOrigin::signed(who.clone()), job, c));
}

fn reveal(job: JobId, who: &AccountId, out: &[u8]) {
	super::reveal_and_judge(job, who, out, SALT);
}

/// Reveals and stays in the block: a judgement it leaves comes when the caller moves on.
fn reveal_in_block(job: JobId, who: &AccountId, out: &[u8]) {
	assert_ok!(JobEscrow::reveal_result(
		RuntimeOrigin::signed(who.clone()),
		job,
		out.to_vec(),
		SALT
	));
}

fn panel(job: JobId) -> Vec<AccountId> {
	Jobs::<Runtime>::get(job).unwrap().checkers.iter().map(|c| c.who.clone()).collect()
}

fn bond(who: &AccountId) -> Balance {
	pallet_compute_staking::Providers::<Runtime>::get(who).map_or(0, |p| p.bonded)
}

fn wake_of(job: JobId) -> u32 {
	Jobs::<Runtime>::get(job).unwrap().wake_at
}

/// Bob commits `out`; the job reaches its audit decision.
fn committed(model: ModelId, out: &[u8]) -> JobId {
	let job = submit(model);
	commit(job, &provider(), out);
	run_to(wake_of(job));
	job
}

fn stake_of(job: JobId) -> Balance {
	Jobs::<Runtime>::get(job).unwrap().stake
}

#[test]
fn an_audited_provider_that_withholds_loses_as_much_as_one_caught_lying() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		audit_everything(true);
		let (right, wrong) = (minilm_output(), wrong_output());

		// Lies and reveals: the panel contradicts it.
		let lied = committed(model, &wrong);
		let stake = stake_of(lied);
		for c in panel(lied) {
			commit(lied, &c, &right);
		}
		let before = bond(&provider());
		reveal(lied, &provider(), &wrong);
		for c in panel(lied) {
			reveal(lied, &c, &right);
		}
		let lost_lying = before - bond(&provider());
		assert_eq!(lost_lying, stake);
		let receipt = pallet_job_escrow::Receipts::<Runtime>::get(lied).unwrap();
		assert_eq!(receipt.verdict, Verdict::AuditFailed);

		// Lies, sees it is audited, and withholds its reveal instead.
		let withheld = committed(model, &wrong);
		for c in panel(withheld) {
			commit(withheld, &c, &right);
		}
		for c in panel(withheld) {
			reveal(withheld, &c, &right);
		}
		let before = bond(&provider());
		run_to(wake_of(withheld));
		let lost_withholding = before - bond(&provider());
		assert!(lost_withholding >= lost_lying, "{lost_withholding} < {lost_lying}");
		assert_eq!(
			Jobs::<Runtime>::get(withheld).unwrap().status,
			JobStatus::Refunded { reason: RefundReason::Withheld }
		);

		// Unaudited, withholding still costs the same: the audit draw tells a cheat nothing.
		audit_everything(false);
		let quiet = committed(model, &wrong);
		let before = bond(&provider());
		run_to(wake_of(quiet));
		assert_eq!(before - bond(&provider()), lost_lying);
		check_invariants();
	});
}

#[test]
fn a_false_accusation_costs_the_accuser_real_tokens() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		audit_everything(true);
		let right = minilm_output();
		let job = committed(model, &right);
		let stake = stake_of(job);
		let checkers = panel(job);
		let accuser = checkers[0].clone();
		for c in &checkers {
			commit(job, c, if *c == accuser { &right[..0] } else { &right });
		}
		reveal(job, &provider(), &right);
		let issuance = Balances::total_issuance();
		let treasury = crate::configs::TreasuryAccount::get();
		let (accuser_bond, bob_free, treasury_free) =
			(bond(&accuser), Balances::balance(&provider()), Balances::balance(&treasury));
		// The accuser committed to something that is no output of the model: it cannot reveal it.
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(accuser.clone()), job, Vec::new(), SALT),
			pallet_job_escrow::Error::<Runtime>::MalformedOutput
		);
		for c in checkers.iter().skip(1) {
			reveal(job, c, &right);
		}
		run_to(wake_of(job));
		// It committed an unrevealable output: withholding, slashed as a false accusation is.
		assert_eq!(accuser_bond - bond(&accuser), stake);
		assert_eq!(Balances::balance(&treasury), treasury_free + stake);
		assert_eq!(Balances::balance(&provider()), bob_free);
		assert_eq!(Balances::total_issuance(), issuance, "slashed tokens moved, none vanished");
		check_invariants();

		// An accuser that reveals a wrong output: the accused provider is its reporter.
		let job = committed(model, &right);
		let checkers = panel(job);
		let accuser = checkers[1].clone();
		let wrong = wrong_output();
		for c in &checkers {
			commit(job, c, if *c == accuser { &wrong } else { &right });
		}
		reveal(job, &provider(), &right);
		let (accuser_bond, bob_free) = (bond(&accuser), Balances::balance(&provider()));
		for c in &checkers {
			reveal(job, c, if *c == accuser { &wrong } else { &right });
		}
		let stake = stake_of(job);
		assert_eq!(accuser_bond - bond(&accuser), stake);
		let reporter_share = sp_runtime::Perbill::from_percent(10).mul_floor(stake);
		assert_eq!(Balances::balance(&provider()), bob_free + reporter_share);
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().verdict, Verdict::AuditPassed);
		check_invariants();
	});
}

#[test]
fn a_silent_auditor_is_slashed_and_the_audit_handed_to_another() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		audit_everything(true);
		let right = minilm_output();
		let job = committed(model, &right);
		let stake = stake_of(job);
		let checkers = panel(job);
		let silent = checkers[0].clone();
		for c in checkers.iter().skip(1) {
			commit(job, c, &right);
		}
		let before = bond(&silent);
		run_to(wake_of(job));
		assert_eq!(before - bond(&silent), sp_runtime::Perbill::from_percent(10).mul_floor(stake));
		let spare = preset_auditors().into_iter().find(|a| !checkers.contains(a)).unwrap();
		assert!(events().contains(&RuntimeEvent::JobEscrow(JobEvent::CheckersReplaced {
			job,
			checkers: vec![spare.clone()]
		})));
		commit(job, &spare, &right);
		reveal(job, &provider(), &right);
		for c in panel(job) {
			reveal(job, &c, &right);
		}
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().verdict, Verdict::AuditPassed);
		check_invariants();
	});
}

#[test]
fn no_output_of_an_audited_job_is_public_before_its_whole_panel_committed() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		audit_everything(true);
		let right = minilm_output();
		let job = committed(model, &right);
		let checkers = panel(job);
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Auditing);
		for c in &checkers {
			// Nothing to copy: no output of the job is stored, and none can be revealed yet.
			assert_eq!(Outputs::<Runtime>::iter_prefix(job).count(), 0);
			assert_noop!(
				JobEscrow::reveal_result(
					RuntimeOrigin::signed(provider()),
					job,
					right.clone(),
					SALT
				),
				pallet_job_escrow::Error::<Runtime>::NotRevealPhase
			);
			commit(job, c, &right);
		}
		assert_eq!(
			Jobs::<Runtime>::get(job).unwrap().status,
			JobStatus::Revealing { audited: true }
		);
		check_invariants();
	});
}

/// A BABE pre-digest whose VRF output comes from `seed`'s key in `slot`.
fn pre_digest(seed: u8, slot: u64) -> sp_consensus_babe::digests::PreDigest {
	use sp_consensus_babe::digests::{PreDigest, SecondaryVRFPreDigest};
	use sp_core::crypto::{Pair as _, VrfSecret};
	let pair = sp_core::sr25519::Pair::from_seed(&[seed; 32]);
	let data = sp_consensus_babe::make_vrf_sign_data(&[0u8; 32], slot.into(), 0);
	PreDigest::SecondaryVRF(SecondaryVRFPreDigest {
		authority_index: 0,
		slot: slot.into(),
		vrf_signature: pair.vrf_sign(&data),
	})
}

#[test]
fn a_client_cannot_compute_its_provider_before_its_submit_is_included() {
	use frame_support::storage::{with_transaction, TransactionOutcome};
	use frame_support::traits::Randomness;
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		// Four providers with equal stake serve a model.
		let model = register_model(&alice(), 7);
		for k in [
			Sr25519Keyring::AliceStash,
			Sr25519Keyring::BobStash,
			Sr25519Keyring::CharlieStash,
			Sr25519Keyring::DaveStash,
		] {
			let who = k.to_account_id();
			assert_ok!(ComputeStaking::register_provider(
				RuntimeOrigin::signed(who.clone()),
				infera_primitives::HardwareProfile {
					accelerator: infera_primitives::Accelerator::Cpu,
					cpu_cores: 2,
					memory_mib: 4_096,
					accelerator_memory_mib: 0,
				}
			));
			assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(who.clone()), 1_000 * UNITS));
			assert_ok!(ComputeStaking::set_models(
				RuntimeOrigin::signed(who),
				frame_support::BoundedVec::truncate_from(vec![model])
			));
		}
		// Everything the client knows when it signs is fixed: state, parent block, job id. Only
		// the VRF output of the block that will include the submit differs.
		let mut drawn = Vec::new();
		let mut parent_randomness = Vec::new();
		for seed in 1..=8u8 {
			let provider = with_transaction(|| {
				pallet_babe::Initialized::<Runtime>::put(Some(pre_digest(
					seed,
					100 + u64::from(seed),
				)));
				parent_randomness
					.push(pallet_babe::ParentBlockRandomness::<Runtime>::random(b"x").0);
				let job = submit(model);
				let who = Jobs::<Runtime>::get(job).unwrap().provider.unwrap().who;
				TransactionOutcome::Rollback(Ok::<_, DispatchError>(who))
			})
			.unwrap();
			drawn.push(provider);
		}
		drawn.sort();
		drawn.dedup();
		assert!(drawn.len() >= 2, "the including block's VRF output decides: {drawn:?}");
		// The parent's randomness, which the client does know, is the same in every case.
		parent_randomness.dedup();
		assert_eq!(parent_randomness.len(), 1);

		// Nor can it re-roll once it sees the draw: an assigned job cannot be cancelled.
		let job = submit(model);
		assert_noop!(
			JobEscrow::cancel_job(
				RuntimeOrigin::signed(Sr25519Keyring::Ferdie.to_account_id()),
				job
			),
			pallet_job_escrow::Error::<Runtime>::TooLateToCancel
		);
		check_invariants();
	});
}

#[test]
fn a_self_dealer_on_a_model_no_auditor_checks_earns_no_emission() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		// Bob's private model: no bonded auditor declares it.
		let model = register_model(&provider(), 11);
		assert_ok!(ComputeStaking::register_provider(
			RuntimeOrigin::signed(provider()),
			infera_primitives::HardwareProfile {
				accelerator: infera_primitives::Accelerator::Cpu,
				cpu_cores: 2,
				memory_mib: 4_096,
				accelerator_memory_mib: 0,
			}
		));
		assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(provider()), 1_000 * UNITS));
		assert_ok!(ComputeStaking::set_models(
			RuntimeOrigin::signed(provider()),
			frame_support::BoundedVec::truncate_from(vec![model])
		));
		assert_eq!(pallet_job_escrow::Pallet::<Runtime>::checkers_for(model, None), 0);
		let estimate = crate::infera_api::implementation::estimate_fee(model, 19).unwrap();
		assert_eq!(estimate.checkers, 0, "the API says the model is unverifiable");
		audit_everything(false);
		let out = minilm_output();
		for _ in 0..5 {
			let job = committed(model, &out);
			reveal(job, &provider(), &out);
			run_to(wake_of(job));
		}
		// Close the epoch: no work points were recorded, so Bob earns nothing from emission.
		run_to(System::block_number() + 20);
		let before = Balances::balance(&provider());
		let _ = crate::Rewards::claim(RuntimeOrigin::signed(provider()));
		assert_eq!(Balances::balance(&provider()), before);
		check_invariants();
	});
}

/// What a provider does with the jobs it is assigned.
#[derive(Copy, Clone, Debug, PartialEq)]
enum ProviderPlay {
	/// Runs the model and reveals.
	Honest,
	/// Commits a made-up output and reveals it.
	SkipAndReveal,
	/// Commits a made-up output; reveals it when not audited, withholds when audited.
	SkipAndWithholdIfAudited,
	/// Never commits.
	NoShow,
}

/// What one auditor (Dave) does when drawn onto a panel; the others are honest.
#[derive(Copy, Clone, Debug, PartialEq)]
enum CheckerPlay {
	Honest,
	/// Never commits.
	Silent,
	/// Reveals a wrong output against an honest provider.
	FalseAccusation,
	/// Runs nothing and commits a guess (nothing of the job is public to copy).
	GuessWithoutRunning,
}

/// Worth of `who` on chain: free balance plus bond.
fn worth(who: &AccountId) -> i128 {
	(Balances::balance(who) + bond(who)) as i128
}

/// Does, for every party of `job`, what the phase table says it owes, as `provider_play` and
/// `dave_play` would (every other auditor honest), one action at a time until nothing is due.
fn act(
	job: JobId,
	provider_play: ProviderPlay,
	dave_play: CheckerPlay,
	audited: &mut std::collections::BTreeSet<JobId>,
	dave_drawn: &mut std::collections::BTreeSet<JobId>,
) {
	use pallet_job_escrow::phases::{due, Due};
	let dave = Sr25519Keyring::Dave.to_account_id();
	let (right, wrong) = (minilm_output(), wrong_output());
	while let Some(j) = Jobs::<Runtime>::get(job).filter(|j| j.status.is_open()) {
		if !j.checkers.is_empty() {
			audited.insert(job);
		}
		if j.checkers.iter().any(|c| c.who == dave) {
			dave_drawn.insert(job);
		}
		let provider_out = if provider_play == ProviderPlay::Honest { &right } else { &wrong };
		let mut acted = false;
		if let Some(p) = j.provider.as_ref().filter(|p| p.who == provider()) {
			match due(j.status, Role::Provider, p) {
				Due::Commit if provider_play != ProviderPlay::NoShow => {
					commit(job, &provider(), provider_out);
					acted = true;
				}
				Due::Reveal => {
					let withhold = provider_play == ProviderPlay::SkipAndWithholdIfAudited
						&& j.status == JobStatus::Revealing { audited: true };
					if !withhold {
						reveal_in_block(job, &provider(), provider_out);
						acted = true;
					}
				}
				_ => {}
			}
		}
		if acted {
			continue;
		}
		for c in j.checkers.iter() {
			let out =
				if c.who == dave && dave_play != CheckerPlay::Honest { &wrong } else { &right };
			match due(j.status, Role::Checker, c) {
				Due::Commit if !(c.who == dave && dave_play == CheckerPlay::Silent) => {
					commit(job, &c.who, out);
					acted = true;
				}
				Due::Reveal => {
					reveal_in_block(job, &c.who, out);
					acted = true;
				}
				_ => {}
			}
			if acted {
				break;
			}
		}
		if !acted {
			break;
		}
	}
}

/// Runs `n` jobs of `model` with the provider playing `provider_play` and Dave `dave_play`
/// (every other auditor honest), acting in every block on whatever the phase table says each
/// party owes; returns the provider's and Dave's change of worth, how many jobs were audited and
/// how many panels Dave sat on.
fn play(
	model: ModelId,
	n: u32,
	provider_play: ProviderPlay,
	dave_play: CheckerPlay,
) -> (i128, i128, u32, u32) {
	use std::collections::BTreeSet;
	let dave = Sr25519Keyring::Dave.to_account_id();
	let (p0, d0) = (worth(&provider()), worth(&dave));
	let (mut audited, mut dave_drawn) = (BTreeSet::new(), BTreeSet::new());
	let batch = 10u32;
	for _ in 0..n / batch {
		let jobs: Vec<JobId> = (0..batch).map(|_| submit(model)).collect();
		for _ in 0..80 {
			for &job in &jobs {
				act(job, provider_play, dave_play, &mut audited, &mut dave_drawn);
			}
			if jobs.iter().all(|j| !Jobs::<Runtime>::get(j).is_some_and(|j| j.status.is_open())) {
				break;
			}
			run_to(System::block_number() + 1);
		}
		for job in jobs {
			assert!(
				!Jobs::<Runtime>::get(job).is_some_and(|j| j.status.is_open()),
				"job {job:?} still open"
			);
		}
	}
	check_invariants();
	(worth(&provider()) - p0, worth(&dave) - d0, audited.len() as u32, dave_drawn.len() as u32)
}

/// The expected value of every strategy per job, measured by playing it on the real runtime and
/// compared with ADR 0009's formulas: f = price, S = collateral · f, p = audit rate.
#[test]
fn every_cheating_strategy_earns_less_than_honest_work() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		let params = pallet_job_escrow::Params::<Runtime>::get();
		let f = pallet_job_escrow::Pallet::<Runtime>::price_for(19).unwrap() as f64;
		let s = f * f64::from(params.collateral_ratio);
		let p = params.audit_rate.deconstruct() as f64 / 1e9;
		let kept = 1.0 - 0.05 - params.protocol_cut.deconstruct() as f64 / 1e9; // royalty 5 %
		let fraud = params.fraud_slash.deconstruct() as f64 / 1e9;
		let no_show = params.no_show_slash.deconstruct() as f64 / 1e9;
		let n = 200;
		let mut rows = Vec::new();
		let mut provider_row = |name: &str, play_: ProviderPlay, formula: &dyn Fn(f64) -> f64| {
			let (delta, _, audited, _) = play(model, n, play_, CheckerPlay::Honest);
			let p_hat = f64::from(audited) / f64::from(n);
			let measured = delta as f64 / f64::from(n) / f;
			rows.push((name.to_string(), formula(p) / f, formula(p_hat) / f, measured, p_hat));
			measured
		};
		let honest = provider_row("provider: honest", ProviderPlay::Honest, &|_| kept * f);
		let skip = provider_row("provider: skip the work, reveal", ProviderPlay::SkipAndReveal, &|p| {
			(1.0 - p) * kept * f - p * fraud * s
		});
		let withhold = provider_row(
			"provider: skip, withhold when audited",
			ProviderPlay::SkipAndWithholdIfAudited,
			&|p| (1.0 - p) * kept * f - p * fraud * s,
		);
		let no_show_ev =
			provider_row("provider: no-show", ProviderPlay::NoShow, &|_| -no_show * s);

		// Checkers: every job audited, Dave playing; per panel Dave sits on.
		audit_everything(true);
		let mut checker_row = |name: &str, play_: CheckerPlay, formula: f64| {
			let (_, delta, _, drawn) = play(model, 60, ProviderPlay::Honest, play_);
			let measured = delta as f64 / f64::from(drawn.max(1)) / f;
			rows.push((name.to_string(), formula / f, formula / f, measured, 1.0));
			measured
		};
		let honest_checker = checker_row("checker: honest", CheckerPlay::Honest, 0.0);
		let silent = checker_row("checker: silent", CheckerPlay::Silent, -no_show * s);
		let accuse =
			checker_row("checker: false accusation", CheckerPlay::FalseAccusation, -fraud * s);
		let guess =
			checker_row("checker: vote without running", CheckerPlay::GuessWithoutRunning, -fraud * s);

		println!("\nstrategy | EV at p = {p} (×f) | EV at measured p (×f) | measured (×f) | audited share");
		for (name, at_p, at_hat, measured, p_hat) in &rows {
			println!("{name} | {at_p:.3} | {at_hat:.3} | {measured:.3} | {p_hat:.3}");
		}
		// The mechanics are exact: each row equals its formula at the audit share it drew.
		for (name, _, at_hat, measured, _) in &rows {
			assert!((measured - at_hat).abs() < 0.01, "{name}: measured {measured} vs {at_hat}");
		}
		// And honesty wins even against a cheat whose compute costs the whole fee.
		for cheat in [skip, withhold, no_show_ev] {
			assert!(cheat < honest - 1.0, "a cheating provider earns {cheat} vs honest {honest} - c");
		}
		for cheat in [silent, accuse, guess] {
			assert!(cheat < honest_checker, "a cheating checker earns {cheat}");
		}
	});
}

/// Closes the running reward epoch (ten blocks on the dev preset) and one more.
fn close_epochs() {
	run_to(System::block_number() + 21);
}

#[test]
fn a_self_dealer_on_a_checked_model_earns_no_emission_for_its_volume() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		// Bob's stash serves a model the auditors check; Ferdie, its client, is the same person.
		let model = model_served_by_bob();
		let ferdie = Sr25519Keyring::Ferdie.to_account_id();
		let ring = || worth(&provider()) + worth(&ferdie);
		let before = ring();
		let n = 30;
		play(model, n, ProviderPlay::Honest, CheckerPlay::Honest);
		close_epochs();
		// However quiet the epochs, its volume earned it no work points.
		assert_eq!(crate::Rewards::claimable(&provider()), 0);
		assert_noop!(
			crate::Rewards::claim(RuntimeOrigin::signed(provider())),
			pallet_rewards::Error::<Runtime>::NothingToClaim
		);
		// It paid the royalty and the protocol cut of every job, and got nothing back.
		let f = pallet_job_escrow::Pallet::<Runtime>::price_for(19).unwrap();
		let paid = (sp_runtime::Perbill::from_percent(5).mul_floor(f) * 2) * Balance::from(n);
		assert_eq!(before - ring(), paid as i128);
		check_invariants();
	});
}

#[test]
fn probes_pay_emission_to_the_providers_and_checkers_that_answer_them() {
	use std::collections::BTreeSet;
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		assert_ok!(JobEscrow::set_probe_models(
			RuntimeOrigin::root(),
			pallet_job_escrow::ProbeModelsList::truncate_from(vec![model])
		));
		pallet_job_escrow::Params::<Runtime>::mutate(|p| p.probe_interval = 5);
		let first = pallet_job_escrow::NextJobId::<Runtime>::get();
		let (mut audited, mut drawn) = (BTreeSet::new(), BTreeSet::new());
		let start = System::block_number();
		while System::block_number() < start + 40 {
			run_to(System::block_number() + 1);
			let last = pallet_job_escrow::NextJobId::<Runtime>::get().0;
			for id in first.0..last {
				act(JobId(id), ProviderPlay::Honest, CheckerPlay::Honest, &mut audited, &mut drawn);
			}
		}
		let probes: Vec<JobId> = (first.0..pallet_job_escrow::NextJobId::<Runtime>::get().0)
			.map(JobId)
			.filter(|id| Jobs::<Runtime>::get(id).is_some_and(|j| j.probe))
			.collect();
		assert!(probes.len() >= 6, "a probe every five blocks: {probes:?}");
		let passed = probes
			.iter()
			.filter(|id| {
				pallet_job_escrow::Receipts::<Runtime>::get(id)
					.is_some_and(|r| r.verdict == Verdict::AuditPassed)
			})
			.count();
		assert!(passed >= 4, "{passed} probes passed");
		close_epochs();
		// The provider that answered them earns the providers' share; its checkers the auditors'.
		let before = Balances::balance(&provider());
		assert_ok!(crate::Rewards::claim(RuntimeOrigin::signed(provider())));
		assert!(Balances::balance(&provider()) > before);
		let checker = preset_auditors()
			.into_iter()
			.find(|a| crate::Rewards::claimable(a) > 0)
			.expect("a checker of a probe earned audit points");
		assert_ok!(crate::Rewards::claim(RuntimeOrigin::signed(checker)));
		check_invariants();
	});
}

#[test]
fn a_client_that_demands_an_audit_of_a_wrong_result_gets_everything_back() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		audit_everything(false);
		let ferdie = Sr25519Keyring::Ferdie.to_account_id();
		let wrong = wrong_output();
		let before = Balances::balance(&ferdie);
		let job = committed(model, &wrong);
		reveal(job, &provider(), &wrong);
		assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Verified);
		// Within the challenge window the client demands an audit, bonding three prices.
		let price = pallet_job_escrow::Pallet::<Runtime>::price_for(19).unwrap();
		assert_ok!(JobEscrow::challenge_job(RuntimeOrigin::signed(ferdie.clone()), job));
		assert_eq!(Balances::balance(&ferdie), before - UNITS - 3 * price);
		let stake = stake_of(job);
		let bond_before = bond(&provider());
		let right = minilm_output();
		for c in panel(job) {
			commit(job, &c, &right);
		}
		for c in panel(job) {
			reveal(job, &c, &right);
		}
		assert_eq!(
			Jobs::<Runtime>::get(job).unwrap().status,
			JobStatus::Refunded { reason: RefundReason::Fraud }
		);
		assert_eq!(bond_before - bond(&provider()), stake);
		assert_eq!(Balances::balance(&ferdie), before, "fee and bond came back");
		check_invariants();
	});
}

/// Issue 15 on the real runtime: a provider that claims "could not run" for an input the model
/// reads (to skip the work, or to be paid for a cheap refusal) draws a panel of the preset's
/// real bonded auditors at once, even with audits off; they ran the input, contradict it, and
/// the provider is slashed as for a wrong output while the client gets every token back. A
/// true refusal is not slashed: the same panel confirms it and the client pays for the attempt.
#[test]
fn a_false_refusal_is_slashed_on_the_real_runtime_and_a_true_one_is_paid() {
	use infera_primitives::canonical::{CanonicalOutput, Refusal};
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		// Audits off: only the refusal itself can draw a panel.
		audit_everything(false);
		let refusal = CanonicalOutput::Refused(Refusal::InputUnreadable).encode();
		let right = minilm_output();
		let client = Sr25519Keyring::Ferdie.to_account_id();
		let treasury = crate::configs::TreasuryAccount::get();
		let (client_free, issuance) = (Balances::balance(&client), Balances::total_issuance());

		let lied = committed(model, &refusal);
		let stake = stake_of(lied);
		let (bob_bond, treasury_free) = (bond(&provider()), Balances::balance(&treasury));
		reveal(lied, &provider(), &refusal);
		let checkers = panel(lied);
		assert_eq!(checkers.len(), 3, "a refusal always draws a full panel");
		assert!(!checkers.contains(&provider()) && !checkers.contains(&client));
		assert!(System::events().iter().any(|r| matches!(
			&r.event,
			RuntimeEvent::JobEscrow(JobEvent::RefusalAudited { job, .. }) if *job == lied
		)));
		for c in &checkers {
			commit(lied, c, &right);
		}
		for c in &checkers {
			reveal(lied, c, &right);
		}
		let job = Jobs::<Runtime>::get(lied).unwrap();
		assert_eq!(job.status, JobStatus::Refunded { reason: RefundReason::Fraud });
		assert_eq!(bob_bond - bond(&provider()), stake, "slashed its job stake");
		assert!(Balances::balance(&treasury) > treasury_free, "the slash went somewhere real");
		assert_eq!(Balances::balance(&client), client_free, "the client got every token back");
		assert_eq!(Balances::total_issuance(), issuance, "slashed tokens moved, none vanished");
		check_invariants();

		// A refusal the panel confirms (the checkers' engines refuse too): nobody slashed, the
		// client pays the price of the attempt.
		let client_free = Balances::balance(&client);
		let honest = committed(model, &refusal);
		let price = Jobs::<Runtime>::get(honest).unwrap().price;
		let bob_bond = bond(&provider());
		reveal(honest, &provider(), &refusal);
		for c in panel(honest) {
			commit(honest, &c, &refusal);
		}
		for c in panel(honest) {
			reveal(honest, &c, &refusal);
		}
		let job = Jobs::<Runtime>::get(honest).unwrap();
		assert_eq!((job.status, job.verdict), (JobStatus::Verified, Verdict::AuditPassed));
		run_to(wake_of(honest));
		assert_eq!(Jobs::<Runtime>::get(honest).unwrap().status, JobStatus::Settled);
		assert_eq!(bond(&provider()), bob_bond, "a true refusal costs the provider nothing");
		assert_eq!(client_free - Balances::balance(&client), price, "the client paid the attempt");
		check_invariants();
	});
}

/// A classification canonical output: `class` and every class's fixed-point logit.
fn classification(class: u32, logits: [i32; 3]) -> Vec<u8> {
	infera_primitives::canonical::CanonicalOutput::Classification { class, logits: logits.to_vec() }
		.encode()
}

/// The presets' provider of the seeded models.
fn bob() -> AccountId {
	Sr25519Keyring::Bob.to_account_id()
}

/// Bob commits `out` to a new job of a preset model; the job reaches its audit decision.
fn committed_by_bob(model: ModelId, out: &[u8]) -> JobId {
	let job = submit(model);
	assert_eq!(Jobs::<Runtime>::get(job).unwrap().provider.map(|p| p.who), Some(bob()));
	commit(job, &bob(), out);
	run_to(wake_of(job));
	job
}

fn generation(tokens: &[u32]) -> Vec<u8> {
	infera_primitives::canonical::CanonicalOutput::Generation(tokens.to_vec()).encode()
}

/// Bob (the presets' provider of the seeded models) commits and reveals `claimed`; the panel
/// commits and reveals `checked` (the first `agree` of them) and `dissent` (the rest).
/// Returns the job and the stake Bob locked for it.
fn audited(
	model: ModelId,
	claimed: &[u8],
	checked: &[u8],
	dissent: &[u8],
	agree: usize,
) -> (JobId, Balance) {
	let job = committed_by_bob(model, claimed);
	let stake = stake_of(job);
	let checkers = panel(job);
	assert_eq!(checkers.len(), 3);
	let says = |i: usize| if i < agree { checked } else { dissent };
	for (i, c) in checkers.iter().enumerate() {
		commit(job, c, says(i));
	}
	reveal(job, &bob(), claimed);
	for (i, c) in checkers.iter().enumerate() {
		reveal(job, c, says(i));
	}
	(job, stake)
}

#[test]
fn classification_and_generation_jobs_are_judged_by_their_registered_rules() {
	use crate::genesis_config_presets::{CLASSIFIER, DECODER, DECODER_MAX_TOKENS};
	use infera_primitives::canonical::{CanonicalOutput, NearTie};
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		audit_everything(true);
		// No emission, so the total issuance shows that slashes move tokens and destroy none.
		pallet_rewards::Params::<Runtime>::mutate(|p| p.emission_per_epoch = 0);
		let client = Sr25519Keyring::Ferdie.to_account_id();
		let issuance = Balances::total_issuance();
		let verdict = |job: JobId| Jobs::<Runtime>::get(job).unwrap().verdict;
		let status = |job: JobId| Jobs::<Runtime>::get(job).unwrap().status;

		// The checkers' classifier puts class 2 at 140 units and class 1 at 100: within the
		// registered tie margin (64), so a provider whose logits (within the margin of the
		// checkers') broke the near-tie the other way is right, and is paid.
		let checked = classification(2, [10, 100, 140]);
		let bob_bond = bond(&bob());
		let (tie, _) =
			audited(CLASSIFIER, &classification(1, [10, 121, 120]), &checked, &checked, 3);
		assert_eq!((status(tie), verdict(tie)), (JobStatus::Verified, Verdict::AuditPassed));
		assert_eq!(bond(&bob()), bob_bond);

		// Class 0 is 130 units below the top: outside the margin. The provider loses its job
		// stake and the client gets everything back.
		let client_free = Balances::balance(&client);
		let (wrong, stake) =
			audited(CLASSIFIER, &classification(0, [140, 100, 10]), &checked, &checked, 3);
		assert!(stake > 0);
		assert_eq!(status(wrong), JobStatus::Refunded { reason: RefundReason::Fraud });
		assert_eq!(bob_bond - bond(&bob()), stake);
		assert_eq!(Balances::balance(&client), client_free, "the client got every token back");

		// Attacks on the margin rule: flat logits make any class a near-tie by the provider's own
		// numbers, and the right class with made-up logits hands the client wrong scores. The
		// checkers' outputs are the reference, so both are fraud.
		for lie in [classification(0, [0, 0, 0]), classification(2, [0, 0, 1])] {
			let bob_bond = bond(&bob());
			let (job, stake) = audited(CLASSIFIER, &lie, &checked, &checked, 3);
			assert_eq!(status(job), JobStatus::Refunded { reason: RefundReason::Fraud });
			assert_eq!(bob_bond - bond(&bob()), stake);
		}
		// A class that is not the highest of its own logits cannot even be revealed.
		let inconsistent = classification(1, [10, 100, 140]);
		audit_everything(false);
		let job = committed_by_bob(CLASSIFIER, &inconsistent);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(bob()), job, inconsistent, SALT),
			pallet_job_escrow::Error::<Runtime>::MalformedOutput
		);
		// Having committed to it, Bob withholds: slashed when the window ends.
		run_to(Jobs::<Runtime>::get(job).unwrap().wake_at);
		assert_eq!(status(job), JobStatus::Refunded { reason: RefundReason::Withheld });
		audit_everything(true);

		// Generation. Checkers reveal their own greedy tokens with the near-ties they saw at each
		// step: at step 3 token 4937 scored 40 units under their choice (within τ = 64) and 1996
		// 500 units under.
		let tokens = [2023, 2003, 1037, 3231, 102];
		let near = vec![
			NearTie { step: 3, token: 4937, gap: 40 },
			NearTie { step: 3, token: 1996, gap: 500 },
		];
		let checked_gen =
			CanonicalOutput::CheckedGeneration { tokens: tokens.to_vec(), near }.encode();
		let right = generation(&tokens);

		// Equal tokens pass; a panel member that contradicts the majority is the one slashed.
		let other = generation(&[2023, 2003, 1037, 1996, 102]);
		let other_checked = CanonicalOutput::CheckedGeneration {
			tokens: vec![2023, 2003, 1037, 1996, 102],
			near: vec![],
		}
		.encode();
		let job = committed_by_bob(DECODER, &right);
		let checkers = panel(job);
		let dissenter = checkers[2].clone();
		let dissenter_bond = bond(&dissenter);
		for (i, c) in checkers.iter().enumerate() {
			commit(job, c, if i < 2 { &checked_gen } else { &other_checked });
		}
		reveal(job, &bob(), &right);
		for (i, c) in checkers.iter().enumerate() {
			reveal(job, c, if i < 2 { &checked_gen } else { &other_checked });
		}
		assert_eq!((status(job), verdict(job)), (JobStatus::Verified, Verdict::AuditPassed));
		assert!(bond(&dissenter) < dissenter_bond, "the checker that dissented paid for it");

		// An honest provider on other hardware broke the step-3 near-tie the other way and went
		// on from there: the panel cannot judge the rest blind, so nobody is slashed and the
		// provider is paid (no emission: the verdict is Undecided).
		let bob_bond = bond(&bob());
		let panel_bonds: Vec<Balance> = preset_auditors().iter().map(bond).collect();
		let parted = generation(&[2023, 2003, 1037, 4937, 7592, 2088, 102]);
		let (job, _) = audited(DECODER, &parted, &checked_gen, &checked_gen, 3);
		assert_eq!((status(job), verdict(job)), (JobStatus::Verified, Verdict::Undecided));
		assert_eq!(bond(&bob()), bob_bond);
		assert_eq!(preset_auditors().iter().map(bond).collect::<Vec<_>>(), panel_bonds);

		// Parting at a token 500 units under the checkers' choice (recorded, but outside τ), or at
		// one they never recorded, is fraud.
		for lie in [other.clone(), generation(&[2023, 2003, 9999, 3231, 102])] {
			let bob_bond = bond(&bob());
			let (job, stake) = audited(DECODER, &lie, &checked_gen, &checked_gen, 3);
			assert_eq!(status(job), JobStatus::Refunded { reason: RefundReason::Fraud });
			assert_eq!(bob_bond - bond(&bob()), stake);
		}
		// Stopping early on an agreed prefix is fraud too.
		let (job, _) = audited(DECODER, &generation(&[2023, 2003]), &checked_gen, &checked_gen, 3);
		assert_eq!(status(job), JobStatus::Refunded { reason: RefundReason::Fraud });

		// A provider cannot reveal the checkers' form (its near-ties would be its own say).
		audit_everything(false);
		let job = committed_by_bob(DECODER, &checked_gen);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(bob()), job, checked_gen.clone(), SALT),
			pallet_job_escrow::Error::<Runtime>::MalformedOutput
		);
		audit_everything(true);

		// More tokens than the registration allows cannot even be revealed: a worker whose
		// local manifest allows more cuts its output first (runtime/src/worker.rs). Unaudited,
		// so the reveal phase opens right after the commit.
		audit_everything(false);
		let long: Vec<u32> = (0..=DECODER_MAX_TOKENS).map(|i| 1000 + i).collect();
		let too_long = committed_by_bob(DECODER, &generation(&long));
		assert_noop!(
			JobEscrow::reveal_result(
				RuntimeOrigin::signed(bob()),
				too_long,
				generation(&long),
				SALT
			),
			pallet_job_escrow::Error::<Runtime>::MalformedOutput
		);
		// A class count the registration does not name cannot be revealed either.
		let four = infera_primitives::canonical::CanonicalOutput::Classification {
			class: 0,
			logits: vec![1, 2, 3, 4],
		}
		.encode();
		let bad = committed_by_bob(CLASSIFIER, &four);
		assert_noop!(
			JobEscrow::reveal_result(RuntimeOrigin::signed(bob()), bad, four, SALT),
			pallet_job_escrow::Error::<Runtime>::MalformedOutput
		);
		assert_eq!(Balances::total_issuance(), issuance, "slashes moved tokens; none vanished");
		check_invariants();
	});
}

#[test]
fn a_checkers_largest_generation_fits_in_a_reveal() {
	use infera_primitives::canonical::{
		CanonicalOutput, NearTie, MAX_GENERATION_TOKENS, MAX_NEAR_GAP, MAX_NEAR_PER_STEP,
	};
	// The largest generation a model may register, every step with its most near-ties, each
	// number at its widest: a checker must always be able to reveal it.
	let tokens: Vec<u32> = (0..MAX_GENERATION_TOKENS).map(|i| u32::MAX - i).collect();
	let near: Vec<NearTie> = (0..MAX_GENERATION_TOKENS)
		.flat_map(|step| {
			(0..MAX_NEAR_PER_STEP as u32).map(move |k| NearTie {
				step,
				token: k,
				gap: MAX_NEAR_GAP,
			})
		})
		.collect();
	let out = CanonicalOutput::CheckedGeneration { tokens, near };
	assert!(out.well_formed(MAX_GENERATION_TOKENS as usize));
	let max = <<Runtime as pallet_job_escrow::Config>::MaxOutputLen as frame_support::traits::Get<
		u32,
	>>::get() as usize;
	assert!(out.encode().len() <= max, "{} > {max}", out.encode().len());
}
