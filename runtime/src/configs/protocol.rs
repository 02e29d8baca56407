//! Infera's own pallets: model provenance, compute staking, the job escrow and rewards. Every
//! parameter is set by Root or the `infera_params` track.

use crate::{
	configs::monetary::TreasuryAccount, deposit, governance::EnsureRootOrParams, Balance, Balances,
	BlockNumber, ComputeStaking, ModelRegistry, Runtime, RuntimeHoldReason, DAYS, MINUTES, UNITS,
};
use codec::MaxEncodedLen;
use frame_support::{
	parameter_types,
	traits::{ConstU32, Get},
};
use frame_system::EnsureRoot;
use pallet_compute_staking::StakingParams;
use pallet_job_escrow::JobParams;
use pallet_model_registry::RegistryParams;
use sp_runtime::Perbill;

parameter_types! {
	/// Until governance sets them: royalties up to 30 %; embedding tolerances no looser than
	/// cosine 0.99 and 2048/32767 per element; a classification tie margin of at most one logit
	/// and a generation τ of at most 0.125 (what audit panels record); a deposit of 0.02 INFR plus 0.0001 INFR per stored byte.
	pub const DefaultModelRegistryParams: RegistryParams<Balance> = RegistryParams {
		max_royalty: Perbill::from_percent(30),
		min_cosine_floor: Perbill::from_percent(99),
		max_element_diff_cap: 2_048,
		max_tie_margin: 1 << 16,
		max_logit_margin: infera_primitives::canonical::MAX_NEAR_GAP,
		deposit_base: deposit(1, 0),
		deposit_per_byte: deposit(0, 1),
	};
}

impl pallet_model_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ParamsOrigin = EnsureRootOrParams;
	type DefaultParams = DefaultModelRegistryParams;
	type MaxNameLength = ConstU32<64>;
	type MaxLicenseLength = ConstU32<64>;
	type MaxLineageDepth = ConstU32<16>;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Until governance sets them: a bond of at least 100 INFR, seven days to unbond, up to eight
	/// models per provider, a tenth of every slash to its reporter, and reputation that a no-show
	/// costs 50 points of (out of 1000) and a verified job earns back 5 of.
	pub const DefaultComputeStakingParams: StakingParams<Balance, BlockNumber> = StakingParams {
		min_bond: 100 * UNITS,
		unbonding_delay: 7 * DAYS,
		max_models_per_provider: 8,
		reporter_share: Perbill::from_percent(10),
		no_show_penalty: 50,
		verified_reward: 5,
	};
}

parameter_types! {
	/// A provider's record and one list entry per model it may declare: the state registering
	/// can make a provider occupy, paid for by deposit.
	pub ProviderDeposit: Balance = deposit(
		1u32.saturating_add(<MaxModelsPerProvider as Get<u32>>::get()),
		(pallet_compute_staking::ProviderInfoOf::<Runtime>::max_encoded_len() as u32)
			.saturating_add(<MaxModelsPerProvider as Get<u32>>::get().saturating_mul(32)),
	);
}

/// Most models one provider may declare (the storage bound of governance's cap).
pub type MaxModelsPerProvider = ConstU32<16>;

impl pallet_compute_staking::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelRegistry = ModelRegistry;
	type TreasuryAccount = TreasuryAccount;
	type ProviderDeposit = ProviderDeposit;
	type ParamsOrigin = EnsureRootOrParams;
	type DefaultParams = DefaultComputeStakingParams;
	type MaxModelsPerProvider = MaxModelsPerProvider;
	type MaxProvidersPerModel = ConstU32<64>;
	type MaxUnlockingChunks = ConstU32<16>;
	type WeightInfo = pallet_compute_staking::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::ComputeStakingBenchmarkHelper;
}

parameter_types! {
	/// The job hook's wake-ups take at most 60 % of a block's weight (and at most 8,192 entries,
	/// counting the ones phases that ended early left behind, a read each): at full load a
	/// job's extrinsics (submit, commit, reveal) weigh about two fifths of its life and its hook
	/// visits (audit decision, payment, pruning, expiry) three fifths, so both fit in a block;
	/// what the hook cannot take is carried over to the next block.
	pub MaxWakeupWeight: frame_support::weights::Weight = {
		let (share, max) =
			(Perbill::from_percent(60), crate::configs::RuntimeBlockWeights::get().max_block);
		frame_support::weights::Weight::from_parts(
			share.mul_floor(max.ref_time()),
			share.mul_floor(max.proof_size()),
		)
	};
}

parameter_types! {
	/// Until governance sets them: 5 % of jobs audited by a blind panel of three checkers
	/// (a verdict needs two); one minute to commit and one to reveal; paid five minutes after
	/// verification; deadlines up to a day ahead; a price of 0.01 INFR plus 0.00001 INFR per
	/// input byte and fees up to 1000 INFR; two reassignments; providers and checkers lock 30×
	/// the price (0.05 · (1 + 1 · 30) = 1.55 ≥ 1: skipping work does not pay even if only 65 %
	/// of drawn audits reach a verdict); a no-show loses 10 % of that, a proven fraud or a
	/// withheld reveal all of it; 5 % of each price to the protocol; finished jobs kept for a day
	/// before only their receipt remains, and the receipt (with its index entries) for 30 days;
	/// a cancelled or unserved job keeps 0.01 INFR, the base fee, for the state it leaves; a
	/// probe job every ten minutes for a model governance lists in `ProbeModels` (none until it
	/// does).
	pub const DefaultJobParams: JobParams<Balance, BlockNumber> = JobParams {
		audit_rate: Perbill::from_percent(5),
		committee_size: 3,
		commit_window: MINUTES,
		reveal_window: MINUTES,
		challenge_window: 5 * MINUTES,
		max_deadline: DAYS,
		base_fee: UNITS / 100,
		fee_per_byte: UNITS / 100_000,
		max_fee: 1_000 * UNITS,
		max_reassignments: 2,
		collateral_ratio: 30,
		no_show_slash: Perbill::from_percent(10),
		fraud_slash: Perbill::from_percent(100),
		protocol_cut: Perbill::from_percent(5),
		retention: DAYS,
		receipt_retention: 30 * DAYS,
		storage_fee: UNITS / 100,
		probe_interval: 10 * MINUTES,
	};
}

impl pallet_job_escrow::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ModelRegistry = ModelRegistry;
	type Providers = ComputeStaking;
	type WorkRecorder = crate::Rewards;
	type Randomness = BlockVrfRandomness;
	type ProtocolAccount = RewardsAccount;
	type ParamsOrigin = EnsureRootOrParams;
	type AuditorOrigin = EnsureRoot<crate::AccountId>;
	type DefaultParams = DefaultJobParams;
	type MaxInputLen = ConstU32<2_048>;
	type MaxOutputLen = ConstU32<16_400>;
	type MaxAuditors = ConstU32<64>;
	type MaxCommittee = ConstU32<8>;
	type MaxAttempts = ConstU32<4>;
	type MaxWakeupsPerBlock = ConstU32<8_192>;
	type MaxWakeupWeight = MaxWakeupWeight;
	type MaxQueued = ConstU32<256>;
	type AssignPerBlock = ConstU32<4>;
	type MaxJobsPerCall = ConstU32<64>;
	type OnJobFinished = crate::Budgets;
	type WeightInfo = pallet_job_escrow::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::JobEscrowBenchmarkHelper;
}

/// The randomness of the block being built: the VRF pre-output in its BABE pre-digest. The
/// block's author could not choose it (it is determined by the slot and the author's key), and
/// nobody else knew it before the block was announced, so whoever signs a transaction cannot
/// know the draw it triggers, nor re-roll it (ADR 0009). BABE's own `ParentBlockRandomness` is
/// the *parent's* output: known to every client before it signs. Where a block has no VRF output
/// (blocks built without a BABE pre-digest: genesis and tests) the parent's stands in.
pub struct BlockVrfRandomness;

impl frame_support::traits::Randomness<Option<crate::Hash>, BlockNumber> for BlockVrfRandomness {
	fn random(subject: &[u8]) -> (Option<crate::Hash>, BlockNumber) {
		use codec::Encode;
		use sp_runtime::traits::Hash as _;
		let vrf = pallet_babe::Pallet::<Runtime>::initialized()
			.flatten()
			.and_then(|digest| digest.vrf_signature().map(|s| s.pre_output.encode()));
		match vrf {
			Some(output) => {
				let now = crate::System::block_number();
				let random =
					sp_runtime::traits::BlakeTwo256::hash_of(&(b"infera/vrf", subject, output));
				(Some(random), now)
			}
			None => {
				<pallet_babe::ParentBlockRandomness<Runtime> as frame_support::traits::Randomness<
					_,
					_,
				>>::random(subject)
			}
		}
	}
}

parameter_types! {
	pub const RewardsPalletId: frame_support::PalletId = frame_support::PalletId(*b"inf/rwds");
	pub RewardsAccount: crate::AccountId = crate::Rewards::account_id();
	/// Until governance sets them: hour-long epochs (600 blocks; the dev chain uses 10) each
	/// minting 100 INFR; with the protocol cut of the epoch's job fees, 70 % goes to providers by
	/// verified work, 20 % to auditors by audits done and 10 % to the treasury.
	pub const DefaultRewardParams: pallet_rewards::RewardParams<Balance, BlockNumber> =
		pallet_rewards::RewardParams {
			epoch_length: 600,
			emission_per_epoch: 100 * UNITS,
			provider_share: Perbill::from_percent(70),
			validator_share: Perbill::from_percent(20),
		};
}

impl pallet_rewards::Config for Runtime {
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type TreasuryAccount = TreasuryAccount;
	type ParamsOrigin = EnsureRootOrParams;
	type DefaultParams = DefaultRewardParams;
	type WeightInfo = pallet_rewards::weights::SubstrateWeight<Runtime>;
}

impl pallet_budgets::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Jobs = crate::JobEscrow;
	/// A payer's agents: enough for a fleet of keys, few enough that a budget stays small.
	type MaxDelegates = ConstU32<64>;
	type WeightInfo = pallet_budgets::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::benchmarks::BudgetsBenchmarkHelper;
}
