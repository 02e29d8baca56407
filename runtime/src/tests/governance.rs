//! Governance: referenda on the root and Infera-parameters tracks, conviction voting, and the
//! parameters each track may change (refused where they would let cheating pay).

use super::*;

/// Submits `call` as a referendum with `origin`, has six endowed accounts vote aye with
/// conviction, and returns the referendum index.
fn pass_referendum(origin: OriginCaller, call: RuntimeCall) -> u32 {
	let proposal = <Preimage as StorePreimage>::bound(call).unwrap();
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	assert_ok!(Referenda::submit(
		RuntimeOrigin::signed(alice()),
		Box::new(origin),
		proposal,
		DispatchTime::After(1),
	));
	assert_ok!(Referenda::place_decision_deposit(RuntimeOrigin::signed(alice()), index));
	for voter in [
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
		Sr25519Keyring::Ferdie,
	] {
		assert_ok!(ConvictionVoting::vote(
			RuntimeOrigin::signed(voter.to_account_id()),
			index,
			AccountVote::Standard {
				vote: Vote { aye: true, conviction: Conviction::Locked1x },
				balance: 900_000 * UNITS,
			},
		));
	}
	index
}

#[test]
fn a_root_referendum_is_decided_and_enacted() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let new_balance: Balance = 4_242 * UNITS;
		let call = RuntimeCall::Balances(pallet_balances::Call::force_set_balance {
			who: provider().into(),
			new_free: new_balance,
		});
		let index = pass_referendum(OriginCaller::system(frame_system::RawOrigin::Root), call);
		assert_eq!(Balances::balance(&provider()), crate::genesis_config_presets::ENDOWMENT);

		run_to(40);

		let tally = find_confirmed_tally(index);
		assert!(tally.ayes >= 6 * 900_000 * UNITS, "conviction 1x counts each vote in full");
		// The voters' funds are locked by their conviction vote.
		assert!(pallet_balances::Locks::<Runtime>::get(alice())
			.iter()
			.any(|l| l.amount == 900_000 * UNITS));
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
			Some(pallet_referenda::ReferendumInfo::Approved(..))
		));
		// Enacted: the call ran with Root and set Bob's balance.
		assert_eq!(Balances::balance(&provider()), new_balance);
		check_invariants();
	});
}

fn find_confirmed_tally(index: u32) -> pallet_conviction_voting::TallyOf<Runtime> {
	events()
		.into_iter()
		.find_map(|e| match e {
			RuntimeEvent::Referenda(pallet_referenda::Event::Confirmed { index: i, tally })
				if i == index =>
			{
				Some(tally)
			}
			_ => None,
		})
		.expect("the referendum was confirmed")
}

#[test]
fn an_infera_params_referendum_changes_a_protocol_parameter() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let origin = OriginCaller::Origins(pallet_custom_origins::Origin::InferaParams);
		assert_eq!(
			<tracks::TracksInfo as pallet_referenda::TracksInfo<_, _>>::track_for(&origin),
			Ok(tracks::INFERA_PARAMS)
		);
		let mut params = pallet_model_registry::Params::<Runtime>::get();
		assert_eq!(params.max_royalty, sp_runtime::Perbill::from_percent(30));
		params.max_royalty = sp_runtime::Perbill::from_percent(10);
		let call = RuntimeCall::ModelRegistry(pallet_model_registry::Call::set_params { params });
		// Without the referendum, a signed account cannot set it.
		assert_noop!(
			call.clone().dispatch(RuntimeOrigin::signed(alice())),
			DispatchError::BadOrigin
		);
		let index = pass_referendum(origin, call);
		run_to(40);
		find_confirmed_tally(index);
		assert_eq!(pallet_model_registry::Params::<Runtime>::get(), params);
		check_invariants();
	});
}

#[test]
fn the_params_origin_is_accepted_where_parameters_are_set() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let params: RuntimeOrigin = pallet_custom_origins::Origin::InferaParams.into();
		assert!(EnsureRootOrParams::try_origin(params).is_ok());
		assert!(EnsureRootOrParams::try_origin(RuntimeOrigin::root()).is_ok());
		assert!(EnsureRootOrParams::try_origin(RuntimeOrigin::signed(alice())).is_err());
	});
}

#[test]
fn a_referendum_from_a_track_less_origin_is_rejected() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![] });
		let proposal = <Preimage as StorePreimage>::bound(call).unwrap();
		assert_noop!(
			Referenda::submit(
				RuntimeOrigin::signed(alice()),
				Box::new(OriginCaller::system(frame_system::RawOrigin::Signed(alice()))),
				proposal,
				DispatchTime::After(1),
			),
			pallet_referenda::Error::<Runtime>::NoTrack
		);
	});
}

#[test]
fn the_params_track_sets_compute_staking_parameters() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let mut params = pallet_compute_staking::Params::<Runtime>::get();
		assert_eq!(params.min_bond, 100 * UNITS);
		params.min_bond = 500 * UNITS;
		let call = RuntimeCall::ComputeStaking(pallet_compute_staking::Call::set_params { params });
		assert_noop!(
			call.clone().dispatch(RuntimeOrigin::signed(alice())),
			DispatchError::BadOrigin
		);
		let origin: RuntimeOrigin = pallet_custom_origins::Origin::InferaParams.into();
		assert_ok!(call.dispatch(origin));
		assert_eq!(pallet_compute_staking::Params::<Runtime>::get(), params);
	});
}

#[test]
fn a_referendum_raising_the_audit_rate_gets_the_next_job_audited() {
	use crate::JobEscrow;
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let mut params = pallet_job_escrow::Params::<Runtime>::get();
		assert_eq!(params.audit_rate, sp_runtime::Perbill::from_percent(5));
		params.audit_rate = sp_runtime::Perbill::one();
		let call = RuntimeCall::JobEscrow(pallet_job_escrow::Call::set_params { params });
		let origin = OriginCaller::Origins(pallet_custom_origins::Origin::InferaParams);
		let index = pass_referendum(origin, call);
		run_to(40);
		find_confirmed_tally(index);
		assert_eq!(
			pallet_job_escrow::Params::<Runtime>::get().audit_rate,
			sp_runtime::Perbill::one()
		);

		let model = model_served_by_bob();
		let client = Sr25519Keyring::Ferdie.to_account_id();
		let job = pallet_job_escrow::NextJobId::<Runtime>::get();
		assert_ok!(JobEscrow::submit_job(
			RuntimeOrigin::signed(client),
			model,
			b"audited".to_vec(),
			UNITS,
			System::block_number() + 200
		));
		let out = minilm_output();
		let c = commit_and_reveal_plan(job, &provider(), &out);
		assert_ok!(JobEscrow::commit_result(RuntimeOrigin::signed(provider()), job, c));
		let decide = pallet_job_escrow::Jobs::<Runtime>::get(job).unwrap().wake_at;
		run_to(decide);
		let panel = panel_of(job);
		assert_eq!(panel.len(), 3, "the job is audited by a panel of three");
		assert!(panel.iter().all(|a| preset_auditors().contains(a)));
		run_honest_job_after_audit(job, &out);
		check_invariants();
	});
}

#[test]
fn governance_cannot_set_an_audit_rate_that_makes_skipping_work_pay() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let mut params = pallet_job_escrow::Params::<Runtime>::get();
		params.audit_rate = sp_runtime::Perbill::from_percent(1);
		let call = RuntimeCall::JobEscrow(pallet_job_escrow::Call::set_params { params });
		let origin: RuntimeOrigin = pallet_custom_origins::Origin::InferaParams.into();
		assert_noop!(
			call.dispatch(origin),
			pallet_job_escrow::Error::<Runtime>::BreaksIncentiveInequality
		);
	});
}
