//! One file per model architecture, plus the fused kernels they share.

pub mod bert;
pub mod llama;
pub mod ops;
