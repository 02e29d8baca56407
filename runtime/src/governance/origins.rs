//! Custom governance origins, dispatched by passed referenda on their tracks.

pub use pallet_custom_origins::*;

#[frame_support::pallet]
#[allow(clippy::expect_used)] // reason: FRAME's pallet macro expands to an `expect` on a value it always sets
pub mod pallet_custom_origins {
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The origins a referendum can dispatch with, beyond Root.
	#[derive(
		PartialEq, Eq, Clone, MaxEncodedLen, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// A referendum on the `infera_params` track passed: may change protocol parameters.
		InferaParams,
	}

	/// Ensures the `InferaParams` origin.
	pub struct InferaParams;
	impl<O: OriginTrait + From<Origin>> EnsureOrigin<O> for InferaParams
	where
		O: Into<Result<Origin, O>>,
	{
		type Success = ();

		fn try_origin(o: O) -> Result<Self::Success, O> {
			o.into().map(|Origin::InferaParams| ())
		}

		#[cfg(feature = "runtime-benchmarks")]
		fn try_successful_origin() -> Result<O, ()> {
			Ok(O::from(Origin::InferaParams))
		}
	}
}
