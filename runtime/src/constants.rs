//! Token, time and deposit constants.

use crate::{Balance, BlockNumber};

/// One INFR: the token has 12 decimals.
pub const UNITS: Balance = 1_000_000_000_000;
/// 10^-3 INFR.
pub const MILLI_UNITS: Balance = UNITS / 1_000;
/// 10^-6 INFR.
pub const MICRO_UNITS: Balance = UNITS / 1_000_000;
/// The token symbol, for metadata and chain properties.
pub const TOKEN_SYMBOL: &str = "INFR";
/// The token's decimals.
pub const TOKEN_DECIMALS: u8 = 12;
/// The SS58 address prefix (42: the generic Substrate prefix, so every wallet reads it).
pub const SS58_PREFIX: u16 = 42;

/// Accounts below this balance are reaped: 1 milli-INFR keeps dust accounts out of state.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNITS;

/// A storage deposit: a base per item plus a price per byte, so state growth is paid for.
pub const fn deposit(items: u32, bytes: u32) -> Balance {
	(items as Balance)
		.saturating_mul(20 * MILLI_UNITS)
		.saturating_add((bytes as Balance).saturating_mul(100 * MICRO_UNITS))
}

/// Block time. BABE slots are the same length.
pub const MILLI_SECS_PER_BLOCK: u64 = 6_000;
/// Slot length; one block per slot at most.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// A BABE epoch (and session) lasts one hour; a governance change to the validator set takes effect
/// within two.
pub const EPOCH_DURATION_IN_BLOCKS: BlockNumber = HOURS;
/// The same, in slots (one slot per block).
pub const EPOCH_DURATION_IN_SLOTS: u64 = EPOCH_DURATION_IN_BLOCKS as u64;

/// BABE's probability of a primary slot claim, `c = (1, 4)`: a quarter of the slots get a primary
/// author, secondary VRF slots fill the rest so the chain never stalls.
pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);

/// The BABE configuration at genesis.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: PRIMARY_PROBABILITY,
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};
