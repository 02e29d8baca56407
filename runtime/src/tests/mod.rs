//! Runtime tests against the real runtime (native build of the same code as the wasm), by
//! subject: genesis presets, governance, the validator set, jobs and their money, verification
//! against cheaters, and the offchain worker. This file holds what they share: the preset
//! externalities, the whole-runtime invariants and the job helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{
	governance::{origins::pallet_custom_origins, tracks, EnsureRootOrParams},
	AccountId, Babe, Balance, Balances, ConvictionVoting, Grandpa, OriginCaller, Preimage,
	Referenda, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, Scheduler, Session, SessionKeys,
	System, ValidatorSet, UNITS,
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

mod budgets;
mod genesis;
mod governance;
mod jobs;
mod market;
mod validators;
mod verification;
mod worker;

/// The state a preset describes, built through the same JSON path the node uses.
pub(crate) fn ext_from_preset(name: &str) -> sp_io::TestExternalities {
	let config = crate::genesis_config_presets::preset_config(name)
		.unwrap_or_else(|| panic!("preset {name} exists"));
	let storage = config.build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| System::set_block_number(1));
	ext
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

pub(crate) fn events() -> Vec<RuntimeEvent> {
	System::events().into_iter().map(|r| r.event).collect()
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

/// The checkers on `job`'s audit panel.
pub(crate) fn panel_of(job: infera_primitives::JobId) -> Vec<AccountId> {
	pallet_job_escrow::Jobs::<Runtime>::get(job)
		.unwrap()
		.checkers
		.iter()
		.map(|c| c.who.clone())
		.collect()
}

/// Reveals `out` behind `who`'s commitment (salt `salt`). The reveal that completes an audit,
/// or reveals a refusal, is judged by the next block's hook: the chain moves on to that block,
/// as it would.
pub(crate) fn reveal_and_judge(
	job: infera_primitives::JobId,
	who: &AccountId,
	out: &[u8],
	salt: [u8; 32],
) {
	use crate::JobEscrow;
	let info =
		JobEscrow::reveal_result(RuntimeOrigin::signed(who.clone()), job, out.to_vec(), salt);
	assert_ok!(info);
	let deferred = <<Runtime as pallet_job_escrow::Config>::WeightInfo as
		pallet_job_escrow::WeightInfo>::reveal_result();
	if info.ok().and_then(|i| i.actual_weight) == Some(deferred) {
		let next = System::block_number() + 1;
		assert_eq!(pallet_job_escrow::Jobs::<Runtime>::get(job).map(|j| j.wake_at), Some(next));
		run_to(next);
	}
}

/// Whatever panel `job` has commits `out` and reveals it, and so does Bob (which committed
/// `out`).
fn reveal_with_honest_panel(job: infera_primitives::JobId, out: &[u8]) {
	use crate::JobEscrow;
	let panel = panel_of(job);
	for c in &panel {
		let commitment = commit_and_reveal_plan(job, c, out);
		assert_ok!(JobEscrow::commit_result(RuntimeOrigin::signed(c.clone()), job, commitment));
	}
	for who in core::iter::once(provider()).chain(panel) {
		reveal_and_judge(job, &who, out, [9u8; 32]);
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
