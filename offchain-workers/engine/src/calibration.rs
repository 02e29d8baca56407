//! Tolerances of the packaged models, calibrated from the measured honest spread with at least a
//! 10× margin (docs/adr/0006-minilm-tolerance-calibration.md): honest variants differ by at most
//! 1 step and 1 − cosine 9.3e-10 on this machine.

/// ε of all-MiniLM-L6-v2: outputs pass when their cosine is at least 1 − ε.
pub const MINILM_EPSILON: f64 = 1e-4;
/// δ of all-MiniLM-L6-v2, in quantisation steps of 1/32767.
pub const MINILM_DELTA: u16 = 64;
