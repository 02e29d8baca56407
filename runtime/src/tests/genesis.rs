//! The genesis presets as the node builds them: validators, sudo, MiniLM with its real hashes,
//! Bob as its provider.

use super::*;

#[test]
fn development_preset_builds_with_alice_validating() {
	ext_from_preset(DEV_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(Session::validators(), vec![alice()]);
		assert_eq!(pallet_validator_set::Validators::<Runtime>::get().into_inner(), vec![alice()]);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(alice()));
		// Alice's auditor bond and registration deposit are held out of her endowment.
		assert_eq!(
			Balances::balance(&alice()),
			crate::genesis_config_presets::ENDOWMENT
				- crate::genesis_config_presets::AUDITOR_BOND
				- crate::configs::ProviderDeposit::get()
		);
		assert_eq!(Balances::total_balance(&alice()), crate::genesis_config_presets::ENDOWMENT);
		assert!(tracks::is_test_network());
		check_invariants();
	});
}

/// Alice, Bob, Charlie and Dave, sorted: the validators of `local_testnet` and `testnet`.
fn four_validators() -> Vec<AccountId> {
	let mut set: Vec<AccountId> =
		[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie, Sr25519Keyring::Dave]
			.iter()
			.map(|k| k.to_account_id())
			.collect();
	set.sort();
	set
}

/// The session's validators, sorted.
fn session_set() -> Vec<AccountId> {
	let mut session = Session::validators();
	session.sort();
	session
}

#[test]
fn local_testnet_preset_builds_with_four_validators() {
	ext_from_preset(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		assert_eq!(session_set(), four_validators());
		assert_eq!(Babe::authorities().len(), 4);
		check_invariants();
	});
}

#[test]
fn testnet_preset_has_validators_that_audit_and_providers_that_do_not_validate() {
	use crate::genesis_config_presets::{PROVIDER_BOND, TESTNET_RUNTIME_PRESET};
	ext_from_preset(TESTNET_RUNTIME_PRESET).execute_with(|| {
		let validators = four_validators();
		let session = session_set();
		assert_eq!(session, validators);
		for v in &validators {
			assert!(pallet_job_escrow::Auditors::<Runtime>::get().contains(v), "{v} audits");
		}
		for p in [Sr25519Keyring::Eve, Sr25519Keyring::Ferdie] {
			let who = p.to_account_id();
			assert!(!session.contains(&who));
			let provider = pallet_compute_staking::Providers::<Runtime>::get(&who).expect("bonded");
			assert_eq!(provider.models.len(), 3);
			assert_eq!(provider.bonded, PROVIDER_BOND);
			assert_eq!(provider.status, pallet_compute_staking::ProviderStatus::Active);
		}
		// Sudo is an account that no node signs with (validators, auditors and providers all
		// have workers), so a sudo call and a worker's commit never share a nonce.
		let sudo = pallet_sudo::Key::<Runtime>::get().expect("the testnet has a sudo key");
		assert_eq!(sudo, Sr25519Keyring::BobStash.to_account_id());
		assert!(!validators.contains(&sudo));
		assert!(pallet_compute_staking::Providers::<Runtime>::get(&sudo).is_none());
		check_invariants();
	});
}

#[test]
fn unknown_preset_is_none() {
	assert!(crate::genesis_config_presets::get_preset(&"mainnet-ish".into()).is_none());
	assert_eq!(crate::genesis_config_presets::preset_names().len(), 3);
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

#[test]
fn the_presets_register_minilm_with_its_real_hashes_and_bond_bob_as_its_provider() {
	use crate::genesis_config_presets::{
		CLASSIFIER, CLASSIFIER_WEIGHTS, DECODER, DECODER_MAX_TOKENS, DECODER_WEIGHTS, MINILM,
		MINILM_TOKENIZER, MINILM_WEIGHTS, PROVIDER_BOND,
	};
	for preset in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
		ext_from_preset(preset).execute_with(|| {
			let model = pallet_model_registry::Models::<Runtime>::get(MINILM).unwrap();
			assert_eq!(model.files.weights_hash.0, MINILM_WEIGHTS);
			assert_eq!(model.owner, Sr25519Keyring::Ferdie.to_account_id());
			let bob = Sr25519Keyring::Bob.to_account_id();
			let info = pallet_compute_staking::Providers::<Runtime>::get(&bob).unwrap();
			assert_eq!(info.bonded, PROVIDER_BOND);
			// Bob serves MiniLM and is its only listed provider; the auditors are bonded and
			// declare it too, chilled: they can check its jobs, hold no place in its list and are
			// never assigned one.
			let listed = pallet_compute_staking::ProvidersByModel::<Runtime>::get(MINILM);
			assert_eq!(listed.to_vec(), vec![bob.clone()]);
			for a in preset_auditors() {
				let info = pallet_compute_staking::Providers::<Runtime>::get(&a).unwrap();
				assert_eq!(info.bonded, crate::genesis_config_presets::AUDITOR_BOND);
				assert_eq!(info.status, pallet_compute_staking::ProviderStatus::Chilled);
				assert!(!listed.contains(&a));
				assert_eq!(info.models.to_vec(), vec![MINILM, CLASSIFIER, DECODER]);
			}
			// The seeded classifier and decoder (`infera-node inference seed-models`) share
			// MiniLM's tokenizer; Bob serves them too, and the auditors check them.
			for (id, weights) in [(CLASSIFIER, CLASSIFIER_WEIGHTS), (DECODER, DECODER_WEIGHTS)] {
				let model = pallet_model_registry::Models::<Runtime>::get(id).unwrap();
				assert_eq!(model.files.weights_hash.0, weights);
				assert_eq!(model.files.tokenizer_hash.0, MINILM_TOKENIZER);
				let listed = pallet_compute_staking::ProvidersByModel::<Runtime>::get(id);
				assert_eq!(listed.to_vec(), vec![bob.clone()]);
				assert_eq!(pallet_job_escrow::Pallet::<Runtime>::checkers_for(id, None), 4);
			}
			assert!(matches!(
				pallet_model_registry::Models::<Runtime>::get(DECODER).unwrap().architecture,
				infera_primitives::Architecture::Generation { max_tokens: DECODER_MAX_TOKENS, .. }
			));
			assert_eq!(pallet_job_escrow::Pallet::<Runtime>::checkers_for(MINILM, None), 4);
			let params = pallet_job_escrow::Params::<Runtime>::get();
			assert_eq!(params, crate::genesis_config_presets::dev_job_params());
			assert_eq!((params.commit_window, params.challenge_window), (5, 3));
			check_invariants();
		});
	}
}

#[test]
fn the_presets_fund_an_agent_budget_the_gateways_dev_key_draws_on() {
	use crate::genesis_config_presets::{DEV_AGENT, DEV_AGENT_FEES, DEV_BUDGET};
	use frame_support::traits::fungible::InspectHold;
	for preset in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
		ext_from_preset(preset).execute_with(|| {
			let ferdie = Sr25519Keyring::Ferdie.to_account_id();
			let agent = AccountId::from(DEV_AGENT);
			let budget = pallet_budgets::PayerBudgets::<Runtime>::get(&ferdie).unwrap();
			assert_eq!((budget.balance, budget.delegates), (DEV_BUDGET, 1));
			assert_eq!(
				Balances::balance_on_hold(&pallet_budgets::HoldReason::Budget.into(), &ferdie),
				DEV_BUDGET
			);
			let allowance = pallet_budgets::Allowances::<Runtime>::get(&ferdie, &agent).unwrap();
			assert_eq!((allowance.limits.per_job, allowance.spent), (UNITS, 0));
			assert_eq!(Balances::total_balance(&agent), DEV_AGENT_FEES);
			check_invariants();
		});
	}
}
