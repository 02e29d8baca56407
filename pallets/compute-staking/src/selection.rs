//! Stake-weighted random choice of a provider for a job.
//!
//! The candidates are the model's provider list, at most `MaxProvidersPerModel` long. A
//! candidate's weight is its bond scaled by its reputation:
//! `bonded · (reputation + REPUTATION_FLOOR) / (MAX_REPUTATION + REPUTATION_FLOOR)`. The floor
//! keeps a provider at zero reputation selectable, at a tenth of the weight of a perfect one, so
//! it can earn its way back. The weights are stored next to the list (`ListWeights`), so a
//! selection reads the list, its weights and only the records it draws (at most `MAX_DRAWS`):
//! a drawn provider without the free stake the job needs is drawn around. A stored weight is a
//! snapshot, refreshed when the provider bonds or unbonds and whenever it is drawn.

use crate::{pallet::*, ProviderStatus, MAX_REPUTATION};
use alloc::vec::Vec;
use codec::Encode;
use infera_primitives::ModelId;
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto, Zero},
	Perbill,
};

/// Weight a provider at zero reputation keeps, in reputation points.
pub const REPUTATION_FLOOR: u32 = MAX_REPUTATION / 9;

/// Most providers one selection draws (and reads) before it gives up for this block.
pub const MAX_DRAWS: u32 = 4;

impl<T: Config> Pallet<T> {
	/// The selection weight of each eligible candidate for a job on `model` needing
	/// `stake_needed` of free stake, in list order. Excluded, chilled, under-bonded and
	/// under-collateralised providers are left out.
	pub fn candidates(
		model: ModelId,
		stake_needed: crate::BalanceOf<T>,
		exclude: &[T::AccountId],
	) -> Vec<(T::AccountId, u128)> {
		let min_bond = Params::<T>::get().min_bond;
		ProvidersByModel::<T>::get(model)
			.into_iter()
			.filter(|who| !exclude.contains(who))
			.filter_map(|who| {
				let info = Providers::<T>::get(&who)?;
				let free = info.bonded.saturating_sub(info.locked);
				let eligible = info.status == ProviderStatus::Active
					&& info.bonded >= min_bond
					&& free >= stake_needed
					&& !free.is_zero();
				if !eligible {
					return None;
				}
				let free: u128 = free.unique_saturated_into();
				let scale = Perbill::from_rational(
					info.reputation.saturating_add(REPUTATION_FLOOR),
					MAX_REPUTATION.saturating_add(REPUTATION_FLOOR),
				);
				// A tiny stake can round to zero weight; it still gets the smallest chance.
				Some((who, scale.mul_floor(free).max(1)))
			})
			.collect()
	}

	/// The selection weight of a provider record: its bond scaled by its reputation, at
	/// least 1 while it has any bond.
	pub fn selection_weight(info: &crate::ProviderInfoOf<T>) -> u128 {
		let bonded: u128 = info.bonded.unique_saturated_into();
		if bonded == 0 {
			return 0;
		}
		let scale = Perbill::from_rational(
			info.reputation.saturating_add(REPUTATION_FLOOR),
			MAX_REPUTATION.saturating_add(REPUTATION_FLOOR),
		);
		scale.mul_floor(bonded).max(1)
	}

	/// Picks a provider for a job on `model` needing `stake_needed` of free stake, none of
	/// `exclude`, using `seed`: a draw proportional to the list's stored weights, then the drawn
	/// provider's record is read. Its weight is refreshed from the record (so reputation and
	/// slashes catch up whenever a provider is drawn); it is taken when active, bonded at least
	/// the minimum and with the stake free, otherwise drawn around, at most `MAX_DRAWS` times.
	/// Reads the list, its weights and at most `MAX_DRAWS` records, however long the list.
	/// `None` when no draw found an eligible provider (the job waits in its queue and is tried
	/// again in a later block).
	pub fn select_provider(
		model: ModelId,
		stake_needed: crate::BalanceOf<T>,
		exclude: &[T::AccountId],
		seed: [u8; 32],
	) -> Option<T::AccountId> {
		let list = ProvidersByModel::<T>::get(model);
		let mut stored = ListWeights::<T>::get(model);
		if stored.len() != list.len() {
			// Cannot happen (`try_state` checks it); fall back to reading every member.
			return Self::select_by_scan(model, stake_needed, exclude, seed);
		}
		let mut live: Vec<u128> = list
			.iter()
			.zip(stored.iter())
			.map(|(who, w)| if exclude.contains(who) { 0 } else { *w })
			.collect();
		let min_bond = Params::<T>::get().min_bond;
		let mut refreshed = false;
		let mut chosen = None;
		for round in 0..MAX_DRAWS {
			let Some(at) = Self::draw_index(&live, &seed, round) else { break };
			let Some(who) = list.get(at) else { break };
			let info = Providers::<T>::get(who);
			let fresh = info.as_ref().map(Self::selection_weight).unwrap_or(0);
			if let Some(slot) = stored.get_mut(at) {
				if *slot != fresh {
					*slot = fresh;
					refreshed = true;
				}
			}
			let eligible = info.is_some_and(|info| {
				let free = info.bonded.saturating_sub(info.locked);
				info.status == ProviderStatus::Active
					&& info.bonded >= min_bond
					&& free >= stake_needed
					&& !free.is_zero()
			});
			if eligible {
				chosen = Some(who.clone());
				break;
			}
			if let Some(slot) = live.get_mut(at) {
				*slot = 0;
			}
		}
		if refreshed {
			ListWeights::<T>::insert(model, stored);
		}
		chosen
	}

	/// The index a uniform draw from round `round` of `seed` falls on, with probability
	/// proportional to `weights`; `None` when they are all zero.
	fn draw_index(weights: &[u128], seed: &[u8; 32], round: u32) -> Option<usize> {
		let total = weights.iter().fold(0u128, |acc, w| acc.saturating_add(*w));
		if total == 0 {
			return None;
		}
		use sp_runtime::traits::{BlakeTwo256, Hash};
		let hash = BlakeTwo256::hash(&(seed, round).encode());
		let draw = u128::from_le_bytes(*hash.as_bytes().first_chunk::<16>()?).checked_rem(total)?;
		let mut cumulative = 0u128;
		for (i, w) in weights.iter().enumerate() {
			cumulative = cumulative.saturating_add(*w);
			if draw < cumulative {
				return Some(i);
			}
		}
		None
	}

	/// The selection before stored weights: every member's record read. Only a fallback.
	fn select_by_scan(
		model: ModelId,
		stake_needed: crate::BalanceOf<T>,
		exclude: &[T::AccountId],
		seed: [u8; 32],
	) -> Option<T::AccountId> {
		let candidates = Self::candidates(model, stake_needed, exclude);
		let weights: Vec<u128> = candidates.iter().map(|(_, w)| *w).collect();
		let at = Self::draw_index(&weights, &seed, 0)?;
		candidates.into_iter().nth(at).map(|(who, _)| who)
	}
}
