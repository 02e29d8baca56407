#![doc = include_str!("../README.md")]
// Float and tensor-shape maths throughout; this crate never runs in the runtime, and verdicts use
// the integer rules of `infera-primitives`. The panic lints stay on.
#![allow(clippy::arithmetic_side_effects)]

pub mod bench;
pub mod calibration;
pub mod classification;
pub mod embedding;
pub mod engine;
pub mod error;
pub mod fuzzing;
pub mod generation;
pub mod loader;
pub mod models;
pub mod store;
pub mod synthetic;

pub use engine::{
	blake2_256, canonical_classification, canonical_embedding, canonical_generation, compare,
	Comparison, Engine, ExpectedFiles, LoadedFiles, LoadedModel, Output, RunOutput, WORKER_BATCH,
};
pub use error::{EngineError, Result};
pub use store::{Manifest, ModelHash, ModelStore};
