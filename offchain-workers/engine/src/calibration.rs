//! Tolerances of the packaged models, calibrated from the measured honest spread with at least a
//! 10× margin (docs/adr/0006-minilm-tolerance-calibration.md): honest variants differ by at most
//! 1 step and 1 − cosine 9.3e-10 on this machine.

/// ε of all-MiniLM-L6-v2: outputs pass when their cosine is at least 1 − ε.
pub const MINILM_EPSILON: f64 = 1e-4;
/// δ of all-MiniLM-L6-v2, in quantisation steps of 1/32767.
pub const MINILM_DELTA: u16 = 64;

/// Tie margin of the seeded MiniLM classifier, in fixed-point logit units (2⁻¹⁶ ≈ 1.5e-5): a
/// different class passes only when the reference's logits for the two classes are this close.
/// Measured honest spread (`examples/calibrate.rs`): 0 units across 1–2 threads and batches
/// 1–13; 0.4 units against transformers in float64. 64 units (≈ 0.001) is over 10× both.
pub const CLASSIFIER_TIE_MARGIN: u32 = 64;
/// τ of the seeded decoder, in fixed-point logit units: a generated token passes when the
/// checker's logit for it is within τ of the checker's top. Measured honest spread: 0 units
/// across threads and between the cached generation and the checker's full pass; 0.7 units
/// against transformers in float64. 64 units is over 10× both.
pub const GENERATION_LOGIT_MARGIN: u32 = 64;
