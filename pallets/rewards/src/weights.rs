//! Weights for `pallet_rewards`.
//!
//! PROVISIONAL: estimated from each call's storage accesses until `./scripts/benchmark
//! pallet_rewards` regenerates this file from measurements.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::ParityDbWeight, Weight},
};

/// Weight functions needed for `pallet_rewards`.
pub trait WeightInfo {
	fn claim() -> Weight;
	fn set_params() -> Weight;
	fn on_initialize_idle() -> Weight;
	fn on_initialize_epoch() -> Weight;
}

macro_rules! weights {
	($db:expr) => {
		fn claim() -> Weight {
			Weight::from_parts(90_000_000, 8_000)
				.saturating_add($db.reads(9))
				.saturating_add($db.writes(8))
		}
		fn set_params() -> Weight {
			Weight::from_parts(15_000_000, 0).saturating_add($db.writes(1))
		}
		fn on_initialize_idle() -> Weight {
			Weight::from_parts(3_000_000, 1_000).saturating_add($db.reads(2))
		}
		fn on_initialize_epoch() -> Weight {
			Weight::from_parts(90_000_000, 8_000)
				.saturating_add($db.reads(10))
				.saturating_add($db.writes(12))
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
