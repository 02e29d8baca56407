//! Ids and records shared by the pallets and the engine.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

macro_rules! id_type {
	($(#[$doc:meta])* $name:ident) => {
		$(#[$doc])*
		#[derive(
			Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug,
			Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, serde::Serialize, serde::Deserialize,
		)]
		pub struct $name(pub u64);

		impl $name {
			/// The id after this one, or `None` when the id space is exhausted.
			pub fn next(self) -> Option<Self> {
				self.0.checked_add(1).map(Self)
			}
		}

		impl From<u64> for $name {
			fn from(v: u64) -> Self {
				Self(v)
			}
		}
	};
}

id_type!(
	/// A registered model.
	ModelId
);
id_type!(
	/// An inference job.
	JobId
);

/// The accelerator a provider runs inference on.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Accelerator {
	/// CPU only.
	Cpu,
	/// An NVIDIA GPU through CUDA.
	Cuda,
}

/// The hardware a provider declares when it registers.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub struct HardwareProfile {
	/// Where inference runs.
	pub accelerator: Accelerator,
	/// CPU cores available to the worker.
	pub cpu_cores: u16,
	/// Host memory, MiB.
	pub memory_mib: u32,
	/// Accelerator memory, MiB (0 for CPU).
	pub accelerator_memory_mib: u32,
}

/// Tolerance of a text-embedding model: outputs pass when their cosine similarity is at least
/// `min_cosine` and no element differs by more than `max_element_diff` quantisation steps.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub struct EmbeddingTolerance {
	/// 1 − ε, as a fraction of one.
	pub min_cosine: Perbill,
	/// δ, in units of 1 / (2¹⁵ − 1).
	pub max_element_diff: u16,
}

/// Tolerance of a classifier: the same class passes; a different class passes only when the
/// reference's top two logits are within `tie_margin` (fixed-point, scale 2¹⁶) of each other.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub struct ClassificationTolerance {
	/// Logit margin under which two classes count as tied.
	pub tie_margin: u32,
}

/// Tolerance of a generator: every token must be the checker's top token or have a logit within
/// `logit_margin` (fixed-point, scale 2¹⁶) of it.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub struct GenerationTolerance {
	/// τ.
	pub logit_margin: u32,
}

/// What a model computes, with the tolerance its verdicts use.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Architecture {
	/// Sentence embeddings of `dimensions` elements (e.g. BERT with mean pooling).
	TextEmbedding { dimensions: u32, tolerance: EmbeddingTolerance },
	/// A classifier over `classes` classes.
	Classification { classes: u32, tolerance: ClassificationTolerance },
	/// Greedy text generation of at most `max_tokens` tokens.
	Generation { max_tokens: u32, tolerance: GenerationTolerance },
}

impl Architecture {
	/// Whether a model of this architecture can read `input`. Every architecture Infera runs
	/// reads text, so the input must be UTF-8; a client that submits anything else is told at
	/// submit, instead of a provider failing to run it later.
	pub fn reads(&self, input: &[u8]) -> bool {
		match self {
			Self::TextEmbedding { .. } | Self::Classification { .. } | Self::Generation { .. } => {
				core::str::from_utf8(input).is_ok()
			}
		}
	}
}

/// Fixed-point scale of logits in canonical outputs: 2¹⁶.
pub const LOGIT_SCALE: i64 = 1 << 16;
/// Quantisation scale of embedding elements: 2¹⁵ − 1, so ±1.0 maps to ±32767.
pub const EMBEDDING_SCALE: i32 = i16::MAX as i32;

/// The part an account plays in a job: the one vocabulary of the pallets, the offchain worker
/// and its metrics.
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
pub enum Role {
	/// The provider assigned to run the job.
	Provider,
	/// A member of the job's audit panel, re-running it blind.
	Checker,
}

impl Role {
	/// A lower-case name, for logs and metric labels.
	pub fn name(&self) -> &'static str {
		match self {
			Self::Provider => "provider",
			Self::Checker => "checker",
		}
	}
}

/// How a job was judged.
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
	/// Not drawn for audit; the provider's result stood through the challenge window.
	Unaudited,
	/// Audited: a majority of the panel matched the provider's output within tolerance
	/// (checkers that contradicted it were slashed).
	AuditPassed,
	/// Audited: a majority of the panel contradicted the provider, which was slashed.
	AuditFailed,
	/// Audited, but neither side reached a majority of the panel (too few checkers revealed):
	/// the provider's result was not shown wrong and stands; nobody is slashed for a vote, and
	/// the job earns no emission.
	Undecided,
	/// Drawn for audit, but no bonded auditor declares the model: the result stands
	/// unchecked, and the job earns no emission.
	Unverifiable,
	/// The provider committed and did not reveal: slashed as for fraud.
	Withheld,
	/// No result was delivered.
	NoResult,
}

impl Verdict {
	/// A snake-case name, for logs and metric labels.
	pub fn name(&self) -> &'static str {
		match self {
			Self::Unaudited => "unaudited",
			Self::AuditPassed => "audit_passed",
			Self::AuditFailed => "audit_failed",
			Self::Undecided => "undecided",
			Self::Unverifiable => "unverifiable",
			Self::Withheld => "withheld",
			Self::NoResult => "no_result",
		}
	}
}
