//! Genesis presets: `development` (Alice alone validates) and `local_testnet` (Alice, Bob,
//! Charlie and Dave). Both endow the well-known dev accounts, admit Alice, Charlie, Dave and Eve
//! as job auditors, and set Alice as sudo; a production genesis would set no sudo key.

use crate::{
	AccountId, BabeConfig, Balance, BalancesConfig, JobEscrowConfig, RewardsConfig,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig, ValidatorSetConfig,
	BABE_GENESIS_EPOCH_CONFIG, EXISTENTIAL_DEPOSIT, UNITS,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::traits::AccountIdConversion;

/// Each well-known dev account starts with one million INFR.
pub const ENDOWMENT: Balance = 1_000_000 * UNITS;

/// A validator of a preset: its account and session keys, derived from the well-known seed.
fn validator((who, grandpa): (Sr25519Keyring, Ed25519Keyring)) -> (AccountId, SessionKeys) {
	let babe: BabeId = who.public().into();
	let grandpa: GrandpaId = grandpa.public().into();
	(who.to_account_id(), SessionKeys { babe, grandpa })
}

fn testnet_genesis(
	validators: Vec<(Sr25519Keyring, Ed25519Keyring)>,
	auditors: Vec<Sr25519Keyring>,
	root: AccountId,
) -> Value {
	let validators: Vec<(AccountId, SessionKeys)> = validators.into_iter().map(validator).collect();
	let treasury: AccountId = crate::configs::TreasuryPalletId::get().into_account_truncating();
	let mut balances: Vec<(AccountId, Balance)> =
		Sr25519Keyring::iter().map(|k| (k.to_account_id(), ENDOWMENT)).collect();
	// The treasury account exists from genesis so fees below the existential deposit are kept.
	balances.push((treasury, EXISTENTIAL_DEPOSIT));

	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances },
		babe: BabeConfig { epoch_config: BABE_GENESIS_EPOCH_CONFIG },
		validator_set: ValidatorSetConfig {
			validators: validators.iter().map(|(who, _)| who.clone()).collect::<Vec<_>>(),
		},
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|(who, keys)| (who.clone(), who, keys))
				.collect::<Vec<_>>(),
		},
		job_escrow: JobEscrowConfig {
			auditors: auditors.into_iter().map(|k| k.to_account_id()).collect::<Vec<_>>(),
		},
		// Ten-block reward epochs, so a person watching the dev chain sees them close.
		rewards: RewardsConfig { epoch_length: Some(10) },
		sudo: SudoConfig { key: Some(root) },
	})
}

/// Auditors of both presets: enough for an audit plus a committee of three.
fn auditors() -> Vec<Sr25519Keyring> {
	vec![Sr25519Keyring::Alice, Sr25519Keyring::Charlie, Sr25519Keyring::Dave, Sr25519Keyring::Eve]
}

/// `development`: Alice is the only validator and the sudo key.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		auditors(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// `local_testnet`: four validators, Alice holds sudo.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		auditors(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The preset named `id`, as a JSON patch, or `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	serde_json::to_vec(&patch).ok()
}

/// The names of the presets this runtime has.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
