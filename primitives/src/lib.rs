#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod canonical;
pub mod tolerance;
pub mod traits;
mod types;

pub use types::*;
