//! The fuzzed chain's state: the whole state lives in the state machine's overlay, over a backend
//! that holds nothing.
//!
//! Why not `TestExternalities`: its backend is an in-memory trie, so every block's state root
//! rebuilt a trie of the whole state in a hash map of nodes and dropped it again (45 % of the
//! fuzzer's time), and every `next_storage_key` (each step of every iteration: the invariants
//! iterate every account after every transaction) set up a trie iterator to find nothing below
//! the overlay (13 %).
//!
//! [`EmptyBackend`] answers every read with "nothing", and computes a state root from the
//! overlay's contents with the streaming trie-root builder: the same root the trie backend gives
//! for the same state (the state machine's own `Ext` does everything else, unchanged). The
//! replay tests check that equality block by block against [`Roots::Trie`], which keeps the trie
//! backend.

use sp_core::storage::StateVersion;
use sp_core::{storage::ChildInfo, Blake2Hasher, H256};
use sp_state_machine::{
	Backend, BackendTransaction, IterArgs, StorageIterator, StorageKey, StorageValue, UsageInfo,
};
use sp_trie::{LayoutV0, LayoutV1, MerkleValue, PrefixedMemoryDB, TrieConfiguration};
use std::collections::BTreeMap;

type H = Blake2Hasher;

/// How a chain computes its state roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roots {
	/// Streamed from the overlay over [`EmptyBackend`] (what the fuzzer runs).
	Streamed,
	/// The state machine's in-memory trie backend, as `TestExternalities` has it (the reference
	/// the tests compare with).
	Trie,
}

/// A backend with no state in it: the fuzzed chain's whole state is in the overlay.
#[derive(Debug, Default)]
pub struct EmptyBackend;

/// The root of the trie holding `delta`'s present values (its deletions are of keys the empty
/// backend never held).
fn root_of<'a>(
	delta: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
	version: StateVersion,
) -> H256 {
	// A later entry for a key replaces an earlier one, as inserting them into a trie in order does.
	let mut state = BTreeMap::new();
	for (key, value) in delta {
		match value {
			Some(value) => state.insert(key, value),
			None => state.remove(key),
		};
	}
	match version {
		StateVersion::V0 => LayoutV0::<H>::trie_root(state),
		StateVersion::V1 => LayoutV1::<H>::trie_root(state),
	}
}

fn empty_root(version: StateVersion) -> H256 {
	root_of(std::iter::empty(), version)
}

impl Backend<H> for EmptyBackend {
	type Error = String;
	type TrieBackendStorage = PrefixedMemoryDB<H>;
	type RawIter = NothingIter;

	fn storage(&self, _: &[u8]) -> Result<Option<StorageValue>, String> {
		Ok(None)
	}

	fn storage_hash(&self, _: &[u8]) -> Result<Option<H256>, String> {
		Ok(None)
	}

	fn closest_merkle_value(&self, _: &[u8]) -> Result<Option<MerkleValue<H256>>, String> {
		Ok(None)
	}

	fn child_closest_merkle_value(
		&self,
		_: &ChildInfo,
		_: &[u8],
	) -> Result<Option<MerkleValue<H256>>, String> {
		Ok(None)
	}

	fn child_storage(&self, _: &ChildInfo, _: &[u8]) -> Result<Option<StorageValue>, String> {
		Ok(None)
	}

	fn child_storage_hash(&self, _: &ChildInfo, _: &[u8]) -> Result<Option<H256>, String> {
		Ok(None)
	}

	fn next_storage_key(&self, _: &[u8]) -> Result<Option<StorageKey>, String> {
		Ok(None)
	}

	fn next_child_storage_key(
		&self,
		_: &ChildInfo,
		_: &[u8],
	) -> Result<Option<StorageKey>, String> {
		Ok(None)
	}

	fn storage_root<'a>(
		&self,
		delta: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
		version: StateVersion,
	) -> (H256, BackendTransaction<H>) {
		(root_of(delta, version), Default::default())
	}

	fn child_storage_root<'a>(
		&self,
		_: &ChildInfo,
		delta: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
		version: StateVersion,
	) -> (H256, bool, BackendTransaction<H>) {
		let root = root_of(delta, version);
		(root, root == empty_root(version), Default::default())
	}

	fn raw_iter(&self, _: IterArgs) -> Result<NothingIter, String> {
		Ok(NothingIter)
	}

	fn register_overlay_stats(&self, _: &sp_state_machine::StateMachineStats) {}

	fn usage_info(&self) -> UsageInfo {
		UsageInfo::empty()
	}
}

/// Iterates [`EmptyBackend`]: nothing.
pub struct NothingIter;

impl StorageIterator<H> for NothingIter {
	type Backend = EmptyBackend;
	type Error = String;

	fn next_key(&mut self, _: &EmptyBackend) -> Option<Result<StorageKey, String>> {
		None
	}

	fn next_pair(
		&mut self,
		_: &EmptyBackend,
	) -> Option<Result<(StorageKey, StorageValue), String>> {
		None
	}

	fn was_complete(&self) -> bool {
		true
	}
}
