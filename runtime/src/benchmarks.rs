//! The pallets benchmarked for this runtime's weights.

use crate::{AccountId, Balances, RuntimeOrigin, Session, SessionKeys, UNITS};
use alloc::vec;
use codec::Encode;
use frame_support::traits::{fungible::Mutate, Get};

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_validator_set, ValidatorSet]
	[pallet_model_registry, ModelRegistry]
	[pallet_compute_staking, ComputeStaking]
	[pallet_job_escrow, JobEscrow]
	[pallet_rewards, Rewards]
	[pallet_budgets, Budgets]
);

/// Gives a benchmark account funds and real session keys with a valid ownership proof.
pub struct ValidatorSetBenchmarkHelper;
impl pallet_validator_set::BenchmarkHelper<AccountId> for ValidatorSetBenchmarkHelper {
	fn register_keys(who: &AccountId) {
		let _ = Balances::set_balance(who, UNITS);
		let generated = SessionKeys::generate(&who.encode(), None);
		let result = Session::set_keys(
			RuntimeOrigin::signed(who.clone()),
			generated.keys,
			generated.proof.encode(),
		);
		if let Err(e) = result {
			log::error!(target: "runtime::benchmarks", "set_keys for a benchmark account failed: {e:?}");
		}
	}
}

/// Registers a real model in `ModelRegistry`: a text embedding of `dimensions` with a 5 %
/// royalty; its files' hashes come from the next model id, so every call registers a new model.
fn register_bench_model(dimensions: u32) -> infera_primitives::ModelId {
	use frame_support::BoundedVec;
	use infera_primitives::{Architecture, EmbeddingTolerance};
	use sp_core::H256;
	use sp_runtime::Perbill;

	let id = pallet_model_registry::NextModelId::<crate::Runtime>::get();
	let seed = id.0;
	// An owner per model: royalties paid in one block go to as many accounts as models.
	let owner: AccountId =
		frame_benchmarking::account("model-owner", u32::try_from(seed).unwrap_or(u32::MAX), 0);
	let _ = Balances::set_balance(&owner, UNITS.saturating_mul(1_000_000));
	let mut bytes = [0u8; 32];
	for (b, s) in bytes.iter_mut().zip(seed.to_le_bytes()) {
		*b = s;
	}
	let hash = H256(bytes);
	let files = pallet_model_registry::ModelFiles {
		weights_hash: hash,
		weights_size: 1,
		config_hash: hash,
		tokenizer_hash: hash,
	};
	let metadata = pallet_model_registry::ModelMetadata {
		name: BoundedVec::truncate_from(b"bench".to_vec()),
		version: BoundedVec::truncate_from(b"1".to_vec()),
		license: BoundedVec::truncate_from(b"MIT".to_vec()),
		dataset_hash: None,
	};
	let architecture = Architecture::TextEmbedding {
		dimensions,
		// Loose enough that every comparison passes the element check and computes the cosine
		// in full: the dearest comparison.
		tolerance: EmbeddingTolerance {
			min_cosine: Perbill::from_percent(99),
			max_element_diff: 1_024,
		},
	};
	let result = crate::ModelRegistry::register_model(
		RuntimeOrigin::signed(owner),
		files,
		architecture,
		metadata,
		None,
		Perbill::from_percent(5),
	);
	if let Err(e) = result {
		log::error!(target: "runtime::benchmarks", "registering a benchmark model failed: {e:?}");
	}
	id
}

/// Registers real models in `ModelRegistry` for the compute-staking benchmarks.
pub struct ComputeStakingBenchmarkHelper;
impl pallet_compute_staking::BenchmarkHelper for ComputeStakingBenchmarkHelper {
	fn active_model(_seed: u32) -> infera_primitives::ModelId {
		register_bench_model(384)
	}
}

/// Real models and real bonded providers for the job-escrow benchmarks.
pub struct JobEscrowBenchmarkHelper;
impl pallet_job_escrow::BenchmarkHelper<AccountId> for JobEscrowBenchmarkHelper {
	fn model(dimensions: u32) -> infera_primitives::ModelId {
		register_bench_model(dimensions)
	}

	fn provider(who: &AccountId, model: infera_primitives::ModelId) {
		Self::staked(who, model, false)
	}

	fn max_providers() -> u32 {
		<crate::Runtime as pallet_compute_staking::Config>::MaxProvidersPerModel::get()
	}

	/// A bonded auditor checking `model`: chilled before it declares the model, so it takes no
	/// place in the model's provider list (which may be full).
	fn checker(who: &AccountId, model: infera_primitives::ModelId) {
		Self::staked(who, model, true)
	}
}

impl JobEscrowBenchmarkHelper {
	fn staked(who: &AccountId, model: infera_primitives::ModelId, chilled: bool) {
		use infera_primitives::{Accelerator, HardwareProfile};
		let origin = || RuntimeOrigin::signed(who.clone());
		let hardware = HardwareProfile {
			accelerator: Accelerator::Cpu,
			cpu_cores: 2,
			memory_mib: 24_576,
			accelerator_memory_mib: 0,
		};
		let models = frame_support::BoundedVec::truncate_from(vec![model]);
		let bond = UNITS.saturating_mul(1_000_000);
		let result = crate::ComputeStaking::register_provider(origin(), hardware)
			.and_then(|_| crate::ComputeStaking::bond(origin(), bond))
			.and_then(|_| if chilled { crate::ComputeStaking::chill(origin()) } else { Ok(()) })
			.and_then(|_| crate::ComputeStaking::set_models(origin(), models));
		if let Err(e) = result {
			log::error!(target: "runtime::benchmarks", "making a benchmark provider failed: {e:?}");
		}
	}
}

/// `frame_system`'s benchmarks with their default setup.
impl frame_system_benchmarking::Config for crate::Runtime {}

/// A real model with a full list of real bonded providers, for the budgets' `submit_jobs`.
pub struct BudgetsBenchmarkHelper;
impl pallet_budgets::BenchmarkHelper<AccountId> for BudgetsBenchmarkHelper {
	fn model() -> infera_primitives::ModelId {
		use pallet_job_escrow::BenchmarkHelper as _;
		let model = register_bench_model(384);
		for i in 0..JobEscrowBenchmarkHelper::max_providers() {
			let who: AccountId = frame_benchmarking::account("budget-provider", i, 0);
			// Funded as the job-escrow benchmarks fund theirs: enough to bond for many jobs.
			let funds = sp_runtime::Perbill::from_parts(100_000).mul_floor(crate::Balance::MAX);
			let _ = Balances::set_balance(&who, funds);
			JobEscrowBenchmarkHelper::provider(&who, model);
		}
		model
	}
}
