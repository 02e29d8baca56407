//! Throughput of a text-embedding model on fixed inputs: a 12-token sentence at batch 1, and
//! 128-token inputs at batch 32 (the cases of the design's performance table).

use crate::{embedding::TextEmbedder, error::Result};
use std::time::Instant;

/// The batch-1 input.
pub const SHORT: &str = "The quick brown fox jumps over the lazy dog.";

/// A text that tokenises to at most `tokens` tokens (special tokens included), built word by word.
pub fn input_of_tokens(embedder: &TextEmbedder, tokens: usize) -> Result<String> {
	let words = ["inference", "needs", "verifiable", "results", "and", "honest", "providers"];
	let mut text = String::new();
	for word in words.iter().cycle().take(tokens.saturating_mul(2)) {
		let longer = if text.is_empty() { (*word).to_string() } else { format!("{text} {word}") };
		if embedder.token_count(&longer)? > tokens {
			break;
		}
		text = longer;
	}
	Ok(text)
}

/// One measured case.
#[derive(Clone, Debug)]
pub struct Throughput {
	/// `batch B × T tokens`.
	pub label: String,
	/// Sentences per second.
	pub sentences_per_second: f64,
	/// Billions of floating-point operations a second in the model's matrix products.
	pub gflops_per_second: f64,
}

/// Measures each case for `seconds` after one warm-up batch: batch 1 × a 12-token sentence,
/// batch 32 × 128 tokens, and a mixed batch of 64 sentences of 8–256 tokens
/// ([`mixed_corpus`], seed 18).
pub fn measure(embedder: &TextEmbedder, seconds: f64) -> Result<Vec<Throughput>> {
	let long = input_of_tokens(embedder, 128)?;
	let mixed = mixed_corpus(embedder, 64, 18, (8, 256))?;
	let mut out = Vec::new();
	let cases: [(Vec<&str>, &str); 3] = [
		(vec![SHORT], ""),
		(vec![long.as_str(); 32], ""),
		(mixed.iter().map(String::as_str).collect(), "mixed "),
	];
	for (inputs, prefix) in cases {
		let batch = inputs.len();
		let mut flops = 0f64;
		let mut tokens = Vec::with_capacity(batch);
		for text in &inputs {
			let t = embedder.token_count(text)?;
			flops += embedder.flops(t);
			tokens.push(t);
		}
		embedder.embed(&inputs)?;
		let started = Instant::now();
		let mut batches = 0usize;
		while started.elapsed().as_secs_f64() < seconds {
			embedder.embed(&inputs)?;
			batches = batches.saturating_add(1);
		}
		let elapsed = started.elapsed().as_secs_f64();
		let (min, max) = (tokens.iter().min().copied(), tokens.iter().max().copied());
		let length = match (min, max) {
			(Some(a), Some(b)) if a != b => format!("{a}–{b}"),
			(Some(a), _) => a.to_string(),
			_ => "0".into(),
		};
		out.push(Throughput {
			label: format!("{prefix}batch {batch} × {length} tokens"),
			sentences_per_second: (batches * batch) as f64 / elapsed,
			gflops_per_second: batches as f64 * flops / elapsed / 1e9,
		});
	}
	Ok(out)
}

/// A fixed, seeded corpus of `count` texts of `tokens.0` to `tokens.1` tokens (lengths drawn
/// uniformly by SplitMix64 from `seed`, words from a fixed list): traffic of mixed lengths, the
/// same on every machine for the same tokenizer.
pub fn mixed_corpus(
	embedder: &TextEmbedder,
	count: usize,
	seed: u64,
	tokens: (usize, usize),
) -> Result<Vec<String>> {
	const WORDS: [&str; 12] = [
		"verifiable",
		"inference",
		"on",
		"chain",
		"needs",
		"honest",
		"providers",
		"and",
		"random",
		"audits",
		"of",
		"results",
	];
	let mut state = seed;
	let mut next = move || {
		state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = state;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	};
	let mut out = Vec::with_capacity(count);
	for _ in 0..count {
		let span = tokens.1.saturating_sub(tokens.0).saturating_add(1) as u64;
		let tokens = tokens.0.saturating_add((next() % span) as usize);
		let start = (next() % WORDS.len() as u64) as usize;
		let mut text = String::new();
		for word in WORDS.iter().cycle().skip(start).take(tokens.saturating_mul(2)) {
			let longer =
				if text.is_empty() { (*word).to_string() } else { format!("{text} {word}") };
			if embedder.token_count(&longer)? > tokens {
				break;
			}
			text = longer;
		}
		out.push(text);
	}
	Ok(out)
}
