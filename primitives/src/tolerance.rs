//! Integer-only verdicts: does a candidate output match the reference within the model's
//! tolerance? Deterministic on every node; no floats.

use crate::{
	canonical::MAX_EMBEDDING_DIMENSIONS, ClassificationTolerance, EmbeddingTolerance,
	GenerationTolerance,
};
use sp_runtime::{PerThing, Perbill};

/// The outcome of a comparison, with the reason when it fails.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Check {
	/// Within tolerance.
	Pass,
	/// Outside tolerance.
	Fail(Mismatch),
}

/// Why two outputs do not match.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Mismatch {
	/// Different lengths (dimensions, class counts or token counts).
	Length,
	/// Longer than the canonical form allows.
	TooLong,
	/// Cosine similarity below 1 − ε.
	Cosine,
	/// Some element differs by more than δ.
	Element,
	/// One vector is all zero and the other is not.
	ZeroVector,
	/// A class the reference does not rank near its top.
	Class,
	/// A class id outside the logits.
	ClassOutOfRange,
	/// A logit further than the tie margin from the reference's.
	Logit,
	/// A token that is neither the checker's choice nor within τ of it.
	Token,
	/// One side could not run the input and the other could (or they refused for different
	/// reasons).
	Refusal,
	/// The generations part at a near-tie (a token within τ of the checker's choice): after it
	/// the prefixes differ, so a blind checker cannot judge the rest.
	NearTie,
}

/// A checker's vote on a candidate output.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Vote {
	/// Within tolerance.
	Agree,
	/// Outside tolerance.
	Disagree(Mismatch),
	/// The checker's output cannot decide (a generation that parts from its own at a near-tie):
	/// it counts neither for nor against.
	Abstain,
}

/// Judges a candidate generation against a checker's blind, checked one: equal up to the first
/// step where they part; there, the candidate's token must be one the checker recorded within τ
/// of its own choice (the vote is then `Abstain`: the rest follows another prefix), else it is
/// wrong. A candidate that stops early or runs on while agreeing on the common prefix is wrong
/// too: both generated the same tokens, so both would have stopped at the same place.
pub fn judge_generation(
	checker: &[u32],
	near: &[crate::canonical::NearTie],
	candidate: &[u32],
	tol: GenerationTolerance,
) -> Vote {
	for (step, (mine, theirs)) in checker.iter().zip(candidate).enumerate() {
		if mine == theirs {
			continue;
		}
		let tie = near.iter().any(|n| {
			usize::try_from(n.step).is_ok_and(|s| s == step)
				&& n.token == *theirs
				&& n.gap <= tol.logit_margin
		});
		return if tie { Vote::Abstain } else { Vote::Disagree(Mismatch::Token) };
	}
	if checker.len() == candidate.len() {
		Vote::Agree
	} else {
		Vote::Disagree(Mismatch::Length)
	}
}

/// How a checker whose revealed output is `checker` votes on `candidate` under the model's
/// tolerance: what the audit panel's tally counts.
pub fn vote(
	architecture: &crate::Architecture,
	checker: &crate::canonical::CanonicalOutput,
	candidate: &crate::canonical::CanonicalOutput,
) -> Vote {
	use crate::{canonical::CanonicalOutput as O, Architecture as A};
	if let (A::Generation { tolerance, .. }, O::CheckedGeneration { tokens, near }) =
		(architecture, checker)
	{
		return match candidate {
			O::Generation(c) | O::CheckedGeneration { tokens: c, .. } => {
				judge_generation(tokens, near, c, *tolerance)
			}
			O::Refused(_) => Vote::Disagree(Mismatch::Refusal),
			_ => Vote::Disagree(Mismatch::Length),
		};
	}
	match outputs_match(architecture, checker, candidate) {
		Check::Pass => Vote::Agree,
		Check::Fail(m) => Vote::Disagree(m),
	}
}

fn fail(m: Mismatch) -> Check {
	Check::Fail(m)
}

/// Smallest `s` with `s * s >= n`.
fn ceil_sqrt(n: u128) -> u128 {
	let floor = n.isqrt();
	if floor.saturating_mul(floor) == n {
		floor
	} else {
		floor.saturating_add(1)
	}
}

/// Embeddings pass when cosine(a, b) ≥ `min_cosine` and max |aᵢ − bᵢ| ≤ `max_element_diff`.
///
/// The cosine test is `dot · 10⁹ ≥ min_cosine_parts · ⌈√(|a|²·|b|²)⌉`: exact integer maths, strict
/// by at most one part in 2⁴² at the boundary. Two all-zero vectors match; an all-zero vector and
/// a non-zero one do not (the cosine is undefined).
pub fn compare_embeddings(reference: &[i16], candidate: &[i16], tol: EmbeddingTolerance) -> Check {
	if reference.len() != candidate.len() {
		return fail(Mismatch::Length);
	}
	if reference.len() > MAX_EMBEDDING_DIMENSIONS {
		return fail(Mismatch::TooLong);
	}
	let mut dot: i64 = 0;
	let mut norm_a: u64 = 0;
	let mut norm_b: u64 = 0;
	let mut max_diff: u32 = 0;
	for (&a, &b) in reference.iter().zip(candidate) {
		let (a, b) = (i64::from(a), i64::from(b));
		// |a|, |b| ≤ 2¹⁵ and at most 2¹³ elements: every sum stays below 2⁴⁴.
		dot = dot.saturating_add(a.saturating_mul(b));
		norm_a = norm_a.saturating_add(a.unsigned_abs().saturating_mul(a.unsigned_abs()));
		norm_b = norm_b.saturating_add(b.unsigned_abs().saturating_mul(b.unsigned_abs()));
		let diff = u32::try_from(a.saturating_sub(b).unsigned_abs()).unwrap_or(u32::MAX);
		max_diff = max_diff.max(diff);
	}
	if max_diff > u32::from(tol.max_element_diff) {
		return fail(Mismatch::Element);
	}
	match (norm_a == 0, norm_b == 0) {
		(true, true) => return Check::Pass,
		(true, false) | (false, true) => return fail(Mismatch::ZeroVector),
		(false, false) => {}
	}
	let min_parts = u128::from(tol.min_cosine.deconstruct());
	if dot < 0 {
		return if min_parts == 0 { Check::Pass } else { fail(Mismatch::Cosine) };
	}
	let lhs = u128::from(dot.unsigned_abs()).saturating_mul(u128::from(Perbill::ACCURACY));
	let rhs =
		min_parts.saturating_mul(ceil_sqrt(u128::from(norm_a).saturating_mul(u128::from(norm_b))));
	if lhs >= rhs {
		Check::Pass
	} else {
		fail(Mismatch::Cosine)
	}
}

/// Classifications pass on the same class, or on another class whose reference logit is within
/// `tie_margin` of the reference's top logit (a near-tie either worker may break differently).
pub fn compare_classifications(
	reference_logits: &[i32],
	reference_class: u32,
	candidate_class: u32,
	tol: ClassificationTolerance,
) -> Check {
	if reference_class == candidate_class {
		return Check::Pass;
	}
	let logit = |class: u32| usize::try_from(class).ok().and_then(|i| reference_logits.get(i));
	let (Some(&top), Some(&other)) = (logit(reference_class), logit(candidate_class)) else {
		return fail(Mismatch::ClassOutOfRange);
	};
	if i64::from(top).saturating_sub(i64::from(other)) <= i64::from(tol.tie_margin) {
		Check::Pass
	} else {
		fail(Mismatch::Class)
	}
}

/// The logits a client gets must be the model's too: every candidate logit within the tie
/// margin of the reference's (a provider could otherwise return the right class with made-up
/// logits, or flatten them so that any class looks like a near-tie).
pub fn compare_logits(reference: &[i32], candidate: &[i32], tol: ClassificationTolerance) -> Check {
	if reference.len() != candidate.len() {
		return fail(Mismatch::Length);
	}
	let close = reference
		.iter()
		.zip(candidate)
		.all(|(r, c)| i64::from(*r).abs_diff(i64::from(*c)) <= u64::from(tol.tie_margin));
	if close {
		Check::Pass
	} else {
		fail(Mismatch::Logit)
	}
}

/// What the checker saw at one generation step, re-running the model on the candidate's prefix.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct CheckedStep {
	/// The checker's greedy choice.
	pub top_token: u32,
	/// Its logit (fixed point).
	pub top_logit: i32,
	/// The checker's logit for the candidate's token (fixed point).
	pub candidate_logit: i32,
}

/// Generations pass when every candidate token is the checker's top token or within τ of it.
pub fn compare_generation(
	candidate: &[u32],
	checked: &[CheckedStep],
	tol: GenerationTolerance,
) -> Check {
	if candidate.len() != checked.len() {
		return fail(Mismatch::Length);
	}
	let all_close = candidate.iter().zip(checked).all(|(&token, step)| {
		token == step.top_token
			|| i64::from(step.top_logit).saturating_sub(i64::from(step.candidate_logit))
				<= i64::from(tol.logit_margin)
	});
	if all_close {
		Check::Pass
	} else {
		fail(Mismatch::Token)
	}
}

/// The verdict the runtime gives when two parties' canonical outputs for the same job differ in
/// their hashes: embeddings and classifications by the model's tolerance; plain generations must
/// agree token for token, and a checker's checked generation judges by [`judge_generation`]
/// (its near-ties within τ; see [`vote`] for the panel's three-way count).
/// Outputs of a different kind than the architecture fail with `Length`.
pub fn outputs_match(
	architecture: &crate::Architecture,
	reference: &crate::canonical::CanonicalOutput,
	candidate: &crate::canonical::CanonicalOutput,
) -> Check {
	use crate::{canonical::CanonicalOutput as O, Architecture as A};
	match (architecture, reference, candidate) {
		(A::TextEmbedding { tolerance, .. }, O::Embedding(r), O::Embedding(c)) => {
			compare_embeddings(r, c, *tolerance)
		}
		(
			A::Classification { tolerance, .. },
			O::Classification { class: rc, logits },
			O::Classification { class: cc, logits: candidate_logits },
		) => match compare_classifications(logits, *rc, *cc, *tolerance) {
			Check::Pass => compare_logits(logits, candidate_logits, *tolerance),
			failed => failed,
		},
		(_, O::Refused(r), O::Refused(c)) => {
			if r == c {
				Check::Pass
			} else {
				fail(Mismatch::Refusal)
			}
		}
		(_, O::Refused(_), _) | (_, _, O::Refused(_)) => fail(Mismatch::Refusal),
		(A::Generation { .. }, O::Generation(r), O::Generation(c)) => {
			if r == c {
				Check::Pass
			} else {
				fail(Mismatch::Token)
			}
		}
		// A checked generation (an audit panel's) judges as its vote does; a near-tie it cannot
		// decide is not a pass.
		(A::Generation { .. }, O::CheckedGeneration { .. }, _) => {
			match vote(architecture, reference, candidate) {
				Vote::Agree => Check::Pass,
				Vote::Disagree(m) => fail(m),
				Vote::Abstain => fail(Mismatch::NearTie),
			}
		}
		(A::Generation { .. }, O::Generation(r), O::CheckedGeneration { tokens, .. }) => {
			if r == tokens {
				Check::Pass
			} else {
				fail(Mismatch::Token)
			}
		}
		_ => fail(Mismatch::Length),
	}
}

#[cfg(test)]
mod tests {
	#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)] // reason: test code
	use super::*;

	fn tol(min_cosine_ppm: u32, max_element_diff: u16) -> EmbeddingTolerance {
		EmbeddingTolerance {
			min_cosine: Perbill::from_parts(min_cosine_ppm * 1_000),
			max_element_diff,
		}
	}

	#[test]
	fn ceil_sqrt_is_exact() {
		for n in [0u128, 1, 2, 3, 4, 15, 16, 17, 1 << 84, (1 << 84) + 1, u128::from(u64::MAX)] {
			let s = ceil_sqrt(n);
			assert!(s * s >= n, "{n}");
			assert!(s == 0 || (s - 1) * (s - 1) < n, "{n}");
		}
	}

	#[test]
	fn identical_embeddings_pass_even_at_the_strictest_tolerance() {
		let v: Vec<i16> = (0..384).map(|i| ((i * 37) % 2001 - 1000) as i16).collect();
		assert_eq!(compare_embeddings(&v, &v, tol(1_000_000, 0)), Check::Pass);
	}

	#[test]
	fn small_honest_noise_passes_and_large_noise_fails() {
		let a: Vec<i16> = (0..384).map(|i| ((i * 91) % 3001 - 1500) as i16).collect();
		let b: Vec<i16> =
			a.iter().enumerate().map(|(i, x)| x + if i % 2 == 0 { 2 } else { -2 }).collect();
		assert_eq!(compare_embeddings(&a, &b, tol(999_000, 4)), Check::Pass);
		assert_eq!(compare_embeddings(&a, &b, tol(999_000, 1)), Check::Fail(Mismatch::Element));
		let c: Vec<i16> =
			a.iter().enumerate().map(|(i, x)| if i < 100 { -x } else { *x }).collect();
		assert_eq!(
			compare_embeddings(&a, &c, tol(999_000, u16::MAX)),
			Check::Fail(Mismatch::Cosine)
		);
	}

	#[test]
	fn zero_vectors() {
		let zero = vec![0i16; 8];
		let one = vec![0, 0, 0, 1, 0, 0, 0, 0];
		assert_eq!(compare_embeddings(&zero, &zero, tol(1_000_000, 0)), Check::Pass);
		assert_eq!(
			compare_embeddings(&zero, &one, tol(0, u16::MAX)),
			Check::Fail(Mismatch::ZeroVector)
		);
		assert_eq!(
			compare_embeddings(&one, &zero, tol(0, u16::MAX)),
			Check::Fail(Mismatch::ZeroVector)
		);
	}

	#[test]
	fn opposite_vectors_fail_unless_no_cosine_is_required() {
		let a = vec![32767i16, -32767, 1000];
		let b: Vec<i16> = a.iter().map(|x| -x).collect();
		assert_eq!(compare_embeddings(&a, &b, tol(1, u16::MAX)), Check::Fail(Mismatch::Cosine));
		assert_eq!(compare_embeddings(&a, &b, tol(0, u16::MAX)), Check::Pass);
	}

	#[test]
	fn extreme_values_at_full_length_do_not_overflow() {
		let a = vec![i16::MIN; MAX_EMBEDDING_DIMENSIONS];
		let b = vec![i16::MAX; MAX_EMBEDDING_DIMENSIONS];
		assert_eq!(compare_embeddings(&a, &a, tol(1_000_000, 0)), Check::Pass);
		assert_eq!(compare_embeddings(&a, &b, tol(1, u16::MAX)), Check::Fail(Mismatch::Cosine));
		assert_eq!(compare_embeddings(&b, &b, tol(1_000_000, 0)), Check::Pass);
		let long = vec![1i16; MAX_EMBEDDING_DIMENSIONS + 1];
		assert_eq!(compare_embeddings(&long, &long, tol(0, 0)), Check::Fail(Mismatch::TooLong));
	}

	#[test]
	fn length_mismatch_fails() {
		assert_eq!(
			compare_embeddings(&[1, 2], &[1, 2, 3], tol(0, u16::MAX)),
			Check::Fail(Mismatch::Length)
		);
	}

	#[test]
	fn cosine_threshold_is_exact_at_the_boundary() {
		// cos((3,4),(4,3)) = 24/25 = 0.96 exactly.
		let (a, b) = ([3i16, 4], [4i16, 3]);
		assert_eq!(compare_embeddings(&a, &b, tol(960_000, u16::MAX)), Check::Pass);
		assert_eq!(
			compare_embeddings(&a, &b, tol(960_001, u16::MAX)),
			Check::Fail(Mismatch::Cosine)
		);
	}

	#[test]
	fn classification_passes_on_same_class_or_near_tie() {
		let t = ClassificationTolerance { tie_margin: 100 };
		let logits = [1000, 950, 10];
		assert_eq!(compare_classifications(&logits, 0, 0, t), Check::Pass);
		assert_eq!(compare_classifications(&logits, 0, 1, t), Check::Pass);
		assert_eq!(compare_classifications(&logits, 0, 2, t), Check::Fail(Mismatch::Class));
		assert_eq!(
			compare_classifications(&logits, 0, 7, t),
			Check::Fail(Mismatch::ClassOutOfRange)
		);
		// The widest logit gap, 2³² − 1, is computed without overflow.
		let extremes = [i32::MAX, i32::MIN];
		let margin = |tie_margin| ClassificationTolerance { tie_margin };
		assert_eq!(compare_classifications(&extremes, 0, 1, margin(u32::MAX)), Check::Pass);
		assert_eq!(
			compare_classifications(&extremes, 0, 1, margin(u32::MAX - 1)),
			Check::Fail(Mismatch::Class)
		);
	}

	#[test]
	fn generation_accepts_top_tokens_and_close_alternatives() {
		let t = GenerationTolerance { logit_margin: 50 };
		let step = |top_token, top_logit, candidate_logit| CheckedStep {
			top_token,
			top_logit,
			candidate_logit,
		};
		let checked = [step(5, 900, 900), step(7, 800, 780)];
		assert_eq!(compare_generation(&[5, 9], &checked, t), Check::Pass);
		let far = [step(5, 900, 900), step(7, 800, 700)];
		assert_eq!(compare_generation(&[5, 9], &far, t), Check::Fail(Mismatch::Token));
		assert_eq!(compare_generation(&[5], &checked, t), Check::Fail(Mismatch::Length));
	}

	#[test]
	fn a_checked_generation_passes_equal_tokens_abstains_at_a_near_tie_and_fails_the_rest() {
		use crate::canonical::{CanonicalOutput as O, NearTie};
		let tol = GenerationTolerance { logit_margin: 64 };
		let gen = crate::Architecture::Generation { max_tokens: 8, tolerance: tol };
		let near =
			vec![NearTie { step: 1, token: 70, gap: 40 }, NearTie { step: 1, token: 71, gap: 300 }];
		let checker = O::CheckedGeneration { tokens: vec![5, 6, 7, 102], near };
		let v = |c: &[u32]| vote(&gen, &checker, &O::Generation(c.to_vec()));
		assert_eq!(v(&[5, 6, 7, 102]), Vote::Agree);
		// Parts at step 1 with a token 40 units below the top: a near-tie, the rest unjudgeable.
		assert_eq!(v(&[5, 70, 9, 9, 9]), Vote::Abstain);
		// 300 units below: recorded, but outside τ. Unrecorded tokens and other steps: wrong.
		assert_eq!(v(&[5, 71, 7, 102]), Vote::Disagree(Mismatch::Token));
		assert_eq!(v(&[5, 6, 70, 102]), Vote::Disagree(Mismatch::Token));
		assert_eq!(v(&[9, 6, 7, 102]), Vote::Disagree(Mismatch::Token));
		// Stopping early or running on over an agreed prefix is wrong.
		assert_eq!(v(&[5, 6, 7]), Vote::Disagree(Mismatch::Length));
		assert_eq!(v(&[5, 6, 7, 102, 8]), Vote::Disagree(Mismatch::Length));
		assert_eq!(
			vote(&gen, &checker, &O::Refused(crate::canonical::Refusal::InputUnreadable)),
			Vote::Disagree(Mismatch::Refusal)
		);
		// outputs_match never passes what the vote cannot decide.
		assert_eq!(
			outputs_match(&gen, &checker, &O::Generation(vec![5, 70])),
			Check::Fail(Mismatch::NearTie)
		);
		// Two checkers that generated the same tokens confirm each other.
		let other = O::CheckedGeneration { tokens: vec![5, 6, 7, 102], near: vec![] };
		assert_eq!(vote(&gen, &checker, &other), Vote::Agree);
		// Well-formedness: steps inside the generation, other tokens, bounded gaps and counts.
		assert!(checker.well_formed(8));
		assert!(!checker.well_formed(3));
		let bad =
			|near: Vec<NearTie>| O::CheckedGeneration { tokens: vec![5, 6], near }.well_formed(8);
		assert!(!bad(vec![NearTie { step: 2, token: 1, gap: 0 }]));
		assert!(!bad(vec![NearTie { step: 0, token: 5, gap: 0 }]));
		assert!(!bad(vec![NearTie { step: 0, token: 1, gap: MAX_GAP_PLUS_ONE }]));
		let four = (0..4).map(|t| NearTie { step: 0, token: 10 + t, gap: 1 }).collect();
		assert!(!bad(four));
		assert!(bad((0..3).map(|t| NearTie { step: 0, token: 10 + t, gap: 1 }).collect()));
	}

	const MAX_GAP_PLUS_ONE: u32 = crate::canonical::MAX_NEAR_GAP + 1;

	#[test]
	fn outputs_match_dispatches_on_the_architecture() {
		use crate::{canonical::CanonicalOutput as O, Architecture as A};
		let emb = A::TextEmbedding {
			dimensions: 2,
			tolerance: EmbeddingTolerance {
				min_cosine: Perbill::from_percent(99),
				max_element_diff: 100,
			},
		};
		let a = O::Embedding(vec![23_170, 23_170]);
		let close = O::Embedding(vec![23_200, 23_140]);
		let far = O::Embedding(vec![32_767, 0]);
		assert_eq!(outputs_match(&emb, &a, &close), Check::Pass);
		assert_eq!(outputs_match(&emb, &a, &far), Check::Fail(Mismatch::Element));
		assert_eq!(outputs_match(&emb, &a, &O::Generation(vec![1])), Check::Fail(Mismatch::Length));
		// A refusal matches only the same refusal, whatever the architecture.
		let refused = O::Refused(crate::canonical::Refusal::InputUnreadable);
		assert_eq!(outputs_match(&emb, &refused, &refused.clone()), Check::Pass);
		assert_eq!(outputs_match(&emb, &refused, &a), Check::Fail(Mismatch::Refusal));
		assert_eq!(outputs_match(&emb, &a, &refused), Check::Fail(Mismatch::Refusal));
		let gen =
			A::Generation { max_tokens: 4, tolerance: GenerationTolerance { logit_margin: 9 } };
		assert_eq!(
			outputs_match(&gen, &O::Generation(vec![1, 2]), &O::Generation(vec![1, 2])),
			Check::Pass
		);
		assert_eq!(
			outputs_match(&gen, &O::Generation(vec![1, 2]), &O::Generation(vec![1, 3])),
			Check::Fail(Mismatch::Token)
		);
		let cls =
			A::Classification { classes: 3, tolerance: ClassificationTolerance { tie_margin: 10 } };
		let reference = O::Classification { class: 0, logits: vec![100, 95, 0] };
		let near_tie = O::Classification { class: 1, logits: vec![94, 96, 3] };
		let wrong = O::Classification { class: 2, logits: vec![0, 0, 0] };
		assert_eq!(outputs_match(&cls, &reference, &near_tie), Check::Pass);
		assert_eq!(outputs_match(&cls, &reference, &wrong), Check::Fail(Mismatch::Class));
		// The right class with made-up logits: the client would get wrong probabilities.
		let made_up = O::Classification { class: 0, logits: vec![100, 40, 0] };
		assert_eq!(outputs_match(&cls, &reference, &made_up), Check::Fail(Mismatch::Logit));
		// Flat logits make every class look like a near-tie by the provider's own numbers; the
		// reference's numbers decide, and these are far from them.
		let flat = O::Classification { class: 2, logits: vec![0, 0, 0] };
		assert_eq!(outputs_match(&cls, &reference, &flat), Check::Fail(Mismatch::Class));
		let flat_first = O::Classification { class: 0, logits: vec![0, 0, 0] };
		assert_eq!(outputs_match(&cls, &reference, &flat_first), Check::Fail(Mismatch::Logit));
		// A class that is not the first highest of its own logits is malformed.
		assert!(reference.well_formed(0));
		assert!(!O::Classification { class: 1, logits: vec![100, 95, 0] }.well_formed(0));
		assert!(!O::Classification { class: 1, logits: vec![7, 7, 0] }.well_formed(0));
		assert!(!O::Classification { class: 0, logits: vec![] }.well_formed(0));
	}
}
