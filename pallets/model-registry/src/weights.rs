//! Weights for `pallet_model_registry`.
//!
//! PROVISIONAL: estimated from each call's storage accesses until `./scripts/benchmark
//! pallet_model_registry` regenerates this file from measurements.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::ParityDbWeight, Weight},
};

/// Weight functions needed for `pallet_model_registry`.
pub trait WeightInfo {
	fn register_model() -> Weight;
	fn update_metadata() -> Weight;
	fn deprecate_model() -> Weight;
	fn transfer_ownership() -> Weight;
	fn remove_model() -> Weight;
	fn set_params() -> Weight;
	fn force_deprecate() -> Weight;
}

macro_rules! weights {
	($db:expr) => {
		fn register_model() -> Weight {
			Weight::from_parts(60_000_000, 8_000)
				.saturating_add($db.reads(6))
				.saturating_add($db.writes(7))
		}
		fn update_metadata() -> Weight {
			Weight::from_parts(45_000_000, 6_000)
				.saturating_add($db.reads(3))
				.saturating_add($db.writes(3))
		}
		fn deprecate_model() -> Weight {
			Weight::from_parts(25_000_000, 4_000)
				.saturating_add($db.reads(1))
				.saturating_add($db.writes(1))
		}
		fn transfer_ownership() -> Weight {
			Weight::from_parts(30_000_000, 4_000)
				.saturating_add($db.reads(1))
				.saturating_add($db.writes(3))
		}
		fn remove_model() -> Weight {
			Weight::from_parts(55_000_000, 8_000)
				.saturating_add($db.reads(5))
				.saturating_add($db.writes(7))
		}
		fn set_params() -> Weight {
			Weight::from_parts(15_000_000, 0).saturating_add($db.writes(1))
		}
		fn force_deprecate() -> Weight {
			Weight::from_parts(25_000_000, 4_000)
				.saturating_add($db.reads(1))
				.saturating_add($db.writes(1))
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
