//! Stored records of the job escrow.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use infera_primitives::{JobId, ModelId};
pub use infera_primitives::{Role, Verdict};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Perbill;

/// Domain separator of result commitments.
pub const COMMITMENT_DOMAIN: &[u8] = b"infera/commit/v1";

/// The commitment a party submits before revealing:
/// `blake2_256(domain ‖ job ‖ party ‖ blake2_256(output) ‖ salt)`, SCALE-encoded.
pub fn commitment_of<AccountId: Encode>(
	job: JobId,
	party: &AccountId,
	output_hash: &H256,
	salt: &[u8; 32],
) -> H256 {
	let preimage = (COMMITMENT_DOMAIN, job, party, output_hash, salt).encode();
	H256(sp_io::hashing::blake2_256(&preimage))
}

/// Jobs whose wake-ups share a page: ids `k · WAKEUP_GROUP` to `(k + 1) · WAKEUP_GROUP - 1`
/// that wake in the same block. Jobs are numbered in order, so those submitted together (one
/// `submit_jobs`) and those a block's hook moves on together mostly share pages: one read and
/// one write for many.
pub const WAKEUP_GROUP: u64 = 64;

/// Most entries of a wake-up page: one of each kind per job of its group.
pub type WakeupPageLen = frame_support::traits::ConstU32<{ 2 * WAKEUP_GROUP as u32 }>;

/// One entry of the block hook's work list.
#[derive(
	Copy,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Wakeup {
	/// A kept job's phase may end: the hook acts when the job's `wake_at` is the entry's
	/// block; an entry left behind by a phase that ended early finds it moved, and is dropped.
	Job(JobId),
	/// The receipt of a pruned job expires.
	Receipt(JobId),
}

impl Wakeup {
	/// The job the entry is about.
	pub fn job(&self) -> JobId {
		match self {
			Wakeup::Job(id) | Wakeup::Receipt(id) => *id,
		}
	}

	/// The page group the entry belongs to.
	pub fn group(&self) -> u64 {
		self.job().0 / WAKEUP_GROUP
	}
}

/// Why a job's escrow went back to its client.
#[derive(
	Copy,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum RefundReason {
	/// The client cancelled before any result was committed.
	Cancelled,
	/// No eligible provider appeared before the deadline.
	NoProvider,
	/// Providers did not commit or reveal in time, as often as reassignment allows.
	NoShow,
	/// The audit panel's majority found the provider's output wrong; the provider was slashed.
	Fraud,
	/// The provider committed to a result and never revealed it; it was slashed as for fraud.
	Withheld,
	/// The provider reported that the model cannot run the input and no audit panel could
	/// check the claim: the client keeps the storage fee's loss, nobody is paid or slashed.
	Unrunnable,
}

/// Where a job is in its life. Every change emits an event; finished jobs keep their final
/// status until pruned, then only their receipt remains.
#[derive(
	Copy,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum JobStatus {
	/// Waiting for an eligible provider (refunded at the deadline if none appears).
	Queued,
	/// A provider is assigned and must commit its result.
	Assigned,
	/// The provider committed; a later block's randomness decides whether it is audited.
	Committed,
	/// An audit panel is drawn; its checkers commit their own results, blind: no output of the
	/// job is public yet.
	Auditing,
	/// Reveals are open: the provider's, and the checkers' when `audited`.
	Revealing { audited: bool },
	/// The result stands; payment is released when the challenge window ends.
	Verified,
	/// Paid: provider, model owner and protocol got their shares.
	Settled,
	/// The escrow went back to the client.
	Refunded { reason: RefundReason },
}

impl JobStatus {
	/// Whether the job still holds escrow.
	pub fn is_open(&self) -> bool {
		!matches!(self, Self::Settled | Self::Refunded { .. })
	}
}

/// One party that runs a job (the provider or a checker of its audit panel) and its
/// commit-reveal progress.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Party<AccountId> {
	/// Who.
	pub who: AccountId,
	/// Its commitment, once submitted.
	pub commitment: Option<H256>,
	/// The blake2-256 of its revealed output, once revealed.
	pub output_hash: Option<H256>,
}

impl<AccountId> Party<AccountId> {
	/// A freshly assigned party.
	pub fn new(who: AccountId) -> Self {
		Self { who, commitment: None, output_hash: None }
	}
}

/// An inference job.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxInput, MaxCommittee, MaxAttempts))]
#[allow(clippy::multiple_bound_locations)] // reason: the NoBound derives restate the struct's bounds
pub struct Job<
	AccountId: Clone + Eq + Debug,
	Balance: Clone + Eq + Debug,
	BlockNumber: Clone + Eq + Debug,
	MaxInput: Get<u32>,
	MaxCommittee: Get<u32>,
	MaxAttempts: Get<u32>,
> {
	/// Who pays.
	pub client: AccountId,
	/// The registered model to run.
	pub model: ModelId,
	/// The input, as the client sent it.
	pub input: BoundedVec<u8, MaxInput>,
	/// blake2-256 of `input`.
	pub input_hash: H256,
	/// Held from the client until the job ends.
	pub max_fee: Balance,
	/// What the job costs (at most `max_fee`); the rest goes back to the client.
	pub price: Balance,
	/// Provider stake locked while the job is open.
	pub stake: Balance,
	/// The client's deadline: no new work is started after it.
	pub deadline: BlockNumber,
	/// Block of submission.
	pub submitted_at: BlockNumber,
	/// Current status.
	pub status: JobStatus,
	/// The block at which the current phase times out (its entry in `WakeupPages`).
	pub wake_at: BlockNumber,
	/// The assigned provider.
	pub provider: Option<Party<AccountId>>,
	/// The audit panel, when the job is audited: checkers drawn after the provider committed,
	/// each committing its own result before any output of the job is public.
	pub checkers: BoundedVec<Party<AccountId>, MaxCommittee>,
	/// Checkers that were drawn and did not commit in time (penalised, never drawn again for
	/// this job).
	pub silent: BoundedVec<AccountId, MaxCommittee>,
	/// Whether silent checkers were replaced once already (the audit is replaced at most once).
	pub replaced: bool,
	/// How the job stands so far; final in its receipt.
	pub verdict: Verdict,
	/// Providers that were assigned and did not deliver (never assigned again to this job).
	pub no_shows: BoundedVec<AccountId, MaxAttempts>,
	/// What the client holds, on top of `max_fee`, for an audit it demanded
	/// (`challenge_job`): it pays the panel when the provider is found right, and comes back
	/// when it is found wrong. Zero when unchallenged.
	pub challenge_bond: Balance,
	/// Whether the protocol itself issued the job (a probe): no fee, always audited, and the
	/// only work that earns emission.
	pub probe: bool,
}

/// What remains of a finished job after pruning: enough to prove what was run, by whom, with
/// which outcome and at what price.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxCommittee))]
#[allow(clippy::multiple_bound_locations)] // reason: the NoBound derives restate the struct's bounds
pub struct Receipt<
	AccountId: Clone + Eq + Debug,
	Balance: Clone + Eq + Debug,
	BlockNumber: Clone + Eq + Debug,
	MaxCommittee: Get<u32>,
> {
	/// Who paid.
	pub client: AccountId,
	/// The model run.
	pub model: ModelId,
	/// blake2-256 of the model's weights, as registered when the job finished.
	pub weights_hash: H256,
	/// blake2-256 of the model's training data set, when its owner registered one.
	pub dataset_hash: Option<H256>,
	/// blake2-256 of the input.
	pub input_hash: H256,
	/// blake2-256 of the provider's revealed output, when there was one.
	pub output_hash: Option<H256>,
	/// Who ran it.
	pub provider: Option<AccountId>,
	/// The checkers whose revealed outputs judged it (empty when not audited).
	pub checkers: BoundedVec<AccountId, MaxCommittee>,
	/// How it was judged.
	pub verdict: Verdict,
	/// The final status (`Settled` or `Refunded { reason }`).
	pub status: JobStatus,
	/// What the client paid in the end (zero when refunded).
	pub fee_paid: Balance,
	/// When it finished.
	pub finished_at: BlockNumber,
}

/// Governance-set parameters of the job protocol.
#[derive(
	Copy,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	frame_support::Serialize,
	frame_support::Deserialize,
)]
#[serde(crate = "frame_support::__private::serde", rename_all = "camelCase")]
pub struct JobParams<Balance, BlockNumber> {
	/// Chance that a committed job is audited (p).
	pub audit_rate: Perbill,
	/// Checkers on an audit panel (k); a verdict needs a majority of k.
	pub committee_size: u32,
	/// Blocks a party has to commit after being assigned.
	pub commit_window: BlockNumber,
	/// Blocks the parties have to reveal once reveals open.
	pub reveal_window: BlockNumber,
	/// Blocks between a verified result and its payment.
	pub challenge_window: BlockNumber,
	/// Furthest deadline a client may set, in blocks from submission.
	pub max_deadline: BlockNumber,
	/// Price of a job: `base_fee + fee_per_byte · input length`.
	pub base_fee: Balance,
	/// See `base_fee`.
	pub fee_per_byte: Balance,
	/// Largest `max_fee` accepted.
	pub max_fee: Balance,
	/// Times a job is reassigned after a provider no-show before it is refunded.
	pub max_reassignments: u32,
	/// Provider stake locked per unit of price while a job is open (S / f).
	pub collateral_ratio: u32,
	/// Share of the locked stake slashed from a provider or checker that does not commit.
	pub no_show_slash: Perbill,
	/// Share of the locked stake slashed from a party the panel's majority contradicts, and from
	/// a party that committed and did not reveal.
	pub fraud_slash: Perbill,
	/// Share of the price that goes to the protocol (rewards / treasury).
	pub protocol_cut: Perbill,
	/// Blocks a finished job stays in full before only its receipt remains.
	pub retention: BlockNumber,
	/// Blocks a finished job's receipt and its index entries are kept, counted from the job's
	/// end (at least `retention`); then they are removed, so a job's state lives a bounded time.
	pub receipt_retention: BlockNumber,
	/// What a job keeps when it is cancelled or refunded for want of a provider (capped at its
	/// `max_fee`): the price of the state it leaves for `receipt_retention` blocks. At most
	/// `base_fee`, which every paid job pays. Refunds caused by a provider (no-show, fraud,
	/// withholding) keep nothing: the provider's slash covers them.
	pub storage_fee: Balance,
	/// Every this many blocks the protocol issues a probe job (0: never): a sentence of its own
	/// for a model in `ProbeModels`, assigned like any job, always audited, paid in emission
	/// only.
	pub probe_interval: BlockNumber,
}

/// A job id as a storage key that sorts in numeric order (big-endian bytes), so a client's or
/// provider's jobs can be paged from any id by reading only the page.
#[derive(
	Copy,
	Clone,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct JobKey(pub [u8; 8]);

impl From<JobId> for JobKey {
	fn from(id: JobId) -> Self {
		Self(id.0.to_be_bytes())
	}
}

impl From<JobKey> for JobId {
	fn from(key: JobKey) -> Self {
		Self(u64::from_be_bytes(key.0))
	}
}

/// Audits drawn and audits that reached a verdict, ever.
#[derive(
	Copy,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct AuditRecord {
	/// Jobs the audit roll selected.
	pub drawn: u64,
	/// Of those, the ones whose panel reached a majority, or whose provider withheld its
	/// result and was slashed for it.
	pub concluded: u64,
}
