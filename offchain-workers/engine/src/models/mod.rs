//! One file per model architecture.

pub mod bert;
