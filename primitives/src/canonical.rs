//! Canonical model outputs: integers that every honest worker reproduces within tolerance,
//! whatever its CPU, GPU, thread count or batch size.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

/// Longest embedding the canonical form accepts; keeps the integer maths far from overflow.
pub const MAX_EMBEDDING_DIMENSIONS: usize = 8_192;

/// A model output in canonical form, as revealed on chain (SCALE-encoded).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum CanonicalOutput {
	/// Mean-pooled, L2-normalised embedding, each element quantised to `i16` with scale 2¹⁵ − 1.
	Embedding(Vec<i16>),
	/// The chosen class and every class's logit in fixed point (scale 2¹⁶).
	Classification { class: u32, logits: Vec<i32> },
	/// Greedy token ids.
	Generation(Vec<u32>),
	/// The model could not run the input: a provider's claim that the job is the client's
	/// problem. Audited like any output (checkers that can run the input contradict it).
	Refused(Refusal),
	/// What an audit panel's checker reveals for a generation job: its own greedy tokens and,
	/// for each step, the other tokens its model scored within [`MAX_NEAR_GAP`] of the greedy
	/// choice (at most [`MAX_NEAR_PER_STEP`] a step, nearest first). Blind of the provider's
	/// output, this is enough to judge it up to the first step where they differ: a token there
	/// within the model's τ is a near-tie the checker cannot hold against the provider, any
	/// other token is wrong. Only checkers reveal it; a provider reveals `Generation`.
	CheckedGeneration { tokens: Vec<u32>, near: Vec<NearTie> },
}

/// Widest logit gap a checker records as a near-tie (fixed point, 2⁻¹⁶ units: 0.125 of a logit):
/// the largest τ a generation model can register.
pub const MAX_NEAR_GAP: u32 = 8_192;
/// Most tokens a generation model may register to generate: its checked form (tokens and
/// [`MAX_NEAR_PER_STEP`] near-ties a step, ≈ 10 kB) stays within what a reveal may carry.
pub const MAX_GENERATION_TOKENS: u32 = 256;
/// Most near-ties a checker records for one step.
pub const MAX_NEAR_PER_STEP: usize = 3;

/// A token a checker's model scored within `gap` (fixed-point logit units) of its greedy choice
/// at generation step `step`.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct NearTie {
	/// The step (0 = the first generated token).
	pub step: u32,
	/// The other token.
	pub token: u32,
	/// Top logit minus this token's logit, in fixed-point units (≤ [`MAX_NEAR_GAP`]).
	pub gap: u32,
}

impl CanonicalOutput {
	/// Whether the output is well formed. A classification's class is the first class with the
	/// highest logit (the class follows from the logits). A checked generation has at most
	/// `max_tokens` tokens, and every near-tie names a generated step, another token than the one
	/// chosen there and a gap within [`MAX_NEAR_GAP`], with at most [`MAX_NEAR_PER_STEP`] a step.
	/// Other outputs: true (their length is the architecture's to check).
	pub fn well_formed(&self, max_tokens: usize) -> bool {
		if let Self::Classification { class, logits } = self {
			let mut best: Option<(usize, i32)> = None;
			for (i, &l) in logits.iter().enumerate() {
				if best.is_none_or(|(_, b)| l > b) {
					best = Some((i, l));
				}
			}
			return best.is_some_and(|(i, _)| usize::try_from(*class).is_ok_and(|c| c == i));
		}
		let Self::CheckedGeneration { tokens, near } = self else { return true };
		if tokens.len() > max_tokens || near.len() > tokens.len().saturating_mul(MAX_NEAR_PER_STEP)
		{
			return false;
		}
		let mut per_step = alloc::collections::BTreeMap::<u32, usize>::new();
		near.iter().all(|n| {
			let chosen = usize::try_from(n.step).ok().and_then(|i| tokens.get(i));
			let count = per_step.entry(n.step).or_insert(0);
			*count = count.saturating_add(1);
			chosen.is_some_and(|&t| t != n.token)
				&& n.gap <= MAX_NEAR_GAP
				&& *count <= MAX_NEAR_PER_STEP
		})
	}
}

/// Why a model could not run an input.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Refusal {
	/// The engine refused the input itself (its tokenizer cannot read it, nothing is left of
	/// it, …): nothing about the provider's node.
	InputUnreadable,
}

/// Why a float output has no canonical form.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum CanonicalError {
	/// A NaN or infinite element.
	NotFinite,
	/// Longer than `MAX_EMBEDDING_DIMENSIONS`.
	TooLong,
	/// No elements at all.
	Empty,
}

/// L2-normalises `v` and quantises every element to `i16` (scale 2¹⁵ − 1, rounded to nearest,
/// clamped to ±32767). An all-zero vector stays all-zero. Engine side only: the runtime never
/// touches floats.
#[cfg(feature = "std")]
pub fn quantise_embedding(v: &[f32]) -> Result<Vec<i16>, CanonicalError> {
	if v.is_empty() {
		return Err(CanonicalError::Empty);
	}
	if v.len() > MAX_EMBEDDING_DIMENSIONS {
		return Err(CanonicalError::TooLong);
	}
	if v.iter().any(|x| !x.is_finite()) {
		return Err(CanonicalError::NotFinite);
	}
	// Accumulate in f64 so the norm does not depend on summation order at f32 precision.
	let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
	if norm == 0.0 {
		return Ok(alloc::vec![0; v.len()]);
	}
	let scale = f64::from(crate::EMBEDDING_SCALE);
	Ok(v.iter()
		.map(|&x| {
			let q = (f64::from(x) / norm * scale).round();
			q.clamp(-scale, scale) as i16
		})
		.collect())
}

/// A logit in fixed point (scale 2¹⁶), saturating at the `i32` range. Engine side only.
#[cfg(feature = "std")]
pub fn quantise_logit(x: f32) -> Result<i32, CanonicalError> {
	if !x.is_finite() {
		return Err(CanonicalError::NotFinite);
	}
	let q = (f64::from(x) * crate::LOGIT_SCALE as f64).round();
	Ok(q.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32)
}

#[cfg(test)]
mod tests {
	#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // reason: test code
	use super::*;

	#[test]
	fn quantised_embeddings_are_unit_length() {
		let q = quantise_embedding(&[3.0, 4.0]).unwrap();
		// 0.6 and 0.8 of 32767, rounded.
		assert_eq!(q, vec![19660, 26214]);
	}

	#[test]
	fn a_zero_vector_stays_zero_and_extremes_clamp() {
		assert_eq!(quantise_embedding(&[0.0, 0.0, 0.0]).unwrap(), vec![0, 0, 0]);
		assert_eq!(quantise_embedding(&[-5.0]).unwrap(), vec![-32767]);
		assert_eq!(quantise_embedding(&[f32::MAX, f32::MAX]).unwrap(), vec![23170, 23170]);
	}

	#[test]
	fn bad_floats_have_no_canonical_form() {
		assert_eq!(quantise_embedding(&[1.0, f32::NAN]), Err(CanonicalError::NotFinite));
		assert_eq!(quantise_embedding(&[f32::INFINITY]), Err(CanonicalError::NotFinite));
		assert_eq!(quantise_embedding(&[]), Err(CanonicalError::Empty));
		assert_eq!(
			quantise_embedding(&vec![1.0; MAX_EMBEDDING_DIMENSIONS + 1]),
			Err(CanonicalError::TooLong)
		);
		assert_eq!(quantise_logit(f32::NAN), Err(CanonicalError::NotFinite));
	}

	#[test]
	fn logits_are_fixed_point_and_saturate() {
		assert_eq!(quantise_logit(1.5).unwrap(), 98_304);
		assert_eq!(quantise_logit(-0.25).unwrap(), -16_384);
		assert_eq!(quantise_logit(1e9).unwrap(), i32::MAX);
		assert_eq!(quantise_logit(-1e9).unwrap(), i32::MIN);
	}

	#[test]
	fn canonical_outputs_round_trip_through_scale() {
		let out = CanonicalOutput::Classification { class: 2, logits: vec![-5, 7, 9] };
		assert_eq!(CanonicalOutput::decode(&mut &out.encode()[..]).unwrap(), out);
	}
}
