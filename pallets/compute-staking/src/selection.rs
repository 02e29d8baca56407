//! Stake-weighted random choice of a provider for a job.
//!
//! The candidates are the model's provider list, at most `MaxProvidersPerModel` long, so a
//! selection reads a bounded number of records whatever the number of providers on the chain.
//! A candidate's weight is its free stake (bond not locked by open jobs) scaled by its reputation:
//! `free · (reputation + REPUTATION_FLOOR) / (MAX_REPUTATION + REPUTATION_FLOOR)`. The floor keeps a
//! provider at zero reputation selectable, at a tenth of the weight of a perfect one, so it can earn
//! its way back.

use crate::{pallet::*, ProviderStatus, MAX_REPUTATION};
use alloc::vec::Vec;
use infera_primitives::ModelId;
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto, Zero},
	Perbill,
};

/// Weight a provider at zero reputation keeps, in reputation points.
pub const REPUTATION_FLOOR: u32 = MAX_REPUTATION / 9;

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

	/// Picks a candidate with probability proportional to its weight, using the first 16 bytes
	/// of `seed` as a uniform draw. `None` when no provider is eligible.
	pub fn select_provider(
		model: ModelId,
		stake_needed: crate::BalanceOf<T>,
		exclude: &[T::AccountId],
		seed: [u8; 32],
	) -> Option<T::AccountId> {
		let candidates = Self::candidates(model, stake_needed, exclude);
		let total = candidates.iter().fold(0u128, |acc, (_, w)| acc.saturating_add(*w));
		if total == 0 {
			return None;
		}
		let draw = u128::from_le_bytes(*seed.first_chunk::<16>()?).checked_rem(total)?;
		let mut cumulative = 0u128;
		for (who, weight) in candidates {
			cumulative = cumulative.saturating_add(weight);
			if draw < cumulative {
				return Some(who);
			}
		}
		None
	}
}
