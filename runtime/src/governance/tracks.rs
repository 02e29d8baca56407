//! Referendum tracks. Two tables: production periods in days, and short test-network periods in
//! blocks, chosen when the chain has a sudo key (only the dev and local presets set one).

use super::origins::pallet_custom_origins;
use crate::{Balance, BlockNumber, OriginCaller, Runtime, DAYS, HOURS, UNITS};
use alloc::borrow::Cow;
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::Perbill;

/// Track of the Root origin.
pub const ROOT: u16 = 0;
/// Track of the `InferaParams` origin.
pub const INFERA_PARAMS: u16 = 1;

/// The referenda pallet's default track-name length (its `TrackInfo` is fixed to it).
const NAME_LEN: usize = 25;

/// A track name as the fixed-size array the referenda pallet stores.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // reason: const-evaluated; `i` bounded by both lengths
const fn name(s: &str) -> [u8; NAME_LEN] {
	let bytes = s.as_bytes();
	let mut out = [0u8; NAME_LEN];
	let mut i = 0;
	while i < bytes.len() && i < NAME_LEN {
		out[i] = bytes[i];
		i += 1;
	}
	out
}

const fn linear(ceil: u32, floor: u32) -> Curve {
	Curve::LinearDecreasing {
		length: Perbill::from_percent(100),
		floor: Perbill::from_percent(floor),
		ceil: Perbill::from_percent(ceil),
	}
}

#[allow(clippy::too_many_arguments)]
const fn track(
	id: u16,
	track_name: &str,
	max_deciding: u32,
	decision_deposit: Balance,
	periods: [BlockNumber; 4],
	approval: Curve,
	support: Curve,
) -> Track<u16, Balance, BlockNumber> {
	let [prepare_period, decision_period, confirm_period, min_enactment_period] = periods;
	Track {
		id,
		info: TrackInfo {
			name: name(track_name),
			max_deciding,
			decision_deposit,
			prepare_period,
			decision_period,
			confirm_period,
			min_enactment_period,
			min_approval: approval,
			min_support: support,
		},
	}
}

/// Production: periods of [prepare, decide, confirm, enact].
const TRACKS: [Track<u16, Balance, BlockNumber>; 2] = [
	track(
		ROOT,
		"root",
		1,
		1_000 * UNITS,
		[2 * HOURS, 14 * DAYS, DAYS, DAYS],
		linear(100, 50),
		linear(50, 5),
	),
	track(
		INFERA_PARAMS,
		"infera_params",
		10,
		100 * UNITS,
		[HOURS, 7 * DAYS, 3 * HOURS, HOURS],
		linear(100, 50),
		linear(20, 1),
	),
];

/// Test networks: the same thresholds over a few blocks.
const TEST_NETWORK_TRACKS: [Track<u16, Balance, BlockNumber>; 2] = [
	track(ROOT, "root", 1, 10 * UNITS, [2, 50, 5, 1], linear(100, 50), linear(50, 5)),
	track(INFERA_PARAMS, "infera_params", 10, UNITS, [2, 30, 3, 1], linear(100, 50), linear(20, 1)),
];

/// Whether this chain uses the test-network periods: exactly when it has a sudo key.
pub fn is_test_network() -> bool {
	pallet_sudo::Key::<Runtime>::exists()
}

/// The referendum tracks of Infera.
pub struct TracksInfo;
impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = u16;
	type RuntimeOrigin =
		<crate::RuntimeOrigin as frame_support::traits::OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<Self::Id, Balance, BlockNumber>>> {
		let table: &'static [Track<u16, Balance, BlockNumber>; 2] =
			if is_test_network() { &TEST_NETWORK_TRACKS } else { &TRACKS };
		table.iter().map(Cow::Borrowed)
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(ROOT),
			OriginCaller::Origins(pallet_custom_origins::Origin::InferaParams) => Ok(INFERA_PARAMS),
			_ => Err(()),
		}
	}
}
