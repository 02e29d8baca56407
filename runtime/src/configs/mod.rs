//! Pallet configurations, one file per concern.

mod consensus;
mod governance;
mod monetary;
mod protocol;
mod system;
mod utility;

pub use consensus::*;
pub use governance::*;
pub use monetary::*;
pub use protocol::*;
pub use system::*;
pub use utility::*;
