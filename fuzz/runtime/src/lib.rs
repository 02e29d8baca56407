//! Fuzzing the whole Infera runtime (the real `infera-runtime`, natively compiled).
//!
//! An input is a byte string read as a sequence of at most [`MAX_OPS`] operations:
//!
//! - **a transaction**: an origin byte (one of the well-known accounts, which sign it with their
//!   real keys, or an unsigned transaction) followed by a SCALE-encoded [`RuntimeCall`] (decoded
//!   with a depth limit, so nested `utility`, `sudo`, `proxy`, `multisig` and `scheduler` calls are
//!   reachable). It is applied as the node's block builder applies it: decoded again with the
//!   node's depth limit, its signature checked, every transaction extension run (nonce, fees,
//!   block weight), dispatched, and dropped with its storage changes if it is invalid;
//! - **blocks**: the open block is finalised and 1–8 more are built (100 for a long jump): BABE pre-digest with a
//!   real VRF signature of the slot's authority, the timestamp inherent, `on_initialize`,
//!   `on_idle`, `on_finalize`, state root;
//! - **the workers**: every open job's provider and checkers act as the offchain worker would
//!   (commit, then reveal), each honestly or not as the input says: a wrong output, a refusal,
//!   garbage, or silence.
//!
//! After every transaction and every block [`invariants`] are checked, and any violation
//! panics: that is what libFuzzer reports and what the replay test fails on. Genesis is the
//! `local_testnet` preset: four validators, Bob bonded as MiniLM's provider, four bonded
//! auditors, the real MiniLM registered, every well-known account funded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: a test tool: a panic is its report
#![allow(clippy::arithmetic_side_effects)] // reason: a test tool

pub mod generate;
pub mod invariants;
pub mod state;

use codec::{DecodeLimit, Encode};
use frame_support::{dispatch::GetDispatchInfo, traits::IntegrityTest};
use infera_runtime::{
	Address, Executive, Header, Runtime, RuntimeCall, Signature, SignedPayload, System,
	UncheckedExtrinsic, SLOT_DURATION,
};
use sp_consensus_babe::{
	digests::{PreDigest, SecondaryPlainPreDigest, SecondaryVRFPreDigest},
	BABE_ENGINE_ID,
};
use sp_core::{crypto::VrfSecret, Pair, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::Era,
	traits::{Applyable, Checkable, ExtrinsicLike, Header as _},
	BuildStorage, Digest, DigestItem,
};
use std::{
	sync::OnceLock,
	time::{Duration, Instant},
};

/// Most operations one input runs.
pub const MAX_OPS: usize = 64;
/// Most blocks one ordinary `blocks` operation builds.
pub const MAX_BLOCKS_PER_OP: u32 = 8;
/// Blocks a long `blocks` operation builds (its byte ≥ 248): enough to reach a session and
/// epoch change (600 blocks) within one input.
pub const LONG_JUMP: u32 = 100;

/// Most blocks one input builds (two sessions; beyond it `blocks` operations do nothing). Inputs
/// of nothing but long jumps were libFuzzer's timeouts, not the runtime's.
pub const MAX_BLOCKS: u32 = 1_200;

/// The blocks a `blocks` operation with byte `n` builds (before [`MAX_BLOCKS`]).
pub fn blocks_of(n: u8) -> u32 {
	if n >= 248 {
		LONG_JUMP
	} else {
		1 + u32::from(n) % MAX_BLOCKS_PER_OP
	}
}
/// Nesting depth the input's calls are decoded with (the node decodes extrinsics with 256; a
/// smaller limit keeps inputs cheap and loses nothing deeper nesting could reach).
pub const CALL_DEPTH: u32 = 32;
/// The node's decoding depth limit for an extrinsic.
const MAX_EXTRINSIC_DEPTH: u32 = 256;
/// The wall time one block may take. The bound is 2 s for an optimised build; an
/// unoptimised (debug) build of the replay test runs 10–30× slower, so it gets more.
pub const BLOCK_WALL_LIMIT: Duration =
	if cfg!(debug_assertions) { Duration::from_secs(30) } else { Duration::from_secs(2) };

/// The accounts that sign: every well-known dev account (all funded by the preset).
pub fn accounts() -> Vec<Sr25519Keyring> {
	Sr25519Keyring::iter().collect()
}

/// The accounts' key pairs, derived once (deriving one from its phrase costs a PBKDF2).
fn pair(key: Sr25519Keyring) -> &'static sp_core::sr25519::Pair {
	static PAIRS: OnceLock<Vec<(Sr25519Keyring, sp_core::sr25519::Pair)>> = OnceLock::new();
	let pairs = PAIRS.get_or_init(|| accounts().into_iter().map(|k| (k, k.pair())).collect());
	&pairs.iter().find(|(k, _)| *k == key).expect("every well-known account has a pair").1
}

/// What `make` gives for `key`, made once per process and kept in `cache` (at most 65,536
/// entries; a long campaign reaches only so many).
fn once<K: std::hash::Hash + Eq, V: Clone>(
	cache: &Cache<K, V>,
	key: K,
	make: impl FnOnce() -> V,
) -> V {
	let mut made = cache.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
	if let Some(value) = made.get(&key) {
		return value.clone();
	}
	if made.len() >= 1 << 16 {
		made.clear();
	}
	let value = make();
	made.insert(key, value.clone());
	value
}

type Cache<K, V> = OnceLock<std::sync::Mutex<std::collections::HashMap<K, V>>>;

/// `key`'s VRF signature over BABE's claim of `slot` in `epoch` under `randomness`, the same for
/// the same claim within a process.
///
/// A signature's proof carries a random nonce, and the header's hash (kept in state as
/// `BlockHash`) with it, so without this the same input gave a different state root on each
/// run. Every input starts from the same genesis and slots, so most claims repeat across inputs,
/// and signing each once saves most of the signing (5 % of the fuzzer's time before).
fn vrf_signature(
	key: Sr25519Keyring,
	randomness: [u8; 32],
	slot: sp_consensus_babe::Slot,
	epoch: u64,
) -> sp_core::sr25519::vrf::VrfSignature {
	static SIGNED: Cache<([u8; 32], [u8; 32], u64, u64), sp_core::sr25519::vrf::VrfSignature> =
		OnceLock::new();
	once(&SIGNED, (key.public().0, randomness, *slot, epoch), || {
		pair(key).vrf_sign(&sp_consensus_babe::make_vrf_sign_data(&randomness, slot, epoch))
	})
}

/// `key`'s signature of `message`, the same for the same message within a process (as
/// [`vrf_signature`], and for the same reason: a signature carries a random nonce, and the
/// extrinsics root, the header's hash and so the state with it).
fn signature(key: Sr25519Keyring, message: &[u8]) -> sp_core::sr25519::Signature {
	static SIGNED: Cache<([u8; 32], [u8; 32]), sp_core::sr25519::Signature> = OnceLock::new();
	once(&SIGNED, (key.public().0, sp_io::hashing::blake2_256(message)), || pair(key).sign(message))
}

/// What one input did (for the replay test's and the fuzzer's reports).
#[derive(Default, Debug, Clone)]
pub struct Stats {
	/// Operations decoded and run.
	pub ops: u32,
	/// Transactions offered to the block builder.
	pub offered: u32,
	/// Of those, included in a block (valid: signature, nonce, fee), whether or not they
	/// succeeded.
	pub included: u32,
	/// Of those, dispatched without error.
	pub succeeded: u32,
	/// Blocks finalised.
	pub blocks: u32,
	/// Jobs submitted.
	pub jobs: u32,
	/// The slowest block's wall time.
	pub slowest_block: Duration,
	/// Every block's state root, hashed together in order (what the tests compare between
	/// [`state::Storage`]s).
	pub roots: H256,
	/// How often each event of the job escrow and compute staking was emitted: how deep the
	/// inputs reached (jobs verified, audited, disputed, refunded, providers slashed).
	pub events: std::collections::BTreeMap<String, u32>,
}

impl Stats {
	/// Adds `other` into `self`.
	pub fn add(&mut self, other: &Stats) {
		self.ops += other.ops;
		self.offered += other.offered;
		self.included += other.included;
		self.succeeded += other.succeeded;
		self.blocks += other.blocks;
		self.jobs += other.jobs;
		self.slowest_block = self.slowest_block.max(other.slowest_block);
		self.roots = H256(sp_io::hashing::blake2_256(&(self.roots, other.roots).encode()));
		for (k, v) in &other.events {
			*self.events.entry(k.clone()).or_default() += v;
		}
	}
}

/// One operation of an input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // reason: a few dozen per input
pub enum Op {
	/// `origin`: index into [`accounts`] (signed), or anything else: unsigned.
	Call { origin: u8, call: RuntimeCall },
	/// Finalise the open block and build [`blocks_of`]`(n)` more.
	Blocks(u8),
	/// Every open job's parties act as their workers would, honestly or not (see [`behaviour`]).
	Workers(u8),
}

impl Op {
	/// The byte form [`decode_ops`] reads.
	pub fn encode_to(&self, out: &mut Vec<u8>) {
		match self {
			Op::Call { origin, call } => {
				out.push(0);
				out.push(*origin);
				call.encode_to(out);
			}
			Op::Blocks(n) => out.extend([2, *n]),
			Op::Workers(b) => out.extend([3, *b]),
		}
	}
}

/// Encodes a sequence of operations as an input.
pub fn encode_ops(ops: &[Op]) -> Vec<u8> {
	let mut out = Vec::new();
	for op in ops {
		op.encode_to(&mut out);
	}
	out
}

/// Reads operations until the input ends, a call does not decode, or [`MAX_OPS`].
pub fn decode_ops(mut data: &[u8]) -> Vec<Op> {
	let mut ops = Vec::new();
	while ops.len() < MAX_OPS {
		let Some((&tag, rest)) = data.split_first() else { break };
		let Some((&arg, rest)) = rest.split_first() else { break };
		data = rest;
		match tag % 4 {
			0 | 1 => match RuntimeCall::decode_with_depth_limit(CALL_DEPTH, &mut data) {
				Ok(call) => ops.push(Op::Call { origin: arg, call }),
				Err(_) => break,
			},
			2 => ops.push(Op::Blocks(arg)),
			_ => ops.push(Op::Workers(arg)),
		}
	}
	ops
}

/// Calls the harness does not dispatch: they let Root write raw storage or issuance, which
/// would break any invariant by design (a chain's governance can do that too; it is not a bug).
pub fn forbidden(call: &RuntimeCall) -> bool {
	use frame_system::Call as S;
	match call {
		RuntimeCall::System(
			S::set_storage { .. }
			| S::kill_storage { .. }
			| S::kill_prefix { .. }
			| S::set_code { .. }
			| S::set_code_without_checks { .. }
			| S::authorize_upgrade { .. }
			| S::authorize_upgrade_without_checks { .. }
			| S::apply_authorized_upgrade { .. }
			| S::set_heap_pages { .. },
		) => true,
		RuntimeCall::Balances(pallet_balances::Call::force_adjust_total_issuance { .. }) => true,
		_ => nested(call).into_iter().any(forbidden),
	}
}

/// The calls `call` dispatches in turn.
fn nested(call: &RuntimeCall) -> Vec<&RuntimeCall> {
	use pallet_multisig::Call as M;
	use pallet_proxy::Call as P;
	use pallet_scheduler::Call as Sch;
	use pallet_sudo::Call as Su;
	use pallet_utility::Call as U;
	match call {
		RuntimeCall::Utility(
			U::batch { calls } | U::batch_all { calls } | U::force_batch { calls },
		) => calls.iter().collect(),
		RuntimeCall::Utility(
			U::as_derivative { call, .. }
			| U::dispatch_as { call, .. }
			| U::dispatch_as_fallible { call, .. }
			| U::with_weight { call, .. },
		) => vec![&**call],
		RuntimeCall::Utility(U::if_else { main, fallback }) => vec![&**main, &**fallback],
		RuntimeCall::Sudo(
			Su::sudo { call } | Su::sudo_unchecked_weight { call, .. } | Su::sudo_as { call, .. },
		) => vec![&**call],
		RuntimeCall::Proxy(P::proxy { call, .. } | P::proxy_announced { call, .. }) => {
			vec![&**call]
		}
		RuntimeCall::Multisig(M::as_multi_threshold_1 { call, .. } | M::as_multi { call, .. }) => {
			vec![&**call]
		}
		RuntimeCall::Scheduler(
			Sch::schedule { call, .. }
			| Sch::schedule_named { call, .. }
			| Sch::schedule_after { call, .. }
			| Sch::schedule_named_after { call, .. },
		) => vec![&**call],
		_ => vec![],
	}
}

/// The state the `local_testnet` preset describes, built once through the JSON path the node
/// uses.
fn genesis() -> &'static sp_core::storage::Storage {
	static GENESIS: OnceLock<sp_core::storage::Storage> = OnceLock::new();
	GENESIS.get_or_init(|| {
		let config = infera_runtime::genesis_config_presets::preset_config(
			sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
		)
		.expect("the local_testnet preset exists");
		// `build_storage` runs every pallet's genesis and `on_genesis` (storage versions), as the
		// node's genesis block builder does.
		let storage = config.build_storage().unwrap();
		sp_io::TestExternalities::new(storage.clone())
			.execute_with(<infera_runtime::AllPalletsWithSystem as IntegrityTest>::integrity_test);
		storage
	})
}

/// How a party of a job behaves when the workers act: `behaviour` of the operation, the job and
/// the party's place mixed, so one byte gives each party its own choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
	Honest,
	/// Commits (and reveals) a different output of the right shape.
	Wrong,
	/// Commits (and reveals) "could not run".
	Refuses,
	/// Commits bytes that are no output at all.
	Garbage,
	/// Commits, then never reveals.
	Withholds,
	/// Does nothing.
	Silent,
}

/// The behaviour of party `place` (0: provider) of `job` under the operation's byte `b`: `b`'s
/// low two bits set how many parties deviate (none when 0).
pub fn behaviour(b: u8, job: u64, place: usize) -> Behaviour {
	if b & 3 == 0 {
		return Behaviour::Honest;
	}
	let mix = sp_io::hashing::blake2_256(&(b, job, place as u32).encode());
	// Deviate with probability (b & 3) / 8.
	if mix[0] % 8 >= b & 3 {
		return Behaviour::Honest;
	}
	match mix[1] % 5 {
		0 => Behaviour::Wrong,
		1 => Behaviour::Refuses,
		2 => Behaviour::Garbage,
		3 => Behaviour::Withholds,
		_ => Behaviour::Silent,
	}
}

/// The output an honest worker computes for `input` under `model`'s architecture: any fixed
/// function of the input serves, since every honest party computes the same one.
fn honest_output(model: infera_primitives::ModelId, input: &[u8], wrong: bool) -> Vec<u8> {
	use infera_primitives::{canonical::CanonicalOutput, Architecture};
	let seed = sp_io::hashing::blake2_256(&(input, wrong).encode());
	let byte = |i: usize| seed[i % 32] as i32;
	let arch = pallet_model_registry::Models::<Runtime>::get(model).map(|m| m.architecture);
	let out = match arch {
		Some(Architecture::TextEmbedding { dimensions, .. }) => CanonicalOutput::Embedding(
			(0..dimensions.min(4_096) as usize)
				.map(|i| ((byte(i) * 131 + i as i32 * 7) % 2_000 - 1_000) as i16)
				.collect(),
		),
		Some(Architecture::Classification { classes, .. }) => {
			let logits: Vec<i32> = (0..classes.min(64) as usize).map(|i| byte(i) * 1_000).collect();
			let class = logits
				.iter()
				.enumerate()
				.max_by_key(|(_, l)| **l)
				.map(|(i, _)| i as u32)
				.unwrap_or(0);
			CanonicalOutput::Classification { class, logits }
		}
		Some(Architecture::Generation { max_tokens, .. }) => CanonicalOutput::Generation(
			(0..max_tokens.min(64) as usize).map(|i| byte(i) as u32).collect(),
		),
		None => CanonicalOutput::Embedding(vec![byte(0) as i16]),
	};
	out.encode()
}

/// The chain being fuzzed: its state and the block being built.
pub struct Chain {
	/// The whole state (genesis included) as the state machine's overlay of changes.
	overlay: sp_state_machine::OverlayedChanges<sp_core::Blake2Hasher>,
	extensions: sp_externalities::Extensions,
	/// What is below the overlay (see [`state`]).
	backend: Below,
	slot: u64,
	parent: H256,
	block_started: Instant,
	/// What each party committed, so it can reveal it: (job, party) → output.
	committed: std::collections::BTreeMap<(u64, sp_runtime::AccountId32), Vec<u8>>,
	pub stats: Stats,
	check: invariants::Checker,
}

/// The backend under a chain's overlay.
enum Below {
	Committed(state::CommittedBackend),
	Trie(
		sp_state_machine::TrieBackend<
			sp_trie::PrefixedMemoryDB<sp_core::Blake2Hasher>,
			sp_core::Blake2Hasher,
		>,
	),
}

const SALT: [u8; 32] = [7u8; 32];

impl Chain {
	/// The preset's chain with block 1 open, its state committed every block (see [`state`]).
	pub fn new() -> Self {
		Self::with_storage(state::Storage::Committed)
	}

	/// The preset's chain with block 1 open, its state kept as `storage` says.
	pub fn with_storage(storage: state::Storage) -> Self {
		let mut overlay = sp_state_machine::OverlayedChanges::default();
		for (key, value) in &genesis().top {
			overlay.set_storage(key.clone(), Some(value.clone()));
		}
		let backend = match storage {
			state::Storage::Committed => Below::Committed(Default::default()),
			state::Storage::Trie => Below::Trie(sp_state_machine::new_in_mem()),
		};
		let mut chain = Chain {
			overlay,
			extensions: Default::default(),
			backend,
			slot: 1_000_000,
			parent: H256::zero(),
			block_started: Instant::now(),
			committed: Default::default(),
			stats: Stats::default(),
			check: invariants::Checker::before_genesis(),
		};
		chain.with(|c| {
			*c.check = invariants::Checker::new();
			*c.parent = System::block_hash(0);
		});
		chain.commit();
		chain.with(|c| c.open_block());
		chain
	}

	/// Commits the overlay's changes to the backend between blocks, as a node imports a block.
	fn commit(&mut self) {
		let version = infera_runtime::VERSION.state_version();
		const NONE_OPEN: &str = "between blocks no storage transaction is open";
		match &mut self.backend {
			Below::Committed(backend) => {
				let changes =
					self.overlay.drain_storage_changes(&*backend, version).expect(NONE_OPEN);
				backend.apply(changes);
			}
			Below::Trie(backend) => {
				let changes =
					self.overlay.drain_storage_changes(&*backend, version).expect(NONE_OPEN);
				backend.apply_transaction(changes.transaction_storage_root, changes.transaction);
			}
		}
	}

	fn with<R>(&mut self, f: impl FnOnce(&mut ChainState) -> R) -> R {
		let Chain {
			overlay,
			extensions,
			backend,
			slot,
			parent,
			block_started,
			committed,
			stats,
			check,
		} = self;
		let run = || f(&mut ChainState { slot, parent, block_started, committed, stats, check });
		match backend {
			Below::Committed(backend) => {
				let mut ext = sp_state_machine::Ext::new(overlay, backend, Some(extensions));
				sp_externalities::set_and_run_with_externalities(&mut ext, run)
			}
			Below::Trie(backend) => {
				let mut ext = sp_state_machine::Ext::new(overlay, backend, Some(extensions));
				sp_externalities::set_and_run_with_externalities(&mut ext, run)
			}
		}
	}

	/// Runs one operation and checks the invariants after it.
	pub fn run(&mut self, op: &Op) {
		self.stats.ops += 1;
		match op {
			Op::Call { origin, call } => {
				if !forbidden(call) {
					self.with(|c| c.offer(*origin, call.clone()));
				}
			}
			Op::Blocks(n) => {
				let room = MAX_BLOCKS.saturating_sub(self.stats.blocks);
				for _ in 0..blocks_of(*n).min(room) {
					self.with(|c| c.close_block());
					self.commit();
					self.with(|c| c.open_block());
				}
			}
			Op::Workers(b) => self.with(|c| c.workers(*b)),
		}
	}

	/// Closes the last block (so its hooks and checks run).
	pub fn finish(mut self) -> Stats {
		self.with(|c| {
			c.close_block();
			c.stats.jobs = pallet_job_escrow::NextJobId::<Runtime>::get().0 as u32;
		});
		self.stats
	}
}

impl Default for Chain {
	fn default() -> Self {
		Self::new()
	}
}

/// [`Chain`]'s fields, borrowed inside its externalities.
struct ChainState<'a> {
	slot: &'a mut u64,
	parent: &'a mut H256,
	block_started: &'a mut Instant,
	committed: &'a mut std::collections::BTreeMap<(u64, sp_runtime::AccountId32), Vec<u8>>,
	stats: &'a mut Stats,
	check: &'a mut invariants::Checker,
}

impl ChainState<'_> {
	fn open_block(&mut self) {
		*self.block_started = Instant::now();
		*self.slot += 1;
		let number = System::block_number() + 1;
		let digest =
			Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, self.pre_digest())] };
		let header = Header::new(number, H256::zero(), H256::zero(), *self.parent, digest);
		Executive::initialize_block(&header);
		let now = *self.slot * SLOT_DURATION;
		let inherent =
			UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
				now,
			}));
		Executive::apply_extrinsic(inherent)
			.expect("the timestamp inherent is valid")
			.expect("the timestamp inherent applies");
		self.check.after_step(invariants::BLOCK_START);
	}

	/// BABE's pre-digest as the slot's author would make it: a secondary VRF claim signed with
	/// the author's real key over the epoch the slot belongs to (the runtime checks it against
	/// the epoch's randomness and authorities after any epoch change the block enacts), so the
	/// runtime's randomness is what a real block would give. The author is the slot's authority,
	/// skipping disabled ones as a node would; an authority whose key no well-known account holds
	/// (set by the input) claims a plain slot.
	fn pre_digest(&self) -> Vec<u8> {
		use frame_support::traits::DisabledValidators;
		let number = System::block_number() + 1;
		let slot = sp_consensus_babe::Slot::from(*self.slot);
		let duration = <Runtime as pallet_babe::Config>::EpochDuration::get();
		let epoch_changes = number != 1
			&& *slot >= u64::from(pallet_babe::Pallet::<Runtime>::current_epoch_start()) + duration;
		let (authorities, randomness, epoch) = if epoch_changes {
			let genesis = u64::from(pallet_babe::GenesisSlot::<Runtime>::get());
			(
				pallet_babe::NextAuthorities::<Runtime>::get().into_inner(),
				pallet_babe::NextRandomness::<Runtime>::get(),
				(*slot - genesis) / duration,
			)
		} else {
			(
				pallet_babe::Authorities::<Runtime>::get().into_inner(),
				pallet_babe::Randomness::<Runtime>::get(),
				pallet_babe::EpochIndex::<Runtime>::get(),
			)
		};
		let n = authorities.len().max(1) as u64;
		let index = (0..n)
			.map(|i| ((*slot + i) % n) as u32)
			.find(|i| !<Runtime as pallet_babe::Config>::DisabledValidators::is_disabled(*i))
			.unwrap_or(0);
		let key = authorities.get(index as usize).and_then(|(public, _)| {
			let raw: &[u8] = public.as_ref();
			Sr25519Keyring::iter().find(|k| AsRef::<[u8]>::as_ref(&k.public()) == raw)
		});
		let digest = match key {
			Some(key) => PreDigest::SecondaryVRF(SecondaryVRFPreDigest {
				authority_index: index,
				slot,
				vrf_signature: vrf_signature(key, randomness, slot, epoch),
			}),
			None => {
				PreDigest::SecondaryPlain(SecondaryPlainPreDigest { authority_index: index, slot })
			}
		};
		digest.encode()
	}

	fn close_block(&mut self) {
		let header = Executive::finalize_block();
		*self.parent = header.hash();
		self.stats.roots =
			H256(sp_io::hashing::blake2_256(&(self.stats.roots, header.state_root()).encode()));
		for record in System::read_events_no_consensus() {
			let name = match &record.event {
				infera_runtime::RuntimeEvent::JobEscrow(e) => format!("{e:?}"),
				infera_runtime::RuntimeEvent::ComputeStaking(e) => format!("{e:?}"),
				_ => continue,
			};
			let name = name.trim_start_matches("Event::");
			let name = name.split([' ', '{', '(']).next().unwrap_or_default().to_string();
			*self.stats.events.entry(name).or_default() += 1;
		}
		self.stats.blocks += 1;
		let took = self.block_started.elapsed();
		self.stats.slowest_block = self.stats.slowest_block.max(took);
		assert!(
			took <= BLOCK_WALL_LIMIT,
			"block {} took {took:?} of wall time (limit {BLOCK_WALL_LIMIT:?})",
			header.number()
		);
		self.check.after_block();
	}

	/// Offers a transaction to the block being built, as the node's block builder would.
	fn offer(&mut self, origin: u8, call: RuntimeCall) {
		self.stats.offered += 1;
		let signers = accounts();
		let uxt = match signers.get(usize::from(origin)) {
			Some(key) => sign(key, call),
			None => UncheckedExtrinsic::new_bare(call),
		};
		self.apply(uxt);
		self.check.after_step("a transaction");
	}

	fn apply(&mut self, uxt: UncheckedExtrinsic) {
		let encoded = uxt.encode();
		let len = encoded.len();
		// The node decodes what it was sent with its depth limit; what fails never gets in.
		let Ok(uxt) =
			UncheckedExtrinsic::decode_all_with_depth_limit(MAX_EXTRINSIC_DEPTH, &mut &encoded[..])
		else {
			return;
		};
		let is_bare = uxt.is_bare();
		if is_bare {
			// An unsigned transaction reaches a block only through the pool, which validates
			// it against the best block's state (changes rolled back).
			sp_io::storage::start_transaction();
			let valid = Executive::validate_transaction(
				sp_runtime::transaction_validity::TransactionSource::External,
				uxt.clone(),
				*self.parent,
			);
			sp_io::storage::rollback_transaction();
			if valid.is_err() {
				return;
			}
		}
		let Ok(xt) = uxt.check(&frame_system::ChainContext::<Runtime>::default()) else {
			return;
		};
		let info = xt.get_dispatch_info();
		if !System::inherents_applied() {
			Executive::inherents_applied();
		}
		sp_io::storage::start_transaction();
		System::note_extrinsic(encoded);
		match Applyable::apply::<Runtime>(xt, &info, len) {
			Err(_invalid) => {
				// The block builder drops an invalid transaction and everything it changed.
				sp_io::storage::rollback_transaction();
			}
			Ok(result) => {
				sp_io::storage::commit_transaction();
				self.stats.included += 1;
				let post = match &result {
					Ok(post) => *post,
					Err(e) => e.post_info,
				};
				let declared = info.total_weight();
				if let Some(actual) = post.actual_weight {
					assert!(
						actual.all_lte(declared),
						"a dispatch reported {actual:?} of weight, more than the {declared:?} \
						 it declared"
					);
				}
				match &result {
					Ok(_) => self.stats.succeeded += 1,
					Err(e) if std::env::var_os("INFERA_FUZZ_DEBUG").is_some() => {
						eprintln!("failed: {:?}", e.error)
					}
					Err(_) => {}
				}
				System::note_applied_extrinsic(&result, info);
			}
		}
	}

	/// Every open job's parties act as their offchain workers would, each as `b` says.
	fn workers(&mut self, b: u8) {
		use pallet_job_escrow::{JobStatus, Jobs};
		let jobs: Vec<_> = Jobs::<Runtime>::iter().take(32).collect();
		for (id, job) in jobs {
			if !job.status.is_open() || matches!(job.status, JobStatus::Queued) {
				continue;
			}
			let parties = job.provider.iter().chain(job.checkers.iter()).cloned().enumerate();
			for (place, party) in parties {
				let Some(key) = Sr25519Keyring::from_account_id(&party.who) else { continue };
				let behaviour = behaviour(b, id.0, place);
				let slot = (id.0, party.who.clone());
				if party.commitment.is_none() {
					let output = match behaviour {
						Behaviour::Silent => continue,
						Behaviour::Honest | Behaviour::Withholds => {
							honest_output(job.model, &job.input, false)
						}
						Behaviour::Wrong => honest_output(job.model, &job.input, true),
						Behaviour::Refuses => {
							infera_primitives::canonical::CanonicalOutput::Refused(
								infera_primitives::canonical::Refusal::InputUnreadable,
							)
							.encode()
						}
						Behaviour::Garbage => b"not an output".to_vec(),
					};
					let hash = H256(sp_io::hashing::blake2_256(&output));
					let commitment = pallet_job_escrow::commitment_of(id, &party.who, &hash, &SALT);
					self.committed.insert(slot, output);
					let call = pallet_job_escrow::Call::commit_result { job: id, commitment };
					self.offer_as(key, call.into());
				} else if party.output_hash.is_none() && behaviour != Behaviour::Withholds {
					let Some(output) = self.committed.get(&slot).cloned() else { continue };
					let call =
						pallet_job_escrow::Call::reveal_result { job: id, output, salt: SALT };
					self.offer_as(key, call.into());
				}
			}
		}
	}

	fn offer_as(&mut self, key: Sr25519Keyring, call: RuntimeCall) {
		let index = accounts().iter().position(|k| *k == key).unwrap_or(0);
		self.offer(index as u8, call);
	}
}

/// `call` signed by `key` as a wallet would: its next nonce, immortal, no tip, no metadata hash.
pub fn sign(key: &Sr25519Keyring, call: RuntimeCall) -> UncheckedExtrinsic {
	let who = key.to_account_id();
	let nonce = System::account_nonce(&who);
	let tx_ext = infera_runtime::tx_extension(Era::Immortal, nonce);
	let payload = SignedPayload::new(call, tx_ext).expect("the implicit data is readable");
	let signature = payload.using_encoded(|bytes| signature(*key, bytes));
	let (call, tx_ext, _) = payload.deconstruct();
	UncheckedExtrinsic::new_signed(call, Address::Id(who), Signature::Sr25519(signature), tx_ext)
}

/// Runs one input: the fuzz target and the replay test both call this. Panics on any finding.
pub fn execute(data: &[u8]) -> Stats {
	execute_with_storage(data, state::Storage::Committed)
}

/// Runs one input with its state kept as `storage` says.
pub fn execute_with_storage(data: &[u8], storage: state::Storage) -> Stats {
	let ops = decode_ops(data);
	let mut chain = Chain::with_storage(storage);
	for op in &ops {
		chain.run(op);
	}
	chain.finish()
}
