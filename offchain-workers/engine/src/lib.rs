#![doc = include_str!("../README.md")]

pub mod calibration;
pub mod embedding;
pub mod engine;
pub mod error;
pub mod models;
pub mod store;

pub use engine::{blake2_256, canonical_embedding, compare, Comparison, Engine, RunOutput};
pub use error::{EngineError, Result};
pub use store::{Manifest, ModelHash, ModelStore};
