//! Weights for `pallet_job_escrow`.
//!
//! PROVISIONAL: estimated from each call's storage accesses until `./scripts/benchmark
//! pallet_job_escrow` regenerates this file from measurements.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::ParityDbWeight, Weight},
};

/// Weight functions needed for `pallet_job_escrow`.
pub trait WeightInfo {
	fn submit_job(n: u32) -> Weight;
	fn commit_result() -> Weight;
	fn reveal_result() -> Weight;
	fn cancel_job() -> Weight;
	fn set_params() -> Weight;
	fn add_auditor() -> Weight;
	fn remove_auditor() -> Weight;
	fn on_initialize_wakeups(n: u32) -> Weight;
	fn on_initialize_assign(n: u32) -> Weight;
}

macro_rules! weights {
	($db:expr) => {
		fn submit_job(n: u32) -> Weight {
			Weight::from_parts(150_000_000, 20_000)
				.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(n.into()))
				.saturating_add($db.reads(80))
				.saturating_add($db.writes(12))
		}
		fn commit_result() -> Weight {
			Weight::from_parts(40_000_000, 6_000)
				.saturating_add($db.reads(3))
				.saturating_add($db.writes(3))
		}
		fn reveal_result() -> Weight {
			Weight::from_parts(300_000_000, 40_000)
				.saturating_add($db.reads(8))
				.saturating_add($db.writes(6))
		}
		fn cancel_job() -> Weight {
			Weight::from_parts(80_000_000, 8_000)
				.saturating_add($db.reads(8))
				.saturating_add($db.writes(10))
		}
		fn set_params() -> Weight {
			Weight::from_parts(15_000_000, 0).saturating_add($db.writes(1))
		}
		fn add_auditor() -> Weight {
			Weight::from_parts(20_000_000, 4_000)
				.saturating_add($db.reads(1))
				.saturating_add($db.writes(1))
		}
		fn remove_auditor() -> Weight {
			Weight::from_parts(20_000_000, 4_000)
				.saturating_add($db.reads(1))
				.saturating_add($db.writes(1))
		}
		fn on_initialize_wakeups(n: u32) -> Weight {
			Weight::from_parts(5_000_000, 2_000)
				.saturating_add(Weight::from_parts(200_000_000, 30_000).saturating_mul(n.into()))
				.saturating_add($db.reads(1))
				.saturating_add($db.reads(80).saturating_mul(n.into()))
				.saturating_add($db.writes(1))
				.saturating_add($db.writes(15).saturating_mul(n.into()))
		}
		fn on_initialize_assign(n: u32) -> Weight {
			Weight::from_parts(5_000_000, 2_000)
				.saturating_add(Weight::from_parts(150_000_000, 20_000).saturating_mul(n.into()))
				.saturating_add($db.reads(1))
				.saturating_add($db.reads(75).saturating_mul(n.into()))
				.saturating_add($db.writes(1))
				.saturating_add($db.writes(6).saturating_mul(n.into()))
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
