//! Weights for `pallet_compute_staking`.
//!
//! PROVISIONAL: estimated from each call's storage accesses until `./scripts/benchmark
//! pallet_compute_staking` regenerates this file from measurements.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::ParityDbWeight, Weight},
};

/// Weight functions needed for `pallet_compute_staking`.
pub trait WeightInfo {
	fn register_provider() -> Weight;
	fn bond() -> Weight;
	fn bond_extra() -> Weight;
	fn set_models(n: u32) -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn chill() -> Weight;
	fn unchill() -> Weight;
	fn deregister(n: u32) -> Weight;
	fn set_params() -> Weight;
}

macro_rules! weights {
	($db:expr) => {
		fn register_provider() -> Weight {
			Weight::from_parts(30_000_000, 4_000)
				.saturating_add($db.reads(2))
				.saturating_add($db.writes(2))
		}
		fn bond() -> Weight {
			Weight::from_parts(60_000_000, 6_000)
				.saturating_add($db.reads(5))
				.saturating_add($db.writes(4))
		}
		fn bond_extra() -> Weight {
			Weight::from_parts(60_000_000, 6_000)
				.saturating_add($db.reads(5))
				.saturating_add($db.writes(4))
		}
		fn set_models(n: u32) -> Weight {
			Weight::from_parts(40_000_000, 6_000)
				.saturating_add(Weight::from_parts(20_000_000, 4_000).saturating_mul(n.into()))
				.saturating_add($db.reads(2))
				.saturating_add($db.reads(2).saturating_mul(n.into()))
				.saturating_add($db.writes(1))
				.saturating_add($db.writes(2).saturating_mul(n.into()))
		}
		fn unbond() -> Weight {
			Weight::from_parts(30_000_000, 4_000)
				.saturating_add($db.reads(2))
				.saturating_add($db.writes(1))
		}
		fn withdraw_unbonded() -> Weight {
			Weight::from_parts(60_000_000, 6_000)
				.saturating_add($db.reads(4))
				.saturating_add($db.writes(4))
		}
		fn chill() -> Weight {
			Weight::from_parts(20_000_000, 4_000)
				.saturating_add($db.reads(1))
				.saturating_add($db.writes(1))
		}
		fn unchill() -> Weight {
			Weight::from_parts(20_000_000, 4_000)
				.saturating_add($db.reads(1))
				.saturating_add($db.writes(1))
		}
		fn deregister(n: u32) -> Weight {
			Weight::from_parts(30_000_000, 4_000)
				.saturating_add(Weight::from_parts(15_000_000, 4_000).saturating_mul(n.into()))
				.saturating_add($db.reads(2))
				.saturating_add($db.reads(1).saturating_mul(n.into()))
				.saturating_add($db.writes(2))
				.saturating_add($db.writes(1).saturating_mul(n.into()))
		}
		fn set_params() -> Weight {
			Weight::from_parts(15_000_000, 0).saturating_add($db.writes(1))
		}
	};
}

/// Weights with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	weights!(T::DbWeight::get());
}

impl WeightInfo for () {
	weights!(ParityDbWeight::get());
}
