//! The pallets benchmarked for this runtime's weights.

use crate::{AccountId, Balances, RuntimeOrigin, Session, SessionKeys, UNITS};
use codec::Encode;
use frame_support::traits::fungible::Mutate;

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_validator_set, ValidatorSet]
	[pallet_model_registry, ModelRegistry]
	[pallet_compute_staking, ComputeStaking]
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

/// Registers real models in `ModelRegistry` for the compute-staking benchmarks.
pub struct ComputeStakingBenchmarkHelper;
impl pallet_compute_staking::BenchmarkHelper for ComputeStakingBenchmarkHelper {
	fn active_model(seed: u32) -> infera_primitives::ModelId {
		use frame_support::BoundedVec;
		use infera_primitives::{Architecture, EmbeddingTolerance};
		use sp_core::H256;
		use sp_runtime::Perbill;

		let owner: AccountId = frame_benchmarking::account("model-owner", seed, 0);
		let _ = Balances::set_balance(&owner, UNITS.saturating_mul(1_000));
		let id = pallet_model_registry::NextModelId::<crate::Runtime>::get();
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
			dimensions: 384,
			tolerance: EmbeddingTolerance { min_cosine: Perbill::one(), max_element_diff: 0 },
		};
		let result = crate::ModelRegistry::register_model(
			RuntimeOrigin::signed(owner),
			files,
			architecture,
			metadata,
			None,
			Perbill::zero(),
		);
		if let Err(e) = result {
			log::error!(target: "runtime::benchmarks", "registering a benchmark model failed: {e:?}");
		}
		id
	}
}
