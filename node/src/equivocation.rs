//! Reports BABE equivocations with proofs the runtime accepts.
//!
//! `sc-consensus-babe` 0.60 looks for equivocations in its block import, where the header has
//! already lost its seal (the verifier moves it into `post_digests`). The proof it submits holds
//! two unsealed headers; `sp_consensus_babe::check_equivocation_proof` needs each header's seal to
//! check the offender's signature, so the report always fails on chain
//! (`InvalidEquivocationProof`) and a validator that signs two blocks in one slot is never
//! punished. Only GRANDPA equivocations, which need the two halves to vote differently, were
//! caught, and only some of the time.
//!
//! [`EquivocationReporter`] sits in front of BABE's block import. It keeps the sealed header of
//! each block by slot and author; when the same author's second header for a slot arrives it asks
//! the runtime for a key-ownership proof and submits `Babe::report_equivocation_unsigned` to the
//! local pool, as BABE would. Its report runs before BABE's own check, so it takes the pool's tag
//! `(offender, slot)` and BABE's invalid duplicate is refused there ("Error submitting
//! equivocation report" in the log).

use crate::service::FullClient;
use infera_runtime::opaque::Block;
use sc_consensus::{BlockCheckParams, BlockImport, BlockImportParams, ImportResult};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_consensus::{BlockOrigin, Error as ConsensusError};
use sp_consensus_babe::{AuthorityId, BabeApi, EquivocationProof};
use sp_runtime::traits::{Block as BlockT, Header as _};
use std::{
	collections::BTreeMap,
	sync::{Arc, Mutex},
};

type Header = <Block as BlockT>::Header;

/// Headers older than this many slots behind the newest seen are forgotten (as
/// `sc-consensus-slots` does for its own record).
const KEPT_SLOTS: u64 = 1_000;
/// At most this many authors are remembered for one slot; a slot has one primary author in the
/// normal case, and a few more only with secondary or competing primary claims.
const AUTHORS_PER_SLOT: usize = 32;

/// The sealed headers seen, by slot and author.
#[derive(Default)]
struct Seen {
	by_slot: BTreeMap<u64, Vec<(AuthorityId, Header)>>,
}

impl Seen {
	/// Records `header` (sealed) by `author` at `slot`; returns an equivocation proof when the
	/// author already signed a different header for the same slot.
	fn note(
		&mut self,
		slot: sp_consensus_slots::Slot,
		author: AuthorityId,
		header: Header,
	) -> Option<EquivocationProof<Header>> {
		let newest = self.by_slot.keys().next_back().copied().unwrap_or(*slot).max(*slot);
		let oldest = newest.saturating_sub(KEPT_SLOTS);
		if *slot < oldest {
			return None;
		}
		self.by_slot = self.by_slot.split_off(&oldest);
		let seen = self.by_slot.entry(*slot).or_default();
		if let Some((_, first)) = seen.iter().find(|(a, _)| *a == author) {
			return (first.hash() != header.hash()).then(|| EquivocationProof {
				offender: author,
				slot,
				first_header: first.clone(),
				second_header: header,
			});
		}
		if seen.len() < AUTHORS_PER_SLOT {
			seen.push((author, header));
		}
		None
	}
}

/// A block import that reports BABE equivocations before handing the block on to `inner`.
#[derive(Clone)]
pub struct EquivocationReporter<I> {
	inner: I,
	client: Arc<FullClient>,
	pool: OffchainTransactionPoolFactory<Block>,
	seen: Arc<Mutex<Seen>>,
}

impl<I> EquivocationReporter<I> {
	pub fn new(
		inner: I,
		client: Arc<FullClient>,
		pool: OffchainTransactionPoolFactory<Block>,
	) -> Self {
		Self { inner, client, pool, seen: Default::default() }
	}

	/// Notes the block's sealed header and reports its author if it equivocated.
	fn check(&self, block: &BlockImportParams<Block>) -> Result<(), String> {
		let pre_digest = sc_consensus_babe::find_pre_digest::<Block>(&block.header)
			.map_err(|e| e.to_string())?;
		let slot = pre_digest.slot();
		let parent = *block.header.parent_hash();
		// A fresh `ApiRef` for each call: calls on one share their overlay.
		let api = || self.client.runtime_api();
		// The authorities the block was authored under: the parent's epoch, or the next one when
		// the block opens it.
		let mut epoch = api().current_epoch(parent).map_err(|e| e.to_string())?;
		if *slot >= (*epoch.start_slot).saturating_add(epoch.duration) {
			epoch = api().next_epoch(parent).map_err(|e| e.to_string())?;
		}
		let Some((author, _)) = epoch.authorities.get(pre_digest.authority_index() as usize) else {
			return Ok(());
		};
		let sealed = block.post_header();
		let proof = {
			let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
			seen.note(slot, author.clone(), sealed)
		};
		let Some(proof) = proof else { return Ok(()) };
		log::warn!(
			target: "infera::equivocation",
			"BABE author {author} signed two blocks in slot {slot}: {:?} and {:?}",
			proof.first_header.hash(),
			proof.second_header.hash(),
		);
		let best = self.client.info().best_hash;
		// The key-ownership proof is made at the parent (inside the session of the offence) or,
		// when the offence opens a session, at the best block.
		let key_owner_proof = match api()
			.generate_key_ownership_proof(parent, slot, author.clone())
			.map_err(|e| e.to_string())?
		{
			Some(p) => p,
			None => match api()
				.generate_key_ownership_proof(best, slot, author.clone())
				.map_err(|e| e.to_string())?
			{
				Some(p) => p,
				None => return Err(format!("{author} is not in the authority set of slot {slot}")),
			},
		};
		let mut submit = api();
		submit.register_extension(self.pool.offchain_transaction_pool(best));
		submit
			.submit_report_equivocation_unsigned_extrinsic(best, proof, key_owner_proof)
			.map_err(|e| e.to_string())?
			.ok_or_else(|| "the runtime refused to build the report".to_string())?;
		log::info!(
			target: "infera::equivocation",
			"submitted a BABE equivocation report against {author} for slot {slot}"
		);
		Ok(())
	}
}

#[async_trait::async_trait]
impl<I> BlockImport<Block> for EquivocationReporter<I>
where
	I: BlockImport<Block, Error = ConsensusError> + Send + Sync,
{
	type Error = ConsensusError;

	async fn check_block(
		&self,
		block: BlockCheckParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		self.inner.check_block(block).await
	}

	async fn import_block(
		&self,
		block: BlockImportParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		// Blocks of an initial or warp sync, or from a file, are history: equivocations in them
		// are stale (BABE skips them too).
		let live = matches!(
			block.origin,
			BlockOrigin::NetworkBroadcast | BlockOrigin::ConsensusBroadcast | BlockOrigin::Own
		);
		if live && !block.with_state() {
			if let Err(e) = self.check(&block) {
				log::warn!(target: "infera::equivocation", "checking for a BABE equivocation: {e}");
			}
		}
		self.inner.import_block(block).await
	}
}
