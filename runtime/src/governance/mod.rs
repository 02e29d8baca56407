//! OpenGov for Infera: custom origins and the referendum tracks they map to.
//!
//! | track | id | origin | for |
//! |---|---|---|---|
//! | `root` | 0 | `Root` | runtime upgrades, validator set, treasury, anything |
//! | `infera_params` | 1 | `Origins::InferaParams` | protocol parameters of the Infera pallets |
//!
//! A chain whose genesis sets a sudo key (the `development` and `local_testnet` presets) uses
//! short periods measured in blocks, so a referendum can be tried in minutes.

pub mod origins;
pub mod tracks;

pub use origins::pallet_custom_origins::InferaParams;
pub use tracks::TracksInfo;

/// Root, or a passed referendum on the `infera_params` track: the origin that sets every custom
/// protocol parameter.
pub type EnsureRootOrParams =
	frame_support::traits::EitherOf<frame_system::EnsureRoot<crate::AccountId>, InferaParams>;
