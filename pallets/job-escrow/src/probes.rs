//! Probe jobs: work the protocol itself asks for, so that emission follows work no client can
//! buy from itself (ADR 0009).
//!
//! Every `probe_interval` blocks the block hook issues one probe: a sentence made from the
//! block's randomness, for a model drawn from `ProbeModels`, assigned by the same stake-weighted
//! draw as any job. A probe has no fee and no escrow; it is always audited by a panel, and a
//! provider whose probe passes its audit earns one work point. Work points are the only thing
//! the provider share of each epoch's pool (emission plus protocol fees) is split by, so a
//! provider earns emission in proportion to the probes it is drawn for (its stake) and answers
//! correctly, never in proportion to the client-paid volume it could buy from itself.

use crate::{pallet::*, Job, JobStatus, Verdict};
use alloc::vec::Vec;
use frame_support::{traits::Get, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use infera_primitives::traits::ModelRegistry;
use sp_core::H256;
use sp_runtime::traits::{Saturating, UniqueSaturatedInto, Zero};

/// Words a probe sentence is made of: common, plain ASCII, one token each for the usual
/// tokenizers.
const WORDS: [&str; 64] = [
	"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "river", "mountain", "city",
	"light", "music", "water", "garden", "window", "paper", "green", "blue", "small", "large",
	"early", "late", "morning", "evening", "cold", "warm", "bright", "quiet", "loud", "red",
	"stone", "tree", "bird", "cloud", "rain", "snow", "road", "bridge", "house", "door", "table",
	"chair", "book", "letter", "train", "ship", "market", "bread", "apple", "tea", "coffee",
	"street", "field", "forest", "star", "moon", "sun", "winter", "summer", "friend", "story",
	"song", "dream",
];

/// Words in a probe sentence.
const PROBE_WORDS: u32 = 8;

impl<T: Config> Pallet<T> {
	/// The probe sentence for `seed`.
	pub(crate) fn probe_input(seed: &[u8; 32]) -> Vec<u8> {
		let mut words = Vec::new();
		for round in 0..PROBE_WORDS {
			let index = Self::seed_u64(seed, round).checked_rem(WORDS.len() as u64).unwrap_or(0);
			if let Some(word) = WORDS.get(index as usize) {
				words.push(*word);
			}
		}
		words.join(" ").into_bytes()
	}

	/// Issues this block's probe, when one is due and a model and a provider are there for it.
	/// Returns whether a probe was issued.
	pub(crate) fn maybe_probe(now: BlockNumberFor<T>) -> bool {
		let params = Params::<T>::get();
		let (block, interval): (u64, u64) =
			(now.unique_saturated_into(), params.probe_interval.unique_saturated_into());
		let due = block.checked_rem(interval) == Some(0);
		if !due {
			return false;
		}
		let models = ProbeModels::<T>::get();
		let id = NextJobId::<T>::get();
		let Some(next) = id.next() else { return false };
		let seed = Self::random_seed(b"infera/probe", id);
		let len = models.len() as u64;
		let Some(index) = Self::seed_u64(&seed, 100).checked_rem(len) else { return false };
		let Some(model) = models.get(index as usize).copied() else { return false };
		if !T::ModelRegistry::is_active(model) || T::ModelRegistry::note_job_opened(model).is_err()
		{
			return false;
		}
		let input = BoundedVec::truncate_from(Self::probe_input(&seed));
		let input_hash = H256(sp_io::hashing::blake2_256(&input));
		// A probe locks the stake of the cheapest job, so a cheat on it costs as much as there.
		let stake = Self::stake_for(params.base_fee);
		let deadline = Self::shortest_deadline(now).saturating_add(params.commit_window);
		let mut job = Job {
			client: T::ProtocolAccount::get(),
			model,
			input,
			input_hash,
			max_fee: Zero::zero(),
			price: Zero::zero(),
			stake,
			deadline,
			submitted_at: now,
			status: JobStatus::Queued,
			wake_at: deadline,
			provider: None,
			checkers: BoundedVec::new(),
			silent: BoundedVec::new(),
			replaced: false,
			verdict: Verdict::Unaudited,
			no_shows: BoundedVec::new(),
			challenge_bond: Zero::zero(),
			probe: true,
		};
		if !Self::try_assign(id, &mut job, now) {
			T::ModelRegistry::note_job_closed(model);
			return false;
		}
		NextJobId::<T>::put(next);
		Self::deposit_event(Event::ProbeIssued { job: id, model });
		let commit_by = job.wake_at;
		Self::advance(id, job, JobStatus::Assigned, commit_by);
		true
	}
}
