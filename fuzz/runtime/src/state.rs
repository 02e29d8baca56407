//! The fuzzed chain's state: committed block by block, as a node commits it, to a backend that
//! answers reads from ordered maps and keeps a trie only to compute state roots.
//!
//! Why not `TestExternalities`: its backend is an in-memory trie that nothing is committed to,
//! so every change since genesis stays in the overlay and every block's state root rebuilt a
//! trie of the whole state (which grows by a `BlockHash` entry a block): 45 % of the fuzzer's
//! time, and an input's time grew with the square of its blocks. Reading through a trie backend
//! instead is no better: every `next_storage_key` (each step of every iteration, and the
//! invariants iterate every account after every transaction) seeks down from the root.
//!
//! [`CommittedBackend`] holds the state committed at the end of each block twice: in ordered
//! maps, which every read and iteration uses, and in the state machine's own in-memory trie,
//! which computes the next root from that block's changes alone. The state machine's `Ext`
//! does everything else, unchanged. The replay tests check that every block's root is the one
//! [`Storage::Trie`] (the state machine's trie backend alone) gives.

use sp_core::{
	storage::{ChildInfo, StateVersion},
	Blake2Hasher, Hasher, H256,
};
use sp_state_machine::{
	Backend, BackendTransaction, IterArgs, StorageChanges, StorageIterator, StorageKey,
	StorageValue, TrieBackend, UsageInfo,
};
use sp_trie::{MerkleValue, PrefixedMemoryDB};
use std::{collections::BTreeMap, ops::Bound};

type H = Blake2Hasher;
type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// Where a chain keeps its state; either way it is committed at the end of every block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
	/// A [`CommittedBackend`] (what the fuzzer runs).
	Committed,
	/// The state machine's in-memory trie backend alone, which reads walk: a node's
	/// arrangement, the reference the tests compare with.
	Trie,
}

/// The committed state: ordered maps for reads, a trie for roots.
#[derive(Debug)]
pub struct CommittedBackend {
	top: Map,
	/// Child tries by their storage key.
	children: BTreeMap<Vec<u8>, Map>,
	trie: TrieBackend<PrefixedMemoryDB<H>, H>,
}

impl Default for CommittedBackend {
	fn default() -> Self {
		CommittedBackend {
			top: Map::new(),
			children: BTreeMap::new(),
			trie: sp_state_machine::new_in_mem(),
		}
	}
}

impl CommittedBackend {
	/// Applies what a block changed: the values, and the trie nodes its root computation made.
	pub fn apply(&mut self, changes: StorageChanges<H>) {
		let apply = |map: &mut Map, collection: Vec<(StorageKey, Option<StorageValue>)>| {
			for (key, value) in collection {
				match value {
					Some(value) => map.insert(key, value),
					None => map.remove(&key),
				};
			}
		};
		apply(&mut self.top, changes.main_storage_changes);
		self.trie.apply_transaction(changes.transaction_storage_root, changes.transaction);
		for (storage_key, collection) in changes.child_storage_changes {
			let child = self.children.entry(storage_key.clone()).or_default();
			apply(child, collection);
			if child.is_empty() {
				self.children.remove(&storage_key);
			}
			// A child trie's root is a key of the top trie, which reads and iteration see.
			let root_key = ChildInfo::new_default(&storage_key).prefixed_storage_key().into_inner();
			match self.trie.storage(&root_key).ok().flatten() {
				Some(root) => self.top.insert(root_key, root),
				None => self.top.remove(&root_key),
			};
		}
	}

	fn map(&self, child: Option<&ChildInfo>) -> Option<&Map> {
		match child {
			None => Some(&self.top),
			Some(child) => self.children.get(child.storage_key()),
		}
	}
}

/// The first key after `key` in `map`.
fn next_after(map: Option<&Map>, key: &[u8]) -> Option<StorageKey> {
	map?.range::<[u8], _>((Bound::Excluded(key), Bound::Unbounded)).next().map(|(k, _)| k.clone())
}

impl Backend<H> for CommittedBackend {
	type Error = String;
	type TrieBackendStorage = PrefixedMemoryDB<H>;
	type RawIter = MapIter;

	fn storage(&self, key: &[u8]) -> Result<Option<StorageValue>, String> {
		Ok(self.top.get(key).cloned())
	}

	fn storage_hash(&self, key: &[u8]) -> Result<Option<H256>, String> {
		Ok(self.top.get(key).map(|v| H::hash(v)))
	}

	fn closest_merkle_value(&self, key: &[u8]) -> Result<Option<MerkleValue<H256>>, String> {
		self.trie.closest_merkle_value(key)
	}

	fn child_closest_merkle_value(
		&self,
		child: &ChildInfo,
		key: &[u8],
	) -> Result<Option<MerkleValue<H256>>, String> {
		self.trie.child_closest_merkle_value(child, key)
	}

	fn child_storage(&self, child: &ChildInfo, key: &[u8]) -> Result<Option<StorageValue>, String> {
		Ok(self.map(Some(child)).and_then(|m| m.get(key)).cloned())
	}

	fn child_storage_hash(&self, child: &ChildInfo, key: &[u8]) -> Result<Option<H256>, String> {
		Ok(self.map(Some(child)).and_then(|m| m.get(key)).map(|v| H::hash(v)))
	}

	fn next_storage_key(&self, key: &[u8]) -> Result<Option<StorageKey>, String> {
		Ok(next_after(Some(&self.top), key))
	}

	fn next_child_storage_key(
		&self,
		child: &ChildInfo,
		key: &[u8],
	) -> Result<Option<StorageKey>, String> {
		Ok(next_after(self.map(Some(child)), key))
	}

	fn storage_root<'a>(
		&self,
		delta: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
		version: StateVersion,
	) -> (H256, BackendTransaction<H>) {
		self.trie.storage_root(delta, version)
	}

	fn child_storage_root<'a>(
		&self,
		child: &ChildInfo,
		delta: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
		version: StateVersion,
	) -> (H256, bool, BackendTransaction<H>) {
		self.trie.child_storage_root(child, delta, version)
	}

	fn raw_iter(&self, args: IterArgs) -> Result<MapIter, String> {
		let prefix = args.prefix.unwrap_or_default().to_vec();
		// Keys from `start_at` (after it if exclusive), never before the prefix.
		let from = match args.start_at {
			Some(start) if start >= &prefix[..] => {
				if args.start_at_exclusive {
					Bound::Excluded(start.to_vec())
				} else {
					Bound::Included(start.to_vec())
				}
			}
			_ => Bound::Included(prefix.clone()),
		};
		Ok(MapIter { child: args.child_info, prefix, from, done: false })
	}

	fn register_overlay_stats(&self, _: &sp_state_machine::StateMachineStats) {}

	fn usage_info(&self) -> UsageInfo {
		UsageInfo::empty()
	}
}

/// Iterates a [`CommittedBackend`]'s keys in order, from a bound, while they have a prefix.
pub struct MapIter {
	child: Option<ChildInfo>,
	prefix: Vec<u8>,
	from: Bound<Vec<u8>>,
	done: bool,
}

impl MapIter {
	fn next_entry<'b>(
		&mut self,
		backend: &'b CommittedBackend,
	) -> Option<(&'b Vec<u8>, &'b Vec<u8>)> {
		if self.done {
			return None;
		}
		let map = backend.map(self.child.as_ref());
		let next = map.and_then(|m| {
			m.range::<[u8], _>((self.from.as_ref().map(|k| &k[..]), Bound::Unbounded)).next()
		});
		match next {
			Some((key, value)) if key.starts_with(&self.prefix) => {
				self.from = Bound::Excluded(key.clone());
				Some((key, value))
			}
			_ => {
				self.done = true;
				None
			}
		}
	}
}

impl StorageIterator<H> for MapIter {
	type Backend = CommittedBackend;
	type Error = String;

	fn next_key(&mut self, backend: &CommittedBackend) -> Option<Result<StorageKey, String>> {
		self.next_entry(backend).map(|(k, _)| Ok(k.clone()))
	}

	fn next_pair(
		&mut self,
		backend: &CommittedBackend,
	) -> Option<Result<(StorageKey, StorageValue), String>> {
		self.next_entry(backend).map(|(k, v)| Ok((k.clone(), v.clone())))
	}

	fn was_complete(&self) -> bool {
		self.done
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_io::{default_child_storage as child, storage};
	use sp_state_machine::{Ext, OverlayedChanges, TestExternalities};

	/// Runs `first`, commits, and runs `then`, over a committed backend and over the state
	/// machine's trie backend; returns what `then` gave on each.
	fn both<R: PartialEq + std::fmt::Debug>(first: impl Fn(), then: impl Fn() -> R) -> (R, R) {
		let mut backend = CommittedBackend::default();
		let mut overlay = OverlayedChanges::<H>::default();
		let mut ext = Ext::new(&mut overlay, &backend, None);
		sp_externalities::set_and_run_with_externalities(&mut ext, &first);
		let changes = overlay.drain_storage_changes(&backend, StateVersion::V1).unwrap();
		backend.apply(changes);
		let mut ext = Ext::new(&mut overlay, &backend, None);
		let committed = sp_externalities::set_and_run_with_externalities(&mut ext, &then);

		// The reference: the state machine's trie backend, with `first`'s changes committed to
		// it (less the empty `:code` that `TestExternalities` starts with).
		let mut plain = TestExternalities::<H>::new_empty();
		plain.execute_with(|| storage::clear(b":code"));
		plain.execute_with(&first);
		plain.commit_all().unwrap();
		let reference = plain.execute_with(&then);
		(committed, reference)
	}

	fn keys() {
		for i in 0u8..40 {
			storage::set(&[b'a', i / 10, i], &[i; 40]);
			storage::set(&[b'b', i], &[i]);
			child::set(b"kid", &[i], &[i; 3]);
		}
	}

	#[test]
	fn prefix_clearing_with_limits_and_cursors_matches() {
		let (a, b) = both(keys, || {
			// In steps of seven, each passing the last one's cursor, as pallets do.
			let mut outcomes = Vec::new();
			let mut cursor: Option<Vec<u8>> = None;
			for _ in 0..20 {
				let r = frame_support::storage::unhashed::clear_prefix(
					b"a",
					Some(7),
					cursor.as_deref(),
				);
				outcomes.push((r.backend, r.unique, r.loops, r.maybe_cursor.is_some()));
				cursor = r.maybe_cursor;
				if cursor.is_none() {
					break;
				}
			}
			let removed = child::clear_prefix(b"kid", &[], Some(15));
			let removed = matches!(removed, sp_io::KillStorageResult::SomeRemaining(_));
			storage::set(b"b\x05x", b"new");
			(
				outcomes,
				removed,
				storage::next_key(b"a"),
				storage::next_key(b"b\x05"),
				storage::root(StateVersion::V1),
			)
		});
		assert_eq!(a, b);
		// Without a cursor (FRAME ignores it) each call in the same block walks the same seven
		// keys already deleted: a node does the same, and so must the fuzzed chain.
		assert_eq!(a.0.len(), 20, "{:?}", a.0);
		assert_eq!(a.2.as_deref(), Some(&[b'a', 0, 7][..]));
	}

	#[test]
	fn iteration_reads_and_child_roots_match() {
		let (a, b) = both(keys, || {
			let mut walked = Vec::new();
			let mut key = Vec::new();
			while let Some(next) = storage::next_key(&key) {
				walked.push((next.clone(), storage::get(&next).map(|v| v.to_vec())));
				key = next;
			}
			storage::clear(&[b'b', 3]);
			child::set(b"kid", &[200], b"late");
			let child_root = child::root(b"kid", StateVersion::V1);
			(
				walked,
				child::get(b"kid", &[4]),
				child::next_key(b"kid", &[4]),
				child_root,
				storage::root(StateVersion::V1),
			)
		});
		assert_eq!(a, b);
		assert_eq!(a.0.len(), 81, "forty `a` keys, forty `b` keys and the child trie's root");
		assert!(a.0[0].0.starts_with(b":child_storage:default:kid"), "{:?}", a.0[0]);
	}
}
