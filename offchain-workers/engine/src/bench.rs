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
}

/// Measures each case for `seconds` after one warm-up batch.
pub fn measure(embedder: &TextEmbedder, seconds: f64) -> Result<Vec<Throughput>> {
	let long = input_of_tokens(embedder, 128)?;
	let mut out = Vec::new();
	for (batch, text) in [(1usize, SHORT), (32, long.as_str())] {
		let tokens = embedder.token_count(text)?;
		let inputs = vec![text; batch];
		embedder.embed(&inputs)?;
		let started = Instant::now();
		let mut sentences = 0usize;
		while started.elapsed().as_secs_f64() < seconds {
			embedder.embed(&inputs)?;
			sentences = sentences.saturating_add(batch);
		}
		out.push(Throughput {
			label: format!("batch {batch} × {tokens} tokens"),
			sentences_per_second: sentences as f64 / started.elapsed().as_secs_f64(),
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
