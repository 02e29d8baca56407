//! Stored records of the job escrow.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use infera_primitives::{JobId, ModelId};
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
	/// The dispute committee found the provider's output wrong; the provider was slashed.
	Fraud,
	/// Provider and auditor disagreed and the committee reached no majority; nobody was slashed.
	Undecided,
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
	/// An auditor is assigned and must commit its own result.
	Auditing,
	/// Reveals are open (for the auditor too when `audited`).
	Revealing { audited: bool },
	/// Provider and auditor disagreed beyond tolerance; the committee commits its results.
	Disputed,
	/// The committee reveals.
	DisputeRevealing,
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

/// One party that runs a job (provider, auditor or committee member) and its commit-reveal
/// progress.
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
	/// The block at which the current phase times out (the job's one entry in `Wakeups`).
	pub wake_at: BlockNumber,
	/// The assigned provider.
	pub provider: Option<Party<AccountId>>,
	/// The auditor, when the job is audited.
	pub auditor: Option<Party<AccountId>>,
	/// The dispute committee, when provider and auditor disagree.
	pub committee: BoundedVec<Party<AccountId>, MaxCommittee>,
	/// Providers that were assigned and did not deliver (never assigned again to this job).
	pub no_shows: BoundedVec<AccountId, MaxAttempts>,
}

/// How a finished job ended, for its receipt.
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
pub enum Verdict {
	/// Not audited; the provider's result stood through the challenge window.
	Unaudited,
	/// Audited and the auditor's output matched within tolerance.
	AuditPassed,
	/// Disputed and the committee sided with the provider (the auditor was slashed).
	CommitteeUpheld,
	/// Disputed and the committee sided with the auditor (the provider was slashed).
	CommitteeRejected,
	/// Disputed without a majority.
	Undecided,
	/// No result was delivered.
	NoResult,
}

/// What remains of a finished job after pruning: enough to prove what was run, by whom, with
/// which outcome and at what price.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Receipt<AccountId, Balance, BlockNumber> {
	/// Who paid.
	pub client: AccountId,
	/// The model run.
	pub model: ModelId,
	/// blake2-256 of the input.
	pub input_hash: H256,
	/// blake2-256 of the provider's revealed output, when there was one.
	pub output_hash: Option<H256>,
	/// Who ran it.
	pub provider: Option<AccountId>,
	/// Who audited it.
	pub auditor: Option<AccountId>,
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
	/// Validators on a dispute committee (k).
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
	/// Share of the locked stake slashed from a provider that does not deliver.
	pub no_show_slash: Perbill,
	/// Share of the locked stake slashed from the side a dispute committee contradicts.
	pub fraud_slash: Perbill,
	/// Share of the price that goes to the protocol (rewards / treasury).
	pub protocol_cut: Perbill,
	/// Blocks a finished job stays in full before only its receipt remains.
	pub retention: BlockNumber,
}
