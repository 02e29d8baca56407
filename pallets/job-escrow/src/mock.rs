//! Test runtime: System, Balances and the job escrow, with a registry, a provider set and a
//! work recorder that record what the escrow asks of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use crate::{self as pallet_job_escrow, JobParams};
use codec::Encode;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Randomness},
};
use frame_system::EnsureRoot;
use infera_primitives::{
	canonical::CanonicalOutput, traits::ComputeProviders, Architecture, EmbeddingTolerance, JobId,
	ModelId,
};
use sp_core::H256;
use sp_runtime::{BuildStorage, DispatchError, DispatchResult, Perbill};
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		JobEscrow: pallet_job_escrow,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ExistentialDeposit = ConstU64<10>;
}

pub const CLIENT: u64 = 1;
pub const P1: u64 = 2;
pub const P2: u64 = 3;
pub const POOR: u64 = 5;
pub const A1: u64 = 11;
pub const A2: u64 = 12;
pub const A3: u64 = 13;
pub const A4: u64 = 14;
pub const A5: u64 = 15;
pub const OWNER: u64 = 20;
pub const PROTOCOL: u64 = 30;
pub const STRANGER: u64 = 40;
/// Holds the mock providers' bonds: a slash really moves tokens out of it.
pub const VAULT: u64 = 50;
/// Receives slashed bond not paid to a reporter.
pub const TREASURY: u64 = 51;
/// A tenth of every slash goes to its reporter, as in the runtime's default.
pub const REPORTER_SHARE: Perbill = Perbill::from_percent(10);

/// An embedding model of four dimensions, owned by `OWNER` with a 10 % royalty.
pub const MODEL: ModelId = ModelId(1);
/// Registered but deprecated.
pub const DEPRECATED: ModelId = ModelId(2);
/// Registered and active, but no provider serves it: its jobs wait in its own queue.
pub const UNSERVED: ModelId = ModelId(3);
/// The hash of the mock models' weights.
pub const WEIGHTS: [u8; 32] = [0xaa; 32];
/// The hash of the mock models' training data.
pub const DATASET: [u8; 32] = [0xda; 32];

pub fn embedding_arch() -> Architecture {
	Architecture::TextEmbedding {
		dimensions: 4,
		tolerance: EmbeddingTolerance {
			min_cosine: Perbill::from_percent(99),
			max_element_diff: 500,
		},
	}
}

/// A provider in the mock provider set.
#[derive(Clone, Default, Debug)]
pub struct MockProvider {
	pub bonded: Balance,
	pub locked: Balance,
	pub models: Vec<ModelId>,
	pub no_shows: u32,
	pub verified: u32,
	pub slashed: Balance,
	/// Takes no jobs as a provider (can still check).
	pub chilled: bool,
}

thread_local! {
	pub static PROVIDERS: RefCell<BTreeMap<u64, MockProvider>> = const { RefCell::new(BTreeMap::new()) };
	/// (slashed, amount, reporter)
	pub static SLASHES: RefCell<Vec<(u64, Balance, Option<u64>)>> = const { RefCell::new(Vec::new()) };
	pub static WORK: RefCell<BTreeMap<u64, u64>> = const { RefCell::new(BTreeMap::new()) };
	pub static AUDITS: RefCell<BTreeMap<u64, u32>> = const { RefCell::new(BTreeMap::new()) };
	pub static OPEN_PER_MODEL: RefCell<BTreeMap<ModelId, u32>> = const { RefCell::new(BTreeMap::new()) };
	pub static RANDOM_SALT: RefCell<u64> = const { RefCell::new(0) };
}

/// Registers `who` as a provider serving `MODEL` with `bonded` at stake. The bond is real money:
/// minted into `VAULT`, which slashes pay out of.
pub fn add_provider(who: u64, bonded: Balance) {
	use frame_support::traits::fungible::Mutate;
	Balances::mint_into(&VAULT, bonded).unwrap();
	PROVIDERS.with(|p| {
		p.borrow_mut()
			.insert(who, MockProvider { bonded, models: vec![MODEL], ..Default::default() })
	});
}

/// Bonds `who` as a provider that does not take jobs (like the runtime's chilled auditors).
pub fn add_checker(who: u64, bonded: Balance) {
	add_provider(who, bonded);
	PROVIDERS.with(|p| p.borrow_mut().get_mut(&who).unwrap().chilled = true);
}

pub fn provider(who: u64) -> MockProvider {
	PROVIDERS.with(|p| p.borrow().get(&who).cloned().unwrap_or_default())
}

pub fn slashes() -> Vec<(u64, Balance, Option<u64>)> {
	SLASHES.with(|s| s.borrow().clone())
}

pub fn audits(who: u64) -> u32 {
	AUDITS.with(|a| a.borrow().get(&who).copied().unwrap_or(0))
}

pub fn work(who: u64) -> u64 {
	WORK.with(|a| a.borrow().get(&who).copied().unwrap_or(0))
}

pub fn open_jobs_of_model(model: ModelId) -> u32 {
	OPEN_PER_MODEL.with(|o| o.borrow().get(&model).copied().unwrap_or(0))
}

pub struct MockRegistry;
impl infera_primitives::traits::ModelRegistry<u64> for MockRegistry {
	fn is_active(model: ModelId) -> bool {
		model == MODEL || model == UNSERVED
	}
	fn architecture(model: ModelId) -> Option<Architecture> {
		(model == MODEL || model == DEPRECATED || model == UNSERVED).then(embedding_arch)
	}
	fn royalty(model: ModelId) -> Option<(u64, Perbill)> {
		(model == MODEL).then_some((OWNER, Perbill::from_percent(10)))
	}
	fn provenance(model: ModelId) -> Option<([u8; 32], Option<[u8; 32]>)> {
		(model == MODEL || model == DEPRECATED || model == UNSERVED)
			.then_some((WEIGHTS, Some(DATASET)))
	}
	fn note_job_opened(model: ModelId) -> DispatchResult {
		OPEN_PER_MODEL.with(|o| *o.borrow_mut().entry(model).or_default() += 1);
		Ok(())
	}
	fn note_job_closed(model: ModelId) {
		OPEN_PER_MODEL.with(|o| *o.borrow_mut().entry(model).or_default() -= 1);
	}
}

pub struct MockProviders;
impl ComputeProviders<u64, Balance> for MockProviders {
	fn serves(who: &u64, model: ModelId) -> bool {
		let p = provider(*who);
		!p.chilled && p.models.contains(&model)
	}
	fn can_check(who: &u64, model: ModelId, stake: Balance) -> bool {
		PROVIDERS.with(|p| {
			p.borrow().get(who).is_some_and(|info| {
				info.bonded > 0
					&& info.models.contains(&model)
					&& info.bonded.saturating_sub(info.locked) >= stake
			})
		})
	}
	fn with_locked_stake() -> Vec<u64> {
		PROVIDERS
			.with(|p| p.borrow().iter().filter(|(_, i)| i.locked > 0).map(|(w, _)| *w).collect())
	}
	fn free_stake(who: &u64) -> Balance {
		let p = provider(*who);
		p.bonded.saturating_sub(p.locked)
	}
	fn locked_stake(who: &u64) -> Balance {
		provider(*who).locked
	}
	fn select(model: ModelId, stake: Balance, exclude: &[u64], seed: [u8; 32]) -> Option<u64> {
		let candidates: Vec<(u64, Balance)> = PROVIDERS.with(|p| {
			p.borrow()
				.iter()
				.filter(|(who, info)| {
					!info.chilled
						&& info.models.contains(&model)
						&& !exclude.contains(who)
						&& info.bonded.saturating_sub(info.locked) >= stake
						&& info.bonded > info.locked
				})
				.map(|(who, info)| (*who, info.bonded - info.locked))
				.collect()
		});
		let total: u64 = candidates.iter().map(|(_, w)| *w).sum();
		if total == 0 {
			return None;
		}
		let mut draw = u64::from_le_bytes(seed[..8].try_into().unwrap()) % total;
		for (who, w) in candidates {
			if draw < w {
				return Some(who);
			}
			draw -= w;
		}
		None
	}
	fn lock(who: &u64, amount: Balance) -> DispatchResult {
		PROVIDERS.with(|p| {
			let mut p = p.borrow_mut();
			let info = p.get_mut(who).ok_or(DispatchError::Other("not a provider"))?;
			if info.bonded.saturating_sub(info.locked) < amount {
				return Err(DispatchError::Other("insufficient free stake"));
			}
			info.locked += amount;
			Ok(())
		})
	}
	fn unlock(who: &u64, amount: Balance) {
		PROVIDERS.with(|p| {
			if let Some(info) = p.borrow_mut().get_mut(who) {
				info.locked = info.locked.saturating_sub(amount);
			}
		});
	}
	/// As the staking pallet: an account that is not a provider cannot be slashed; a slash takes
	/// at most the bond, and the tokens move out of the vault to the reporter and the treasury.
	fn slash(who: &u64, amount: Balance, reporter: Option<&u64>) -> Result<Balance, DispatchError> {
		use frame_support::traits::{fungible::Mutate, tokens::Preservation};
		let taken = PROVIDERS.with(|p| {
			let mut p = p.borrow_mut();
			let info = p.get_mut(who).ok_or(DispatchError::Other("NotProvider"))?;
			let taken = amount.min(info.bonded);
			info.bonded -= taken;
			info.slashed += taken;
			Ok::<_, DispatchError>(taken)
		})?;
		let to_reporter = reporter.map(|_| REPORTER_SHARE.mul_floor(taken)).unwrap_or(0);
		if let Some(r) = reporter {
			Balances::transfer(&VAULT, r, to_reporter, Preservation::Expendable)?;
		}
		Balances::transfer(&VAULT, &TREASURY, taken - to_reporter, Preservation::Expendable)?;
		SLASHES.with(|s| s.borrow_mut().push((*who, taken, reporter.copied())));
		Ok(taken)
	}
	fn record_no_show(who: &u64) {
		PROVIDERS.with(|p| {
			if let Some(info) = p.borrow_mut().get_mut(who) {
				info.no_shows += 1;
			}
		});
	}
	fn record_verified(who: &u64) {
		PROVIDERS.with(|p| {
			if let Some(info) = p.borrow_mut().get_mut(who) {
				info.verified += 1;
			}
		});
	}
}

pub struct MockWork;
impl infera_primitives::traits::WorkRecorder<u64> for MockWork {
	fn credit_work(provider: &u64, points: u64) {
		WORK.with(|w| *w.borrow_mut().entry(*provider).or_default() += points);
	}
	fn credit_audit(validator: &u64) {
		AUDITS.with(|a| *a.borrow_mut().entry(*validator).or_default() += 1);
	}
}

/// Fresh for every block and salt; `None` never happens here.
pub struct TestRandomness;
impl Randomness<Option<H256>, u64> for TestRandomness {
	fn random(subject: &[u8]) -> (Option<H256>, u64) {
		let block = System::block_number();
		let salt = RANDOM_SALT.with(|s| *s.borrow());
		let h = sp_io::hashing::blake2_256(&(subject, block, salt).encode());
		(Some(H256(h)), block)
	}
}

parameter_types! {
	/// The hook's weight budget for wake-ups; tests lower it.
	pub storage MaxWakeupWeight: frame_support::weights::Weight =
		frame_support::weights::Weight::MAX;
	pub const Protocol: u64 = PROTOCOL;
	pub const DefaultParams: JobParams<Balance, u64> = JobParams {
		audit_rate: Perbill::from_percent(5),
		committee_size: 3,
		commit_window: 5,
		reveal_window: 5,
		challenge_window: 5,
		max_deadline: 100,
		base_fee: 100,
		fee_per_byte: 1,
		max_fee: 10_000,
		max_reassignments: 1,
		collateral_ratio: 20,
		no_show_slash: Perbill::from_percent(10),
		fraud_slash: Perbill::from_percent(100),
		protocol_cut: Perbill::from_percent(5),
		retention: 10,
		receipt_retention: 40,
		storage_fee: 10,
		probe_interval: 0,
	};
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for MockProviders {
	/// The mock registry has one four-dimensional model; its providers start afresh.
	fn model(_dimensions: u32) -> ModelId {
		PROVIDERS.with(|p| p.borrow_mut().clear());
		// The genesis auditors stay bonded checkers of the model.
		for a in [A1, A2, A3, A4] {
			add_checker(a, 1_000_000);
		}
		MODEL
	}
	fn max_providers() -> u32 {
		16
	}
	fn provider(who: &u64, _model: ModelId) {
		add_provider(*who, 1_000_000_000);
	}
	fn checker(who: &u64, _model: ModelId) {
		add_checker(*who, 1_000_000_000);
	}
}

impl pallet_job_escrow::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelRegistry = MockRegistry;
	type Providers = MockProviders;
	type WorkRecorder = MockWork;
	type Randomness = TestRandomness;
	type ProtocolAccount = Protocol;
	type ParamsOrigin = EnsureRoot<u64>;
	type AuditorOrigin = EnsureRoot<u64>;
	type DefaultParams = DefaultParams;
	type MaxInputLen = ConstU32<64>;
	type MaxOutputLen = ConstU32<256>;
	type MaxAuditors = ConstU32<6>;
	type MaxCommittee = ConstU32<3>;
	type MaxAttempts = ConstU32<3>;
	type MaxWakeupsPerBlock = ConstU32<8>;
	type MaxWakeupWeight = MaxWakeupWeight;
	type MaxQueued = ConstU32<4>;
	type AssignPerBlock = ConstU32<2>;
	type MaxJobsPerCall = ConstU32<8>;
	type OnJobFinished = ();
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockProviders;
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(CLIENT, 1_000_000),
			(P1, 1_000),
			(P2, 1_000),
			(POOR, 150),
			(A1, 1_000),
			(A2, 1_000),
			(A3, 1_000),
			(A4, 1_000),
			(A5, 1_000),
			(OWNER, 1_000),
			(PROTOCOL, 1_000),
			(TREASURY, 1_000),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_job_escrow::GenesisConfig::<Test> {
		auditors: vec![A1, A2, A3, A4],
		params: None,
		probe_models: vec![MODEL],
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		// The admitted auditors are bonded and declare the model, as in the runtime's presets.
		for a in [A1, A2, A3, A4] {
			add_checker(a, 1_000_000);
		}
	});
	ext
}

/// Runs `test` with the invariants checked after it.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		JobEscrow::do_try_state().expect("escrow invariants hold after the test");
	});
}

/// Advances to block `n`, running the escrow's hook in every block.
pub fn run_to(n: u64) {
	use frame_support::traits::Hooks;
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		JobEscrow::on_initialize(next);
		JobEscrow::do_try_state().expect("escrow invariants hold in every block");
	}
}

/// A canonical embedding output, SCALE-encoded.
pub fn embedding(v: [i16; 4]) -> Vec<u8> {
	CanonicalOutput::Embedding(v.to_vec()).encode()
}

/// The commitment `who` submits for `output` with `salt`.
pub fn commitment(job: JobId, who: u64, output: &[u8], salt: [u8; 32]) -> H256 {
	let hash = H256(sp_io::hashing::blake2_256(output));
	crate::commitment_of(job, &who, &hash, &salt)
}
