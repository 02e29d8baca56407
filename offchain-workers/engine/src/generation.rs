//! Greedy text generation with a llama-style decoder. The output is the generated token ids
//! (the prompt excluded); a checker re-runs the model once over the prompt and a candidate's
//! tokens and reports, per step, its own choice and both logits, which is what the runtime's
//! `compare_generation` judges.

use crate::{
	error::{EngineError, Result},
	loader::{self, argmax, Files},
	models::llama::{row, Cache, Llama},
	store::{ModelHash, ModelStore},
};
use candle_core::{Device, Tensor};
use infera_primitives::{
	canonical::{quantise_logit, CanonicalError, NearTie, MAX_NEAR_GAP, MAX_NEAR_PER_STEP},
	tolerance::CheckedStep,
};
use tokenizers::{Tokenizer, TruncationDirection};

/// The manifest's name for this architecture.
pub const ARCHITECTURE: &str = "text-generation";

/// A loaded generator.
pub struct TextGenerator {
	model: Llama,
	tokenizer: Tokenizer,
	device: Device,
	/// Most tokens one run generates.
	pub max_new_tokens: usize,
	/// Longest sequence (prompt and generated tokens).
	pub max_seq_length: usize,
}

/// One generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
	/// The prompt's token ids, after truncation.
	pub prompt: Vec<u32>,
	/// The generated token ids, ending with an end-of-sequence token when the model chose one.
	pub tokens: Vec<u32>,
	/// The generated text (special tokens skipped).
	pub text: String,
}

impl TextGenerator {
	/// Loads `model` from `store` after checking its weights hash to its id. The manifest must
	/// give `max_new_tokens`; prompts are cut from the left to leave room for them.
	pub fn load(store: &ModelStore, model: &ModelHash, device: &Device) -> Result<Self> {
		let files = Files::read(store, model, ARCHITECTURE)?;
		let manifest_path = store.path(model, "manifest");
		let (net, _, manifest) = files.build(device, Llama::load)?;
		let bad = |message: String| EngineError::BadConfig { path: manifest_path.clone(), message };
		let max_new_tokens = manifest
			.max_new_tokens
			.filter(|n| *n > 0)
			.ok_or_else(|| bad("a text-generation manifest gives max_new_tokens above 0".into()))?;
		if manifest.max_seq_length > net.max_positions || manifest.max_seq_length <= max_new_tokens
		{
			return Err(bad(format!(
				"max_seq_length {} must exceed max_new_tokens {max_new_tokens} and fit the model's {} positions",
				manifest.max_seq_length, net.max_positions
			)));
		}
		let tokenizer = loader::tokenizer(
			store,
			model,
			manifest.max_seq_length - max_new_tokens,
			TruncationDirection::Left,
			false,
		)?;
		Ok(Self {
			model: net,
			tokenizer,
			device: device.clone(),
			max_new_tokens,
			max_seq_length: manifest.max_seq_length,
		})
	}

	/// The decoder built from a config and weights in memory (what the fuzz targets drive).
	pub fn network_from_bytes(config: &[u8], weights: Vec<u8>, device: &Device) -> Result<Llama> {
		loader::build_from_bytes(config, weights, device, Llama::load)
	}

	/// The prompt's token ids (special tokens added, truncated from the left).
	pub fn prompt(&self, text: &str) -> Result<Vec<u32>> {
		if text.is_empty() {
			return Err(EngineError::EmptyInput);
		}
		let e =
			self.tokenizer.encode(text, true).map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		Ok(e.get_ids().to_vec())
	}

	/// Generates greedily from `text` until an end-of-sequence token or `max_new_tokens`.
	pub fn generate(&self, text: &str) -> Result<Generated> {
		let prompt = self.prompt(text)?;
		let tokens = generate_tokens(&self.model, &prompt, self.max_new_tokens, &self.device)?;
		let text = self
			.tokenizer
			.decode(&tokens, true)
			.map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		Ok(Generated { prompt, tokens, text })
	}

	/// Generates greedily from `text` as an audit panel's checker does: the same tokens as
	/// [`generate`](Self::generate), and at each step the other tokens within
	/// [`MAX_NEAR_GAP`] of the greedy choice (what the runtime judges a provider's
	/// generation by, blind of it).
	pub fn generate_checked(&self, text: &str) -> Result<(Generated, Vec<NearTie>)> {
		let prompt = self.prompt(text)?;
		let mut near = Vec::new();
		let tokens = decode_greedy(
			&self.model,
			&prompt,
			self.max_new_tokens,
			&self.device,
			|step, row, top| {
				near.extend(near_ties(step, row, top)?);
				Ok(())
			},
		)?;
		let text = self
			.tokenizer
			.decode(&tokens, true)
			.map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		Ok((Generated { prompt, tokens, text }, near))
	}

	/// Re-runs the model over `text`'s prompt followed by `candidate` (teacher forcing, one
	/// pass) and returns, for each candidate token, the checker's greedy choice with its logit
	/// and the logit of the candidate's token. A token outside the vocabulary gets `i32::MIN` and
	/// ends the check there.
	pub fn check(&self, text: &str, candidate: &[u32]) -> Result<Vec<CheckedStep>> {
		let prompt = self.prompt(text)?;
		check_tokens(&self.model, &prompt, candidate, &self.device)
	}
}

/// Greedy decoding of at most `max_new` tokens after `prompt`, with a key/value cache.
pub fn generate_tokens(
	model: &Llama,
	prompt: &[u32],
	max_new: usize,
	device: &Device,
) -> Result<Vec<u32>> {
	decode_greedy(model, prompt, max_new, device, |_, _, _| Ok(()))
}

/// The tokens other than `top` whose fixed-point logit in `row` is within [`MAX_NEAR_GAP`] of
/// `top`'s, nearest first (lowest id on equal gaps), at most [`MAX_NEAR_PER_STEP`].
pub fn near_ties(step: usize, row: &[f32], top: u32) -> Result<Vec<NearTie>> {
	let fixed = |x: f32| quantise_logit(x).map_err(EngineError::Canonical);
	let top_logit =
		fixed(*row.get(top as usize).ok_or(EngineError::Canonical(CanonicalError::Empty))?)?;
	let step = u32::try_from(step).map_err(|_| EngineError::Canonical(CanonicalError::TooLong))?;
	let mut near = Vec::new();
	for (token, &x) in row.iter().enumerate() {
		let Ok(token) = u32::try_from(token) else { break };
		if token == top {
			continue;
		}
		let gap = i64::from(top_logit).saturating_sub(i64::from(fixed(x)?));
		if let Ok(gap) = u32::try_from(gap) {
			if gap <= MAX_NEAR_GAP {
				near.push(NearTie { step, token, gap });
			}
		}
	}
	near.sort_by_key(|n| (n.gap, n.token));
	near.truncate(MAX_NEAR_PER_STEP);
	Ok(near)
}

/// Greedy decoding with a key/value cache; `each` sees every step's logits and choice.
fn decode_greedy(
	model: &Llama,
	prompt: &[u32],
	max_new: usize,
	device: &Device,
	mut each: impl FnMut(usize, &[f32], u32) -> Result<()>,
) -> Result<Vec<u32>> {
	if prompt.is_empty() {
		return Err(EngineError::EmptyInput);
	}
	let mut cache = Cache::default();
	let mut next = Tensor::new(prompt, device)?;
	let mut out = Vec::with_capacity(max_new);
	while out.len() < max_new {
		let logits = model.forward(&next, &mut cache, true)?;
		let row = row(&logits, 0)?;
		let token = choose(&row)?;
		each(out.len(), &row, token)?;
		out.push(token);
		if model.eos.contains(&token) {
			break;
		}
		next = Tensor::new(&[token], device)?;
	}
	Ok(out)
}

/// The checker's view of every step of `candidate` after `prompt`.
pub fn check_tokens(
	model: &Llama,
	prompt: &[u32],
	candidate: &[u32],
	device: &Device,
) -> Result<Vec<CheckedStep>> {
	if prompt.is_empty() {
		return Err(EngineError::EmptyInput);
	}
	// A token outside the vocabulary cannot be fed back: the check stops at it (its step is
	// still reported, with `i32::MIN` for its logit), so such a candidate fails on length.
	let vocab = model.vocab_size;
	let checkable =
		candidate.iter().position(|&t| t as usize >= vocab).map_or(candidate.len(), |bad| bad + 1);
	let candidate = candidate.get(..checkable).unwrap_or_default();
	let Some((_, fed)) = candidate.split_last() else {
		return Ok(Vec::new());
	};
	let ids: Vec<u32> = prompt.iter().chain(fed).copied().collect();
	let logits =
		model.forward(&Tensor::new(ids.as_slice(), device)?, &mut Cache::default(), false)?;
	let first = prompt.len() - 1;
	candidate
		.iter()
		.enumerate()
		.map(|(step, &token)| {
			let row = row(&logits, first + step)?;
			let top = choose(&row)?;
			let logit = |t: u32| -> Result<i32> {
				match row.get(t as usize) {
					Some(&x) => quantise_logit(x).map_err(EngineError::Canonical),
					None => Ok(i32::MIN),
				}
			};
			Ok(CheckedStep {
				top_token: top,
				top_logit: logit(top)?,
				candidate_logit: logit(token)?,
			})
		})
		.collect()
}

/// The greedy choice of one position's logits.
fn choose(logits: &[f32]) -> Result<u32> {
	argmax(logits)
		.and_then(|i| u32::try_from(i).ok())
		.ok_or(EngineError::Canonical(CanonicalError::NotFinite))
}
