//! Runtime tests: genesis presets, invariants, governance tracks and the validator set, run
//! against the real runtime (native build of the same code as the wasm).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{
	governance::{origins::pallet_custom_origins, tracks, EnsureRootOrParams},
	AccountId, Babe, Balance, Balances, ConvictionVoting, Grandpa, OriginCaller, Preimage,
	Referenda, Runtime, RuntimeCall, RuntimeEvent, RuntimeGenesisConfig, RuntimeOrigin, Scheduler,
	Session, SessionKeys, System, ValidatorSet, UNITS,
};
use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Inspect, schedule::DispatchTime, EnsureOrigin, Hooks, StorePreimage},
};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{traits::Dispatchable, BuildStorage, DispatchError};

mod verification;

/// The state a preset describes, built through the same JSON path the node uses.
pub(crate) fn ext_from_preset(name: &str) -> sp_io::TestExternalities {
	let patch = crate::genesis_config_presets::get_preset(&name.into())
		.unwrap_or_else(|| panic!("preset {name} exists"));
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	let patch: serde_json::Value = serde_json::from_slice(&patch).unwrap();
	json_merge(&mut config, patch);
	let config: RuntimeGenesisConfig = serde_json::from_value(config).unwrap();
	let storage = config.build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

fn json_merge(into: &mut serde_json::Value, patch: serde_json::Value) {
	match (into, patch) {
		(serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
			for (k, v) in b {
				json_merge(a.entry(k).or_insert(serde_json::Value::Null), v);
			}
		}
		(a, b) => *a = b,
	}
}

/// Invariants of the whole runtime: every pallet's `try_state` (with the `try-runtime` feature),
/// plus the ones this runtime adds on top.
pub(crate) fn check_invariants() {
	#[cfg(feature = "try-runtime")]
	{
		use frame_support::traits::{TryState, TryStateSelect};
		crate::AllPalletsWithSystem::try_state(System::block_number(), TryStateSelect::All)
			.expect("all pallets' try_state hold");
	}
	ValidatorSet::do_try_state().expect("validator set invariants hold");
	// Every validator can author: it has session keys.
	for v in pallet_validator_set::Validators::<Runtime>::get() {
		assert!(pallet_session::NextKeys::<Runtime>::contains_key(&v), "{v} has no session keys");
	}
	// Consensus authorities are exactly the session validators.
	assert_eq!(Babe::authorities().len(), Session::validators().len());
	assert_eq!(Grandpa::grandpa_authorities().len(), Session::validators().len());
}

pub(crate) fn run_to(n: u32) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Scheduler::on_initialize(next);
		Referenda::on_initialize(next);
		crate::Rewards::on_initialize(next);
		crate::JobEscrow::on_initialize(next);
	}
}

pub(crate) fn alice() -> AccountId {
	Sr25519Keyring::Alice.to_account_id()
}
/// The provider these tests set up (the presets' Bob already serves MiniLM).
pub(crate) fn provider() -> AccountId {
	Sr25519Keyring::BobStash.to_account_id()
}

#[test]
fn development_preset_builds_with_alice_validating() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(Session::validators(), vec![alice()]);
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), vec![alice()]);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(alice()));
		// Alice's auditor bond is held out of her endowment.
		assert_eq!(
			Balances::balance(&alice()),
			crate::genesis_config_presets::ENDOWMENT - crate::genesis_config_presets::AUDITOR_BOND
		);
		assert_eq!(Balances::total_balance(&alice()), crate::genesis_config_presets::ENDOWMENT);
		assert!(tracks::is_test_network());
		check_invariants();
	});
}

#[test]
fn local_testnet_preset_builds_with_four_validators() {
	ext_from_preset(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let mut expected: Vec<AccountId> = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.iter()
		.map(|k| k.to_account_id())
		.collect();
		expected.sort();
		let mut session = Session::validators();
		session.sort();
		assert_eq!(session, expected);
		assert_eq!(Babe::authorities().len(), 4);
		check_invariants();
	});
}

#[test]
fn unknown_preset_is_none() {
	assert!(crate::genesis_config_presets::get_preset(&"mainnet-ish".into()).is_none());
	assert_eq!(crate::genesis_config_presets::preset_names().len(), 2);
}

#[test]
fn without_sudo_the_production_periods_apply() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		pallet_sudo::Key::<Runtime>::kill();
		assert!(!tracks::is_test_network());
		use pallet_referenda::TracksInfo;
		let root = tracks::TracksInfo::info(tracks::ROOT).unwrap();
		assert_eq!(root.decision_period, 14 * crate::DAYS);
		assert!(tracks::TracksInfo::check_integrity().is_ok());
	});
}

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

pub(crate) fn events() -> Vec<RuntimeEvent> {
	System::events().into_iter().map(|r| r.event).collect()
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

/// Registers real session keys for `who`, with a valid ownership proof, as a validator would
/// after `author_rotateKeys`.
fn set_session_keys(who: &AccountId) {
	let generated = SessionKeys::generate(&who.encode(), None);
	assert_ok!(Session::set_keys(
		RuntimeOrigin::signed(who.clone()),
		generated.keys,
		generated.proof.encode()
	));
}

#[test]
fn governance_adds_a_validator_once_it_has_session_keys() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::signed(alice()), provider()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ValidatorSet::add_validator(RuntimeOrigin::root(), provider()),
			pallet_validator_set::Error::<Runtime>::NoSessionKeys
		);
		set_session_keys(&provider());
		assert_ok!(ValidatorSet::add_validator(RuntimeOrigin::root(), provider()));
		let mut expected = vec![alice(), provider()];
		expected.sort();
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), expected);
		// Handed to the session pallet at the next rotation.
		assert_eq!(
			<ValidatorSet as pallet_session::SessionManager<AccountId>>::new_session(2),
			Some(expected)
		);
	});
}

#[test]
fn setting_keys_with_a_forged_proof_is_rejected() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		// Keys generated for Alice cannot be registered by Bob.
		let generated = SessionKeys::generate(&alice().encode(), None);
		assert_noop!(
			Session::set_keys(
				RuntimeOrigin::signed(provider()),
				generated.keys,
				generated.proof.encode()
			),
			pallet_session::Error::<Runtime>::InvalidProof
		);
	});
}

#[test]
fn fees_go_to_the_treasury() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		use frame_support::traits::OnUnbalanced;
		let treasury = pallet_treasury::Pallet::<Runtime>::account_id();
		let before = Balances::balance(&treasury);
		let issuance = Balances::total_issuance();
		let fee = <Balances as frame_support::traits::fungible::Balanced<AccountId>>::withdraw(
			&alice(),
			UNITS,
			frame_support::traits::tokens::Precision::Exact,
			frame_support::traits::tokens::Preservation::Preserve,
			frame_support::traits::tokens::Fortitude::Polite,
		)
		.unwrap();
		crate::configs::DealWithFees::on_unbalanceds([fee].into_iter());
		assert_eq!(Balances::balance(&treasury), before + UNITS);
		// Nothing created or destroyed.
		assert_eq!(Balances::total_issuance(), issuance);
	});
}

/// Registers a MiniLM-like model owned by `owner` through the real registry.
pub(crate) fn register_model(owner: &AccountId, seed: u8) -> infera_primitives::ModelId {
	use frame_support::BoundedVec;
	use infera_primitives::{Architecture, EmbeddingTolerance};
	let id = pallet_model_registry::NextModelId::<Runtime>::get();
	assert_ok!(crate::ModelRegistry::register_model(
		RuntimeOrigin::signed(owner.clone()),
		pallet_model_registry::ModelFiles {
			weights_hash: sp_core::H256::repeat_byte(seed),
			weights_size: 90_868_376,
			config_hash: sp_core::H256::repeat_byte(seed),
			tokenizer_hash: sp_core::H256::repeat_byte(seed),
		},
		Architecture::TextEmbedding {
			dimensions: 384,
			tolerance: EmbeddingTolerance {
				min_cosine: sp_runtime::Perbill::from_percent(99),
				max_element_diff: 1_024,
			},
		},
		pallet_model_registry::ModelMetadata {
			name: BoundedVec::truncate_from(b"all-MiniLM-L6-v2".to_vec()),
			version: BoundedVec::truncate_from(b"1".to_vec()),
			license: BoundedVec::truncate_from(b"Apache-2.0".to_vec()),
			dataset_hash: None,
		},
		None,
		sp_runtime::Perbill::from_percent(5),
	));
	id
}

#[test]
fn a_provider_bonds_serves_a_registered_model_is_selected_and_slashed_to_the_treasury() {
	use crate::ComputeStaking;
	use infera_primitives::{traits::ComputeProviders, Accelerator, HardwareProfile};
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = register_model(&alice(), 7);
		let bob = provider();
		assert_ok!(ComputeStaking::register_provider(
			RuntimeOrigin::signed(bob.clone()),
			HardwareProfile {
				accelerator: Accelerator::Cpu,
				cpu_cores: 2,
				memory_mib: 24_576,
				accelerator_memory_mib: 0,
			}
		));
		assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(bob.clone()), 1_000 * UNITS));
		let models = frame_support::BoundedVec::truncate_from(vec![model]);
		assert_ok!(ComputeStaking::set_models(RuntimeOrigin::signed(bob.clone()), models));
		assert_eq!(ComputeStaking::select(model, 10 * UNITS, &[], [3u8; 32]), Some(bob.clone()));
		check_invariants();

		// A deprecated model cannot be taken up by new providers.
		assert_ok!(crate::ModelRegistry::deprecate_model(RuntimeOrigin::signed(alice()), model));
		let ferdie = Sr25519Keyring::Ferdie.to_account_id();
		assert_ok!(Balances::transfer_allow_death(
			RuntimeOrigin::signed(alice()),
			ferdie.clone().into(),
			10_000 * UNITS
		));
		assert_ok!(ComputeStaking::register_provider(
			RuntimeOrigin::signed(ferdie.clone()),
			HardwareProfile {
				accelerator: Accelerator::Cuda,
				cpu_cores: 16,
				memory_mib: 65_536,
				accelerator_memory_mib: 81_920,
			}
		));
		assert_noop!(
			ComputeStaking::set_models(
				RuntimeOrigin::signed(ferdie),
				frame_support::BoundedVec::truncate_from(vec![model])
			),
			pallet_compute_staking::Error::<Runtime>::ModelNotActive
		);

		let treasury = pallet_treasury::Pallet::<Runtime>::account_id();
		let before = Balances::balance(&treasury);
		let reporter_before = Balances::balance(&alice());
		let issuance = Balances::total_issuance();
		assert_eq!(ComputeStaking::slash(&bob, 200 * UNITS, Some(&alice())), Ok(200 * UNITS));
		assert_eq!(Balances::balance(&treasury), before + 180 * UNITS);
		assert_eq!(Balances::balance(&alice()), reporter_before + 20 * UNITS);
		assert_eq!(Balances::total_issuance(), issuance);
		check_invariants();
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

/// The presets' bonded auditors (Alice, Charlie, Dave, Eve).
pub(crate) fn preset_auditors() -> Vec<AccountId> {
	[Sr25519Keyring::Alice, Sr25519Keyring::Charlie, Sr25519Keyring::Dave, Sr25519Keyring::Eve]
		.map(|k| k.to_account_id())
		.to_vec()
}

/// The presets' auditors declare `model` too, so they can be drawn to check it.
pub(crate) fn auditors_check(model: infera_primitives::ModelId) {
	for a in preset_auditors() {
		let mut models =
			pallet_compute_staking::Providers::<Runtime>::get(&a).expect("bonded").models;
		models.try_push(model).expect("room for one more model");
		assert_ok!(crate::ComputeStaking::set_models(RuntimeOrigin::signed(a), models));
	}
}

/// Bob as a provider bonded 1000 INFR serving a newly registered model (owner Alice, 5 %
/// royalty) that the presets' auditors check; returns the model.
pub(crate) fn model_served_by_bob() -> infera_primitives::ModelId {
	use crate::ComputeStaking;
	use infera_primitives::{Accelerator, HardwareProfile};
	let model = register_model(&alice(), 9);
	assert_ok!(ComputeStaking::register_provider(
		RuntimeOrigin::signed(provider()),
		HardwareProfile {
			accelerator: Accelerator::Cpu,
			cpu_cores: 2,
			memory_mib: 24_576,
			accelerator_memory_mib: 0,
		}
	));
	assert_ok!(ComputeStaking::bond(RuntimeOrigin::signed(provider()), 1_000 * UNITS));
	assert_ok!(ComputeStaking::set_models(
		RuntimeOrigin::signed(provider()),
		frame_support::BoundedVec::truncate_from(vec![model])
	));
	auditors_check(model);
	model
}

pub(crate) fn minilm_output() -> Vec<u8> {
	let v: Vec<i16> = (0..384).map(|i| (i * 37 % 2_000) as i16 - 1_000).collect();
	infera_primitives::canonical::CanonicalOutput::Embedding(v).encode()
}

pub(crate) fn commit_and_reveal_plan(
	job: infera_primitives::JobId,
	who: &AccountId,
	output: &[u8],
) -> sp_core::H256 {
	let hash = sp_core::H256(sp_io::hashing::blake2_256(output));
	pallet_job_escrow::commitment_of(job, who, &hash, &[9u8; 32])
}

/// Runs a submitted job to the end with honest parties; returns the block it was paid in.
fn run_honest_job(job: infera_primitives::JobId) -> u32 {
	use crate::JobEscrow;
	use pallet_job_escrow::{JobStatus, Jobs};
	let out = minilm_output();
	let c = commit_and_reveal_plan(job, &provider(), &out);
	assert_ok!(JobEscrow::commit_result(RuntimeOrigin::signed(provider()), job, c));
	let decide = Jobs::<Runtime>::get(job).unwrap().wake_at;
	run_to(decide);
	reveal_with_honest_panel(job, &out);
	let job_now = Jobs::<Runtime>::get(job).unwrap();
	assert_eq!(job_now.status, JobStatus::Verified);
	run_to(job_now.wake_at);
	assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Settled);
	job_now.wake_at
}

#[test]
fn a_job_is_paid_with_exact_royalty_protocol_cut_and_refund_on_the_real_pallets() {
	use crate::JobEscrow;
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let model = model_served_by_bob();
		let client = Sr25519Keyring::Ferdie.to_account_id();
		let input = b"The quick brown fox jumps over the lazy dog".to_vec();
		let price = UNITS / 100 + UNITS / 100_000 * input.len() as u128;
		let max_fee = UNITS;
		let (client0, bob0, alice0) = (
			Balances::balance(&client),
			Balances::balance(&provider()),
			Balances::balance(&alice()),
		);
		let issuance = Balances::total_issuance();
		let job = pallet_job_escrow::NextJobId::<Runtime>::get();
		assert_ok!(JobEscrow::submit_job(
			RuntimeOrigin::signed(client.clone()),
			model,
			input,
			max_fee,
			200
		));
		assert_eq!(Balances::balance(&client), client0 - max_fee);
		check_invariants();
		run_honest_job(job);

		let royalty = price * 5 / 100;
		let protocol = price * 5 / 100;
		assert_eq!(Balances::balance(&client), client0 - price);
		assert_eq!(Balances::balance(&alice()), alice0 + royalty);
		assert_eq!(Balances::balance(&provider()), bob0 + price - royalty - protocol);
		let receipt = pallet_job_escrow::Receipts::<Runtime>::get(job).unwrap();
		assert_eq!((receipt.provider, receipt.fee_paid), (Some(provider()), price));
		check_invariants();

		// The protocol cut reaches the rewards pool of the epoch it arrived in. A client-paid job
		// earns its fee, not emission: with no probe answered in the epoch, the providers' share
		// goes to the treasury and Bob has nothing to claim.
		let epoch = pallet_rewards::CurrentEpoch::<Runtime>::get();
		run_to(System::block_number() + 10);
		let closes: Vec<(u32, Balance, Balance, Balance, Balance)> = events()
			.into_iter()
			.filter_map(|e| match e {
				RuntimeEvent::Rewards(pallet_rewards::Event::EpochClosed {
					epoch,
					emitted,
					fees,
					to_providers,
					to_treasury,
					..
				}) => Some((epoch, emitted, fees, to_providers, to_treasury)),
				_ => None,
			})
			.collect();
		let total_fees: Balance = closes.iter().map(|c| c.2).sum();
		assert_eq!(total_fees, protocol, "exactly the protocol cut reached the rewards pool");
		let (_, emitted, fees, to_providers, _) =
			*closes.iter().find(|c| c.0 == epoch).expect("Bob's epoch closed");
		assert!(emitted + fees > 0);
		assert_eq!(to_providers, 0);
		assert_noop!(
			crate::Rewards::claim(RuntimeOrigin::signed(provider())),
			pallet_rewards::Error::<Runtime>::NothingToClaim
		);
		let minted: Balance = closes.iter().map(|c| c.1).sum();
		assert_eq!(Balances::total_issuance(), issuance + minted, "only the emission was created");
		check_invariants();
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
		let panel: Vec<AccountId> = pallet_job_escrow::Jobs::<Runtime>::get(job)
			.unwrap()
			.checkers
			.iter()
			.map(|c| c.who.clone())
			.collect();
		assert_eq!(panel.len(), 3, "the job is audited by a panel of three");
		assert!(panel.iter().all(|a| preset_auditors().contains(a)));
		run_honest_job_after_audit(job, &out);
		check_invariants();
	});
}

/// Whatever panel `job` has commits `out` and reveals it, and so does Bob (which committed
/// `out`).
fn reveal_with_honest_panel(job: infera_primitives::JobId, out: &[u8]) {
	use crate::JobEscrow;
	let panel: Vec<AccountId> = pallet_job_escrow::Jobs::<Runtime>::get(job)
		.unwrap()
		.checkers
		.iter()
		.map(|c| c.who.clone())
		.collect();
	for c in &panel {
		let commitment = commit_and_reveal_plan(job, c, out);
		assert_ok!(JobEscrow::commit_result(RuntimeOrigin::signed(c.clone()), job, commitment));
	}
	for who in core::iter::once(provider()).chain(panel) {
		assert_ok!(JobEscrow::reveal_result(
			RuntimeOrigin::signed(who),
			job,
			out.to_vec(),
			[9u8; 32]
		));
	}
}

/// Finishes an audited job whose provider (Bob) has committed `out`, with an honest panel.
fn run_honest_job_after_audit(job: infera_primitives::JobId, out: &[u8]) {
	reveal_with_honest_panel(job, out);
	let pay_at = pallet_job_escrow::Jobs::<Runtime>::get(job).unwrap().wake_at;
	run_to(pay_at);
	let receipt = pallet_job_escrow::Receipts::<Runtime>::get(job).unwrap();
	assert_eq!(receipt.verdict, pallet_job_escrow::Verdict::AuditPassed);
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

#[test]
fn the_presets_register_minilm_with_its_real_hashes_and_bond_bob_as_its_provider() {
	use crate::genesis_config_presets::{MINILM, MINILM_WEIGHTS, PROVIDER_BOND};
	for preset in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
		ext_from_preset(preset).execute_with(|| {
			let model = pallet_model_registry::Models::<Runtime>::get(MINILM).unwrap();
			assert_eq!(model.files.weights_hash.0, MINILM_WEIGHTS);
			assert_eq!(model.owner, Sr25519Keyring::Ferdie.to_account_id());
			let bob = Sr25519Keyring::Bob.to_account_id();
			let info = pallet_compute_staking::Providers::<Runtime>::get(&bob).unwrap();
			assert_eq!(info.bonded, PROVIDER_BOND);
			// Bob serves MiniLM; the auditors are bonded and declare it too, chilled: they can
			// check its jobs but are never assigned one.
			let listed = pallet_compute_staking::ProvidersByModel::<Runtime>::get(MINILM);
			assert_eq!(listed.len(), 5);
			for a in preset_auditors() {
				let info = pallet_compute_staking::Providers::<Runtime>::get(&a).unwrap();
				assert_eq!(info.bonded, crate::genesis_config_presets::AUDITOR_BOND);
				assert_eq!(info.status, pallet_compute_staking::ProviderStatus::Chilled);
				assert!(listed.contains(&a));
			}
			assert_eq!(pallet_job_escrow::Pallet::<Runtime>::checkers_for(MINILM, None), 4);
			let params = pallet_job_escrow::Params::<Runtime>::get();
			assert_eq!(params, crate::genesis_config_presets::dev_job_params());
			assert_eq!((params.commit_window, params.challenge_window), (5, 3));
			check_invariants();
		});
	}
}

#[test]
fn infera_api_estimates_fees_and_names_every_rejection() {
	use crate::genesis_config_presets::MINILM;
	use crate::infera_api::{implementation::estimate_fee, FeeEstimateError};
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		let e = estimate_fee(MINILM, 43).unwrap();
		assert_eq!(e.price, UNITS / 100 + 43 * UNITS / 100_000);
		assert_eq!(e.royalty, e.price / 20);
		assert_eq!(e.provider_stake, e.price * 30);
		// Bob takes jobs; the four auditors check them.
		assert_eq!(e.checkers, 4);
		assert_eq!(e.providers, 1);
		assert_eq!(
			estimate_fee(infera_primitives::ModelId(77), 43),
			Err(FeeEstimateError::ModelNotActive)
		);
		assert_eq!(estimate_fee(MINILM, 0), Err(FeeEstimateError::EmptyInput));
		let max =
			<<Runtime as pallet_job_escrow::Config>::MaxInputLen as frame_support::traits::Get<
				u32,
			>>::get();
		assert_eq!(estimate_fee(MINILM, max + 1), Err(FeeEstimateError::InputTooLong { max }));
	});
}

/// The offchain worker against the runtime, with test offchain, pool and keystore extensions
/// and an inference backend standing in for the node's engine.
mod worker {
	use super::*;
	use crate::{genesis_config_presets::MINILM, JobEscrow, UncheckedExtrinsic};
	use codec::Decode;
	use infera_interface::{InferenceBackend, InferenceError, InferenceExt, Role, WorkerEvent};
	use pallet_job_escrow::{JobStatus, Jobs};
	use sp_core::offchain::{
		testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	};
	use sp_keystore::{Keystore, KeystoreExt};
	use std::sync::{Arc, Mutex};

	/// Answers with a fixed canonical embedding, or fails as told; records what it was asked.
	#[derive(Default)]
	struct Backend {
		fail: Mutex<Option<InferenceError>>,
		runs: Mutex<Vec<(Vec<u8>, Role)>>,
		notes: Mutex<Vec<WorkerEvent>>,
	}

	impl InferenceBackend for Backend {
		fn run(
			&self,
			model: [u8; 32],
			input: &[u8],
			role: Role,
		) -> Result<Vec<u8>, InferenceError> {
			assert_eq!(model, crate::genesis_config_presets::MINILM_WEIGHTS);
			self.runs.lock().unwrap().push((input.to_vec(), role));
			match self.fail.lock().unwrap().clone() {
				Some(e) => Err(e),
				None => Ok(minilm_output()),
			}
		}
		fn note(&self, event: WorkerEvent) {
			self.notes.lock().unwrap().push(event);
		}
	}

	fn ext() -> (sp_io::TestExternalities, Arc<Backend>, Arc<parking_lot::RwLock<PoolState>>) {
		let mut ext = ext_from_preset(DEV_RUNTIME_PRESET);
		let (offchain, _) = TestOffchainExt::new();
		let (pool, pool_state) = TestTransactionPoolExt::new();
		let keystore = sp_keystore::testing::MemoryKeystore::new();
		keystore.sr25519_generate_new(infera_interface::KEY_TYPE, Some("//Bob")).unwrap();
		let backend = Arc::new(Backend::default());
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext.register_extension(TransactionPoolExt::new(pool));
		ext.register_extension(KeystoreExt::new(keystore));
		ext.register_extension(InferenceExt(backend.clone()));
		(ext, backend, pool_state)
	}

	/// Takes the pool's transactions, checks each is signed by Bob, and dispatches it.
	fn include(pool: &parking_lot::RwLock<PoolState>) -> Vec<pallet_job_escrow::Call<Runtime>> {
		let txs = std::mem::take(&mut pool.write().transactions);
		txs.into_iter()
			.map(|raw| {
				let xt = UncheckedExtrinsic::decode(&mut &raw[..]).unwrap();
				let sp_runtime::generic::Preamble::Signed(address, _, _) = &xt.preamble else {
					panic!("the worker signs its transactions")
				};
				assert_eq!(
					*address,
					sp_runtime::MultiAddress::Id(Sr25519Keyring::Bob.to_account_id())
				);
				let RuntimeCall::JobEscrow(call) = xt.function else { panic!("a job escrow call") };
				let origin = RuntimeOrigin::signed(Sr25519Keyring::Bob.to_account_id());
				assert_ok!(RuntimeCall::JobEscrow(call.clone()).dispatch(origin));
				call
			})
			.collect()
	}

	/// Runs the worker at block `n` as the node would: the block hashes a mortal transaction
	/// names exist (the test's `run_to` does not record them).
	fn run_worker(n: u32) {
		for b in 0..=n {
			frame_system::BlockHash::<Runtime>::insert(b, sp_core::H256::repeat_byte(b as u8 + 1));
		}
		crate::worker::run(n);
	}

	fn submit(input: &[u8]) -> infera_primitives::JobId {
		let job = pallet_job_escrow::NextJobId::<Runtime>::get();
		assert_ok!(JobEscrow::submit_job(
			RuntimeOrigin::signed(Sr25519Keyring::Dave.to_account_id()),
			MINILM,
			input.to_vec(),
			UNITS,
			100
		));
		job
	}

	#[test]
	fn the_worker_commits_once_then_reveals_what_it_committed_and_the_job_verifies() {
		let (mut ext, backend, pool) = ext();
		ext.execute_with(|| {
			let job = submit(b"hello world");
			run_worker(1);
			assert_eq!(
				*backend.runs.lock().unwrap(),
				vec![(b"hello world".to_vec(), Role::Provider)]
			);
			// A second run for the same block (an overlapping worker) does nothing new.
			run_worker(1);
			assert_eq!(backend.runs.lock().unwrap().len(), 1);
			let calls = include(&pool);
			assert!(matches!(calls.as_slice(), [pallet_job_escrow::Call::commit_result { .. }]));
			assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Committed);

			// Reveals open at the audit decision; the worker reveals the stored output and salt.
			let decide = Jobs::<Runtime>::get(job).unwrap().wake_at;
			run_to(decide);
			assert!(matches!(
				Jobs::<Runtime>::get(job).unwrap().status,
				JobStatus::Revealing { audited: false }
			));
			run_worker(decide);
			let calls = include(&pool);
			assert!(matches!(calls.as_slice(), [pallet_job_escrow::Call::reveal_result { .. }]));
			let j = Jobs::<Runtime>::get(job).unwrap();
			assert_eq!(j.status, JobStatus::Verified);
			assert_eq!(
				pallet_job_escrow::Outputs::<Runtime>::get(
					job,
					Sr25519Keyring::Bob.to_account_id()
				)
				.unwrap()
				.into_inner(),
				minilm_output()
			);
			assert_eq!(backend.runs.lock().unwrap().len(), 1, "the model ran once");
			assert_eq!(
				*backend.notes.lock().unwrap(),
				vec![WorkerEvent::Committed(Role::Provider), WorkerEvent::Revealed(Role::Provider)]
			);
			// Once paid, the job leaves the worker's inbox.
			run_to(j.wake_at);
			assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Settled);
			run_worker(j.wake_at);
			assert!(pool.read().transactions.is_empty());
			check_invariants();
		});
	}

	#[test]
	fn a_model_missing_from_the_store_sends_nothing_and_is_retried_later() {
		use crate::worker::RETRY_FAILED_AFTER;
		let (mut ext, backend, pool) = ext();
		ext.execute_with(|| {
			*backend.fail.lock().unwrap() = Some(InferenceError::ModelNotInStore);
			let job = submit(b"hello world");
			run_worker(1);
			assert!(pool.read().transactions.is_empty(), "no commitment without an output");
			// The model arrives in the store; no retry until the back-off has passed.
			*backend.fail.lock().unwrap() = None;
			run_to(RETRY_FAILED_AFTER);
			run_worker(RETRY_FAILED_AFTER);
			assert_eq!(backend.runs.lock().unwrap().len(), 1, "no retry inside the back-off");
			let retry_at = 1 + RETRY_FAILED_AFTER;
			assert!(
				retry_at < Jobs::<Runtime>::get(job).unwrap().wake_at,
				"inside the commit window"
			);
			run_to(retry_at);
			run_worker(retry_at);
			assert_eq!(backend.runs.lock().unwrap().len(), 2);
			let calls = include(&pool);
			assert!(matches!(calls.as_slice(), [pallet_job_escrow::Call::commit_result { .. }]));
			assert_eq!(Jobs::<Runtime>::get(job).unwrap().status, JobStatus::Committed);
		});
	}

	#[test]
	fn without_local_keys_the_worker_does_nothing() {
		let mut ext = ext_from_preset(DEV_RUNTIME_PRESET);
		let (offchain, _) = TestOffchainExt::new();
		let (pool, pool_state) = TestTransactionPoolExt::new();
		let backend = Arc::new(Backend::default());
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext.register_extension(TransactionPoolExt::new(pool));
		ext.register_extension(InferenceExt(backend.clone()));
		ext.execute_with(|| {
			submit(b"hello world");
			run_worker(1);
			assert!(pool_state.read().transactions.is_empty());
			assert!(backend.runs.lock().unwrap().is_empty());
		});
	}
}
