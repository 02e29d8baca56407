//! Stored records of the model registry.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use infera_primitives::{Architecture, ModelId};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Perbill;

/// Whether a model takes new jobs.
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
pub enum ModelStatus {
	/// Takes new jobs.
	Active,
	/// Takes no new jobs; `by_governance` when it was force-deprecated.
	Deprecated { by_governance: bool },
}

/// Content hashes that identify a model's files.
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
pub struct ModelFiles {
	/// blake2-256 of the `.safetensors` weights file.
	pub weights_hash: H256,
	/// Size of the weights file, in bytes.
	pub weights_size: u64,
	/// blake2-256 of `config.json`.
	pub config_hash: H256,
	/// blake2-256 of `tokenizer.json`.
	pub tokenizer_hash: H256,
}

/// Descriptive fields an owner may change.
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
#[scale_info(skip_type_params(MaxName, MaxLicense))]
pub struct ModelMetadata<MaxName: Get<u32>, MaxLicense: Get<u32>> {
	/// Human-readable name, e.g. `all-MiniLM-L6-v2`.
	pub name: BoundedVec<u8, MaxName>,
	/// Version label, e.g. `1.0`.
	pub version: BoundedVec<u8, MaxName>,
	/// SPDX license identifier or expression, e.g. `Apache-2.0`.
	pub license: BoundedVec<u8, MaxLicense>,
	/// blake2-256 of the training dataset, when known.
	pub dataset_hash: Option<H256>,
}

/// A registered model.
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
#[scale_info(skip_type_params(MaxName, MaxLicense))]
#[allow(clippy::multiple_bound_locations)] // reason: the NoBound derives restate the struct's bounds
pub struct ModelInfo<
	AccountId: Clone + Eq + Debug,
	Balance: Clone + Eq + Debug,
	BlockNumber: Clone + Eq + Debug,
	MaxName: Get<u32>,
	MaxLicense: Get<u32>,
> {
	/// Controls the entry and receives the royalty.
	pub owner: AccountId,
	/// Paid the storage deposit and gets it back on removal.
	pub depositor: AccountId,
	/// The deposit held from `depositor`.
	pub deposit: Balance,
	/// The model's files.
	pub files: ModelFiles,
	/// What the model computes and how outputs are compared.
	pub architecture: Architecture,
	/// Name, version, license, dataset.
	pub metadata: ModelMetadata<MaxName, MaxLicense>,
	/// The model this one derives from.
	pub parent: Option<ModelId>,
	/// Number of ancestors (0 for a root model).
	pub depth: u32,
	/// Number of registered models whose parent is this one.
	pub children: u32,
	/// The owner's share of each job's fee.
	pub royalty: Perbill,
	/// Whether it takes new jobs.
	pub status: ModelStatus,
	/// When it was registered.
	pub registered_at: BlockNumber,
}

/// Governance-set parameters of the registry.
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
pub struct RegistryParams<Balance> {
	/// Highest royalty a model may ask.
	pub max_royalty: Perbill,
	/// Loosest embedding tolerance allowed: `min_cosine` may not be below this.
	pub min_cosine_floor: Perbill,
	/// Loosest embedding tolerance allowed: `max_element_diff` may not exceed this.
	pub max_element_diff_cap: u16,
	/// Widest classification tie margin allowed (fixed point, 2¹⁶).
	pub max_tie_margin: u32,
	/// Widest generation logit margin allowed (fixed point, 2¹⁶).
	pub max_logit_margin: u32,
	/// Deposit per registered model.
	pub deposit_base: Balance,
	/// Deposit per byte of the stored entry.
	pub deposit_per_byte: Balance,
}

/// A model registered at genesis (dev and test chains): registered as if its owner had called
/// `register_model`, deposit included.
#[derive(Clone, PartialEq, Eq, Debug, frame_support::Serialize, frame_support::Deserialize)]
#[serde(crate = "frame_support::__private::serde", rename_all = "camelCase")]
pub struct GenesisModel<AccountId> {
	/// Owner and depositor.
	pub owner: AccountId,
	/// The model's files.
	pub files: ModelFiles,
	/// What it computes, with its calibrated tolerance.
	pub architecture: infera_primitives::Architecture,
	/// Name, UTF-8.
	pub name: alloc::vec::Vec<u8>,
	/// Version label, UTF-8.
	pub version: alloc::vec::Vec<u8>,
	/// SPDX license, UTF-8.
	pub license: alloc::vec::Vec<u8>,
	/// The owner's share of each job's fee.
	pub royalty: sp_runtime::Perbill,
}
