#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

mod audit;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod dispatch;
mod hook;
#[cfg(any(feature = "try-runtime", test))]
mod invariants;
pub mod migrations;
#[cfg(test)]
mod mock;
mod params;
pub mod phases;
mod probes;
#[cfg(test)]
mod proptests;
mod runtime_api;
mod settlement;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

pub use params::MIN_AUDITS_MEASURED;

/// Blocks between a provider's commit and the audit decision: the decision uses the randomness
/// of a block after the commit's, which nobody knew when the commit was signed.
pub const AUDIT_DECISION_DELAY: u32 = 1;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> = <<T as Config>::Currency as frame_support::traits::fungible::Inspect<
	<T as frame_system::Config>::AccountId,
>>::Balance;

/// A job in runtime `T`.
pub type JobOf<T> = Job<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxInputLen,
	<T as Config>::MaxCommittee,
	<T as Config>::MaxAttempts,
>;

/// The models probe jobs are drawn from.
pub type ProbeModelsList =
	frame_support::BoundedVec<infera_primitives::ModelId, frame_support::traits::ConstU32<16>>;

/// The parameters of runtime `T`.
pub type JobParamsOf<T> = JobParams<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;

/// A receipt in runtime `T`.
pub type ReceiptOf<T> = Receipt<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
	<T as Config>::MaxCommittee,
>;

/// Sets up what the benchmarks need from the rest of the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Registers an active text-embedding model of `dimensions` dimensions with a royalty.
	fn model(dimensions: u32) -> infera_primitives::ModelId;
	/// Makes `who` (already funded) a bonded provider serving `model` with stake for many jobs.
	fn provider(who: &AccountId, model: infera_primitives::ModelId);
	/// The most providers one model can have (the staking pallet's bound).
	fn max_providers() -> u32;
	/// Makes `who` (already funded) bonded and declaring `model`, without taking jobs: an
	/// auditor that can check it.
	fn checker(who: &AccountId, model: infera_primitives::ModelId);
}

// The FRAME macros expand to code that trips the panic lints; the pallet's logic lives in
// `dispatch.rs`, `hook.rs`, `audit.rs`, `params.rs` and `settlement.rs`, where the lints apply.
#[allow(
	clippy::expect_used,
	clippy::unwrap_used,
	clippy::indexing_slicing,
	clippy::arithmetic_side_effects
)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, MutateHold},
			Randomness,
		},
	};
	use frame_system::pallet_prelude::*;
	use infera_primitives::{canonical::Refusal, JobId, ModelId};
	use sp_core::H256;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(4);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// Holds escrowed fees and pays them out.
		type Currency: Inspect<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The runtime's hold reasons, of which this pallet's `HoldReason` is one.
		type RuntimeHoldReason: From<HoldReason>;
		/// Which models exist, their tolerance, owner and royalty.
		type ModelRegistry: infera_primitives::traits::ModelRegistry<Self::AccountId>;
		/// Bonded providers: selection, stake locks, slashes, reputation.
		type Providers: infera_primitives::traits::ComputeProviders<
			Self::AccountId,
			BalanceOf<Self>,
		>;
		/// Credits verified work and audits to the reward epochs.
		type WorkRecorder: infera_primitives::traits::WorkRecorder<Self::AccountId>;
		/// Randomness nobody knew when the transaction being dispatched was signed (on Infera
		/// the VRF output of the block being built). `None` only where no VRF output exists;
		/// then the parent hash stands in.
		type Randomness: Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;
		/// Receives the protocol's cut of every settled job.
		type ProtocolAccount: Get<Self::AccountId>;
		/// Who sets the parameters (governance).
		type ParamsOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Who admits and removes auditors (governance).
		type AuditorOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The parameters before governance sets any.
		type DefaultParams: Get<JobParamsOf<Self>>;
		/// Longest job input, bytes.
		#[pallet::constant]
		type MaxInputLen: Get<u32>;
		/// Longest revealed output (SCALE-encoded canonical output), bytes.
		#[pallet::constant]
		type MaxOutputLen: Get<u32>;
		/// Most auditors.
		#[pallet::constant]
		type MaxAuditors: Get<u32>;
		/// Upper bound of the governance-set audit panel size.
		#[pallet::constant]
		type MaxCommittee: Get<u32>;
		/// Upper bound of the governance-set reassignments, plus one.
		#[pallet::constant]
		type MaxAttempts: Get<u32>;
		/// Most wake-ups the block hook handles in one block; bounds its work. Wake-ups beyond
		/// it are carried over to the next block, in order: no job is ever refused or refunded
		/// because many phases end in the same block.
		#[pallet::constant]
		type MaxWakeupsPerBlock: Get<u32>;
		/// Most weight the block hook's wake-ups may take in one block: it stops before a visit
		/// that, at the dearest kind, could take it past this, and carries the rest over. At
		/// least one visit at the dearest (`integrity_test`), so the hook always moves on.
		#[pallet::constant]
		type MaxWakeupWeight: Get<Weight>;
		/// Most jobs waiting for a provider, per model.
		#[pallet::constant]
		type MaxQueued: Get<u32>;
		/// Queued jobs the block hook tries to assign per block, taking the models' queues in
		/// turn.
		#[pallet::constant]
		type AssignPerBlock: Get<u32>;
		/// Most inputs one `submit_jobs` takes.
		#[pallet::constant]
		type MaxJobsPerCall: Get<u32>;
		/// Told when a job's escrow is emptied (budgets take back what the job did not spend).
		type OnJobFinished: infera_primitives::traits::OnJobFinished<
			Self::AccountId,
			BalanceOf<Self>,
		>;
		/// Weights of this pallet's calls and hook.
		type WeightInfo: WeightInfo;
		/// Registers models and providers for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A job's `max_fee`, held from its client until the job ends.
		JobEscrow,
	}

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T> = StorageValue<_, JobId, ValueQuery>;

	/// Jobs, open and recently finished. Ids are sequential: `Twox64Concat` cannot be steered.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, JobOf<T>>;

	/// Revealed outputs (SCALE-encoded canonical outputs) by job and party. Removed with the job.
	#[pallet::storage]
	pub type Outputs<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		JobId,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<u8, T::MaxOutputLen>,
	>;

	/// The block hook's work list, in pages by block and job group (`WAKEUP_GROUP` ids): each
	/// kept job has an entry at its `wake_at` (when its phase ends) and each receipt of a pruned
	/// job one at its expiry. A phase that ends early leaves its entry behind rather than pay a
	/// write to remove it: the hook finds the job's `wake_at` moved and drops it. Any number of
	/// entries may share a block: the hook takes `MaxWakeupsPerBlock` per block (and no more
	/// than `MaxWakeupWeight` allows) and carries the rest over. Blocks and job ids are
	/// sequential: `Twox64Concat` cannot be steered.
	#[pallet::storage]
	pub type WakeupPages<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		Twox64Concat,
		u64,
		BoundedVec<Wakeup, WakeupPageLen>,
		ValueQuery,
	>;

	/// The first block whose wake-ups the hook has not all handled; it never passes the current
	/// block, and every page of `WakeupPages` is at or after it.
	#[pallet::storage]
	pub type WakeCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Jobs waiting for an eligible provider, per model, oldest first. Only models with queued
	/// jobs have an entry. Model ids are sequential: `Twox64Concat` cannot be steered.
	#[pallet::storage]
	pub type Queues<T: Config> =
		StorageMap<_, Twox64Concat, ModelId, BoundedVec<JobId, T::MaxQueued>, ValueQuery>;

	/// The model whose queue the block hook tried last; it goes on from the next one, so every
	/// model's queue gets its turn however many models have queued jobs.
	#[pallet::storage]
	pub type QueueCursor<T: Config> = StorageValue<_, ModelId, OptionQuery>;

	/// Receipts of finished jobs; they outlive the pruned jobs by `receipt_retention`.
	#[pallet::storage]
	pub type Receipts<T: Config> = StorageMap<_, Twox64Concat, JobId, ReceiptOf<T>>;

	/// Jobs by client, in id order, for paging; removed with the receipt. Accounts are
	/// user-chosen: `Blake2_128Concat`. Job ids are sequential, so their big-endian bytes
	/// (`Identity`) cannot be steered and keep the order.
	#[pallet::storage]
	pub type JobsByClient<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Identity, JobKey, ()>;

	/// Jobs by provider, in id order, for paging; removed with the receipt (a provider that
	/// failed the job: when the job is pruned).
	#[pallet::storage]
	pub type JobsByProvider<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Identity, JobKey, ()>;

	/// Accounts admitted as auditors, sorted. An auditor is drawn onto a job's audit panel only
	/// while it is bonded in compute staking, declares the job's model and has free stake for
	/// the job.
	#[pallet::storage]
	pub type Auditors<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxAuditors>, ValueQuery>;

	/// Audits drawn and audits that reached a verdict (or caught a withholding provider), ever:
	/// their ratio makes the effective audit probability the incentive check uses.
	#[pallet::storage]
	pub type AuditStats<T> = StorageValue<_, AuditRecord, ValueQuery>;

	/// Governance-set parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, JobParamsOf<T>, ValueQuery, T::DefaultParams>;

	/// The models probe jobs are drawn from (governance).
	#[pallet::storage]
	pub type ProbeModels<T> = StorageValue<_, ProbeModelsList, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The first auditors.
		pub auditors: Vec<T::AccountId>,
		/// Parameters other than `DefaultParams` (e.g. the dev chain's short windows).
		pub params: Option<JobParamsOf<T>>,
		/// The models probe jobs are drawn from.
		pub probe_models: Vec<ModelId>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let mut auditors = self.auditors.clone();
			auditors.sort();
			auditors.dedup();
			let bounded = BoundedVec::<T::AccountId, T::MaxAuditors>::try_from(auditors)
				.expect("genesis auditors fit MaxAuditors");
			Auditors::<T>::put(bounded);
			let probes = ProbeModelsList::try_from(self.probe_models.clone())
				.expect("genesis probe models fit");
			ProbeModels::<T>::put(probes);
			if let Some(params) = self.params {
				Pallet::<T>::ensure_params_valid(&params)
					.expect("genesis job parameters are valid");
				Params::<T>::put(params);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A client submitted a job; `max_fee` is held until it ends.
		JobSubmitted {
			job: JobId,
			client: T::AccountId,
			model: ModelId,
			max_fee: BalanceOf<T>,
			price: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		},
		/// No provider could take the job yet; it waits in the queue.
		JobQueued { job: JobId },
		/// A provider was assigned and must commit by `commit_by`.
		JobAssigned {
			job: JobId,
			provider: T::AccountId,
			stake_locked: BalanceOf<T>,
			commit_by: BlockNumberFor<T>,
		},
		/// A party committed to its result.
		ResultCommitted { job: JobId, who: T::AccountId },
		/// Randomness decided whether the job is audited, and drew its panel of checkers, who
		/// now commit their own results before any output of the job is public.
		AuditDecided { job: JobId, audited: bool, checkers: Vec<T::AccountId> },
		/// The job was drawn for audit but no bonded auditor declares its model: its result
		/// stands unchecked and earns no emission.
		AuditUnavailable { job: JobId, model: ModelId },
		/// The client demanded an audit of its verified job, holding `bond`; this panel checks it.
		JobChallenged { job: JobId, bond: BalanceOf<T>, checkers: Vec<T::AccountId> },
		/// A demanded audit's bond was paid to the checkers that did the work; `returned` went
		/// back to the client.
		ChallengeBondPaid { job: JobId, to_checkers: BalanceOf<T>, returned: BalanceOf<T> },
		/// Checkers that stayed silent were replaced by these.
		CheckersReplaced { job: JobId, checkers: Vec<T::AccountId> },
		/// Reveals are open until `reveal_by`.
		RevealsOpened { job: JobId, reveal_by: BlockNumberFor<T> },
		/// A party revealed its output.
		ResultRevealed { job: JobId, who: T::AccountId, output_hash: H256 },
		/// The result stands; it is paid at `pay_at` (after the challenge window).
		JobVerified { job: JobId, verdict: Verdict, pay_at: BlockNumberFor<T> },
		/// The panel's revealed outputs were compared with the provider's: how many matched it
		/// within the model's tolerance and how many contradicted it.
		AuditJudged { job: JobId, for_provider: u32, against: u32, verdict: Verdict },
		/// The provider revealed that the model could not run the input (`reason`): the claim is
		/// audited by this panel before anyone is paid. Confirmed, the client pays the price;
		/// contradicted, the provider is slashed as for a wrong output.
		RefusalAudited { job: JobId, reason: Refusal, checkers: Vec<T::AccountId> },
		/// A party missed its window.
		PartyMissedWindow { job: JobId, who: T::AccountId, status: JobStatus },
		/// The job was paid out.
		JobSettled {
			job: JobId,
			provider: T::AccountId,
			provider_paid: BalanceOf<T>,
			royalty: BalanceOf<T>,
			protocol: BalanceOf<T>,
			refunded: BalanceOf<T>,
		},
		/// The escrow went back to the client: `amount`, less the `storage_fee` the job kept
		/// (only when cancelled or unserved).
		JobRefunded {
			job: JobId,
			reason: RefundReason,
			amount: BalanceOf<T>,
			storage_fee: BalanceOf<T>,
		},
		/// A finished job was pruned; its receipt remains until `receipt_expires`.
		JobPruned { job: JobId, receipt_expires: BlockNumberFor<T> },
		/// A receipt reached the end of its retention; it and its index entries were removed.
		ReceiptExpired { job: JobId },
		/// An auditor was admitted.
		AuditorAdded { who: T::AccountId },
		/// An auditor was removed.
		AuditorRemoved { who: T::AccountId },
		/// Governance set new parameters.
		ParamsUpdated { params: JobParamsOf<T> },
		/// The protocol issued a probe job for `model` (no fee; always audited; paid in
		/// emission).
		ProbeIssued { job: JobId, model: ModelId },
		/// Governance set the models probe jobs are drawn from.
		ProbeModelsSet { models: Vec<ModelId> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No job has this id (or it was pruned; its receipt may remain).
		JobNotFound,
		/// The model is not registered or takes no jobs.
		ModelNotActive,
		/// The input is empty.
		EmptyInput,
		/// The input is longer than `MaxInputLen`.
		InputTooLong,
		/// `max_fee` is below the job's price for this input.
		FeeBelowPrice,
		/// `max_fee` is above the governance maximum.
		FeeTooHigh,
		/// The client's free balance cannot cover `max_fee`.
		InsufficientBalance,
		/// The deadline is not in the future.
		DeadlineInPast,
		/// The deadline leaves less than one commit and one reveal window.
		DeadlineTooSoon,
		/// The deadline is further than the governance maximum.
		DeadlineTooFar,
		/// This model's queue of jobs waiting for a provider is full.
		QueueFull,
		/// No longer returned: the scheduler carries wake-ups over instead of refusing them. Kept
		/// so the indices of the errors after it stay stable.
		SchedulerFull,
		/// The signer is neither the job's provider nor one of its checkers.
		NotAssigned,
		/// The signer has committed already.
		AlreadyCommitted,
		/// The job is not in a phase that takes commitments.
		NotCommitPhase,
		/// The job is not in a phase that takes reveals.
		NotRevealPhase,
		/// The signer has revealed already.
		AlreadyRevealed,
		/// The output and salt do not hash to the signer's commitment.
		CommitmentMismatch,
		/// The output is longer than `MaxOutputLen`.
		OutputTooLong,
		/// The output is not a canonical output of the model's architecture.
		MalformedOutput,
		/// Only the job's client may do this.
		NotClient,
		/// A provider is assigned already; the job can no longer be cancelled (otherwise a client
		/// could re-roll the draw).
		TooLateToCancel,
		/// The account is an auditor already.
		AlreadyAuditor,
		/// The account is not an auditor.
		NotAuditor,
		/// The auditor set is full.
		TooManyAuditors,
		/// The parameters are inconsistent (zero windows, committee size out of bounds, …).
		InvalidParams,
		/// With these parameters a party gains by cheating: `p_eff · (1 + fraud_slash ·
		/// collateral_ratio) < 1` with the effective audit probability, or a no-show penalty that
		/// is zero or above the fraud slash.
		BreaksIncentiveInequality,
		/// All job ids are used.
		JobIdsExhausted,
		/// A probe model is listed twice.
		DuplicateModel,
		/// Only a verified job, in its challenge window, can be challenged.
		NotChallengeable,
		/// The job was audited already (or challenged once).
		AlreadyAudited,
		/// No bonded auditor other than the provider checks this model (or none has the stake
		/// free): there is nobody to audit it.
		NoCheckers,
		/// The model reads text and the input is not UTF-8: no provider could run it.
		InputNotText,
		/// `submit_jobs` was given no inputs.
		NoInputs,
		/// `submit_jobs` was given more inputs than `MaxJobsPerCall`.
		TooManyInputs,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::on_block(now)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}

		fn integrity_test() {
			assert!(T::MaxWakeupsPerBlock::get() > 0, "the scheduler needs room");
			assert!(
				T::WeightInfo::on_initialize_wakeups(1)
					.max(T::WeightInfo::on_initialize_audits(1))
					.max(T::WeightInfo::on_initialize_judge(1))
					.all_lte(T::MaxWakeupWeight::get()),
				"the hook's wake-ups have room for the dearest visit"
			);
			assert!(T::MaxAttempts::get() > 0, "a job needs at least one attempt");
			let p = T::DefaultParams::get();
			assert!(Self::ensure_params_valid(&p).is_ok(), "default parameters are valid");
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Submits an inference job: `input` for registered `model`, paying at most `max_fee`
		/// (held now; what the job does not cost comes back), to be done by block `deadline`.
		/// A provider is assigned at once when one is eligible; otherwise the job is queued.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit_job(input.len() as u32))]
		pub fn submit_job(
			origin: OriginFor<T>,
			model: ModelId,
			input: Vec<u8>,
			max_fee: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_submit(who, model, input, max_fee, deadline).map(|_| ())
		}

		/// Submits one job for each of `inputs` (at most `MaxJobsPerCall`), all for `model`, each
		/// paying at most `max_fee`, done by `deadline`: as many `submit_job`s, but every input
		/// is checked before anything happens and the escrow of all of them is held at once.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::submit_jobs(
			inputs.len() as u32,
			inputs.iter().map(|i| i.len() as u32).max().unwrap_or(0),
		))]
		pub fn submit_jobs(
			origin: OriginFor<T>,
			model: ModelId,
			inputs: Vec<Vec<u8>>,
			max_fee: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_submit_many(who, model, inputs, max_fee, deadline).map(|_| ())
		}

		/// Commits to a result: `commitment = blake2_256(SCALE(domain, job, signer,
		/// blake2_256(output), salt))`. Only the party due to commit in the job's phase (see
		/// `phases`); a party that commits and then does not reveal is slashed as for fraud.
		#[pallet::call_index(1)]
		pub fn commit_result(origin: OriginFor<T>, job: JobId, commitment: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_commit(who, job, commitment)
		}

		/// Reveals the output and salt behind the signer's commitment. The reveal that completes
		/// an audit, or a provider's refusal (`CanonicalOutput::Refused`) on an unaudited job,
		/// is judged (or draws its panel) in the next block's hook.
		#[pallet::call_index(2)]
		#[pallet::weight(
			T::WeightInfo::reveal_result().max(T::WeightInfo::reveal_result_unaudited())
		)]
		pub fn reveal_result(
			origin: OriginFor<T>,
			job: JobId,
			output: Vec<u8>,
			salt: [u8; 32],
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let deferred = Self::do_reveal(who, job, output, salt)?;
			let actual = if deferred {
				T::WeightInfo::reveal_result()
			} else {
				T::WeightInfo::reveal_result_unaudited()
			};
			Ok(Some(actual).into())
		}

		/// Cancels a job still waiting for a provider; the escrow comes back in full.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::cancel_job().saturating_add(
			<T::OnJobFinished as infera_primitives::traits::OnJobFinished<_, _>>::weight()
		))]
		pub fn cancel_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_cancel(who, job)
		}

		/// Demands an audit of the signer's verified, unaudited job during its challenge window,
		/// holding `committee_size × price` as a bond: a panel checks the provider's output.
		/// Found wrong, the provider is slashed and everything comes back to the client; found
		/// right, the provider is paid and the bond pays the checkers.
		#[pallet::call_index(7)]
		pub fn challenge_job(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_challenge(who, job)
		}

		/// Sets the models probe jobs are drawn from (governance): registered, active, distinct.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_probe_models(models.len() as u32))]
		pub fn set_probe_models(origin: OriginFor<T>, models: ProbeModelsList) -> DispatchResult {
			T::ParamsOrigin::ensure_origin(origin)?;
			Self::do_set_probe_models(models)
		}

		/// Sets the parameters (governance). Rejected when they break the incentive inequality.
		#[pallet::call_index(4)]
		pub fn set_params(origin: OriginFor<T>, params: JobParamsOf<T>) -> DispatchResult {
			T::ParamsOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}

		/// Admits an auditor (governance).
		#[pallet::call_index(5)]
		pub fn add_auditor(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::AuditorOrigin::ensure_origin(origin)?;
			Self::do_add_auditor(who)
		}

		/// Removes an auditor (governance). Panels it already sits on keep it.
		#[pallet::call_index(6)]
		pub fn remove_auditor(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::AuditorOrigin::ensure_origin(origin)?;
			Self::do_remove_auditor(who)
		}
	}
}
