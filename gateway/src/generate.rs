//! `POST /v1/chat/completions` and `POST /v1/completions` for generation models.
//!
//! A request becomes one generation job whose input is the prompt text: for a completion the
//! `prompt` as given; for a chat, the messages in the gateway's plain chat format
//! ([`chat_prompt`]), since the chain's models carry no chat template. The job is signed by the
//! API key's delegate account, and the answer comes once the chain has verified the job (or
//! finalised, or settled it: `wait_for`). With `stream: true` the answer is server-sent events,
//! one chunk per generated token, ending in `data: [DONE]`; they are sent once the job is
//! verified, because until then nothing says the tokens are right.
//!
//! Decoding on chain is greedy, so `temperature`, `top_p`, `seed` and the penalties change
//! nothing and are ignored; options that would change what is returned and that the chain cannot
//! honour (`n` above 1, tools, `logprobs`, `echo`, `suffix`) are refused before anything is
//! signed. `max_tokens` / `max_completion_tokens` and `stop` cut the verified output at the
//! gateway (the job itself generates up to the model's registered `max_tokens`, and is priced
//! the same either way).

use crate::api::{submit_jobs, wait_job, ApiErr, Done, Gateway};
use async_openai::types::{
	chat::{
		ChatChoice, ChatChoiceStream, ChatCompletionRequestAssistantMessageContent,
		ChatCompletionRequestAssistantMessageContentPart,
		ChatCompletionRequestDeveloperMessageContent,
		ChatCompletionRequestDeveloperMessageContentPart, ChatCompletionRequestMessage,
		ChatCompletionRequestSystemMessageContent, ChatCompletionRequestSystemMessageContentPart,
		ChatCompletionRequestUserMessageContent, ChatCompletionRequestUserMessageContentPart,
		ChatCompletionResponseMessage, ChatCompletionStreamResponseDelta, Choice,
		CompletionFinishReason, CompletionUsage, CreateChatCompletionRequest,
		CreateChatCompletionResponse, CreateChatCompletionStreamResponse, FinishReason, Prompt,
		Role, StopConfiguration,
	},
	completions::{CreateCompletionRequest, CreateCompletionResponse},
};
use axum::{
	body::Bytes,
	extract::State,
	http::{HeaderMap, HeaderValue, StatusCode},
	response::{
		sse::{Event, Sse},
		IntoResponse, Response,
	},
	Json,
};
use serde_json::{json, Value};
use std::{
	convert::Infallible,
	sync::Arc,
	time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// A verified generation, cut as the request asked, with the text of each token.
struct Completion {
	done: Done,
	/// The job's verified tokens (the canonical output), before any cut.
	tokens: Vec<u32>,
	/// The text each kept token adds; their concatenation is `text`.
	pieces: Vec<String>,
	text: String,
	finish: Finish,
	prompt_tokens: u32,
	block: String,
	pooled_ms: u128,
	included_ms: u128,
	account: String,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Finish {
	Stop,
	Length,
}

impl Completion {
	fn usage(&self) -> CompletionUsage {
		let completion = u32::try_from(self.pieces.len()).unwrap_or(u32::MAX);
		CompletionUsage {
			prompt_tokens: self.prompt_tokens,
			completion_tokens: completion,
			total_tokens: self.prompt_tokens.saturating_add(completion),
			prompt_tokens_details: None,
			completion_tokens_details: None,
		}
	}

	/// The `infera` extension object: the job, its verdict and the tokens the chain verified.
	fn extension(&self, wait_for: crate::config::WaitFor, started: Instant) -> Value {
		json!({
			"job": self.done.job,
			"jobs": [self.done.job],
			"status": self.done.status,
			"verdict": self.done.verdict,
			"audited": self.done.audited,
			"outputHash": self.done.output_hash,
			"price": self.done.price,
			"tokens": self.tokens,
			"decoding": "greedy",
			"block": self.block,
			"waitFor": format!("{wait_for:?}"),
			"account": self.account,
			"timings": {
				"pooledMs": self.pooled_ms,
				"inBlockMs": self.included_ms,
				"totalMs": started.elapsed().as_millis(),
			},
		})
	}
}

/// The prompt a chat becomes: each message on its own line as `role: text`, then `assistant:`
/// for the model to continue. Only text content is accepted; tool and function messages are
/// refused (the chain's models call no tools).
pub fn chat_prompt(messages: &[ChatCompletionRequestMessage]) -> Result<String, ApiErr> {
	use ChatCompletionRequestMessage as M;
	if messages.is_empty() {
		return Err(ApiErr::invalid("`messages` is empty").param("messages"));
	}
	let not_text = |i: usize| {
		ApiErr::invalid(format!(
			"messages[{i}]: only text content is accepted (the chain's generation models read text)"
		))
		.param("messages")
	};
	let mut prompt = String::new();
	for (i, message) in messages.iter().enumerate() {
		let (role, text) = match message {
			M::System(m) => (
				"system",
				match &m.content {
					ChatCompletionRequestSystemMessageContent::Text(t) => t.clone(),
					ChatCompletionRequestSystemMessageContent::Array(parts) => parts
						.iter()
						.map(|ChatCompletionRequestSystemMessageContentPart::Text(p)| {
							p.text.as_str()
						})
						.collect(),
				},
			),
			M::Developer(m) => (
				"developer",
				match &m.content {
					ChatCompletionRequestDeveloperMessageContent::Text(t) => t.clone(),
					ChatCompletionRequestDeveloperMessageContent::Array(parts) => parts
						.iter()
						.map(|ChatCompletionRequestDeveloperMessageContentPart::Text(p)| {
							p.text.as_str()
						})
						.collect(),
				},
			),
			M::User(m) => (
				"user",
				match &m.content {
					ChatCompletionRequestUserMessageContent::Text(t) => t.clone(),
					ChatCompletionRequestUserMessageContent::Array(parts) => {
						let mut text = String::new();
						for part in parts {
							match part {
								ChatCompletionRequestUserMessageContentPart::Text(p) => {
									text.push_str(&p.text)
								}
								_ => return Err(not_text(i)),
							}
						}
						text
					}
				},
			),
			M::Assistant(m) => (
				"assistant",
				match &m.content {
					None => String::new(),
					Some(ChatCompletionRequestAssistantMessageContent::Text(t)) => t.clone(),
					Some(ChatCompletionRequestAssistantMessageContent::Array(parts)) => {
						let mut text = String::new();
						for part in parts {
							match part {
								ChatCompletionRequestAssistantMessageContentPart::Text(p) => {
									text.push_str(&p.text)
								}
								ChatCompletionRequestAssistantMessageContentPart::Refusal(p) => {
									text.push_str(&p.refusal)
								}
							}
						}
						text
					}
				},
			),
			M::Tool(_) | M::Function(_) => {
				return Err(ApiErr::invalid(format!(
					"messages[{i}]: tool and function messages are not accepted (the chain's \
					 models call no tools)"
				))
				.param("messages"))
			}
		};
		prompt.push_str(role);
		prompt.push_str(": ");
		prompt.push_str(&text);
		prompt.push('\n');
	}
	prompt.push_str("assistant:");
	Ok(prompt)
}

/// The stop sequences of a request (at most 4, none empty).
fn stops(stop: Option<StopConfiguration>) -> Result<Vec<String>, ApiErr> {
	let list = match stop {
		None => return Ok(Vec::new()),
		Some(StopConfiguration::String(s)) => vec![s],
		Some(StopConfiguration::StringArray(v)) => v,
	};
	if list.len() > 4 || list.iter().any(String::is_empty) {
		return Err(ApiErr::invalid("`stop` takes up to 4 non-empty strings").param("stop"));
	}
	Ok(list)
}

/// The text each token adds, decoded incrementally with `decode` (special tokens skipped): the
/// concatenation of the pieces is the decoding of all the tokens whenever each decoding of a
/// prefix extends the previous one, which holds for the tokenizers in use; where one does not,
/// that token adds nothing and the next one carries the text.
fn pieces(tokens: &[u32], decode: impl Fn(&[u32]) -> Option<String>) -> Option<Vec<String>> {
	let mut out = Vec::with_capacity(tokens.len());
	let mut emitted = String::new();
	for end in 1..=tokens.len() {
		let full = decode(tokens.get(..end)?)?;
		match full.strip_prefix(emitted.as_str()) {
			Some(added) => {
				out.push(added.to_string());
				emitted = full;
			}
			None => out.push(String::new()),
		}
	}
	Some(out)
}

/// Cuts `pieces` at `limit` tokens and at the first stop sequence; says why the output ended.
/// `ended` is whether the model itself ended the output (its end-of-sequence token).
fn cut(
	mut pieces: Vec<String>,
	limit: Option<u32>,
	stops: &[String],
	ended: bool,
) -> (Vec<String>, Finish) {
	let mut finish = if ended { Finish::Stop } else { Finish::Length };
	if let Some(limit) = limit.and_then(|l| usize::try_from(l).ok()) {
		if pieces.len() > limit {
			pieces.truncate(limit);
			finish = Finish::Length;
		}
	}
	let text: String = pieces.concat();
	let first_stop = stops.iter().filter_map(|s| text.find(s.as_str())).min();
	if let Some(at) = first_stop {
		// Keep whole pieces before `at` and the part of the piece `at` falls in.
		let mut kept = Vec::new();
		let mut len = 0usize;
		for piece in pieces {
			if len.saturating_add(piece.len()) <= at {
				len = len.saturating_add(piece.len());
				kept.push(piece);
			} else {
				let rest = at.saturating_sub(len);
				if let Some(head) = piece.get(..rest) {
					if !head.is_empty() {
						kept.push(head.to_string());
					}
				}
				break;
			}
		}
		return (kept, Finish::Stop);
	}
	(pieces, finish)
}

/// Checks, signs and submits the generation job for `prompt`, waits for its verdict, and
/// decodes the verified tokens.
async fn generate(
	gw: &Gateway,
	headers: &HeaderMap,
	model_name: &str,
	prompt: String,
	limit: Option<u32>,
	stops: &[String],
	started: Instant,
) -> Result<Completion, ApiErr> {
	let delegate = gw.authorise(headers)?;
	let model = gw.resolve(model_name).await?;
	if model.kind != "text-generation" {
		return Err(ApiErr::invalid(format!(
			"`{}` is a {} model, not a generation model",
			model.openai_id, model.kind
		))
		.param("model"));
	}
	if limit == Some(0) {
		return Err(ApiErr::invalid("the token limit must be at least 1").param("max_tokens"));
	}
	// Without the registered tokenizer the verified tokens cannot be turned into text: refused
	// before anything is signed.
	let Some(tokenizer) = gw.tokenizer(&model).await else {
		return Err(ApiErr::unavailable(format!(
			"the gateway's model store lacks the registered tokenizer of `{}`; nothing was \
			 charged",
			model.openai_id
		))
		.code("model_not_available"));
	};
	let prompt_tokens = tokenizer
		.encode(prompt.as_str(), true)
		.map(|e| e.get_attention_mask().iter().filter(|m| **m != 0).count())
		.map_err(|e| ApiErr::invalid(format!("the prompt cannot be tokenised: {e}")))?;
	let _permit = gw.in_flight.clone().try_acquire_owned().map_err(|_| {
		ApiErr::busy(format!(
			"the gateway is following {} jobs already; retry shortly (nothing was charged)",
			gw.config.max_jobs_in_flight
		))
	})?;
	let texts = [prompt];
	let (jobs, block, pooled_ms) = submit_jobs(gw, delegate, &model, &texts, started).await?;
	let included_ms = started.elapsed().as_millis();
	let Some(&job) = jobs.first() else {
		return Err(ApiErr::upstream("no job was submitted"));
	};
	log::info!(
		"{}: generation job {job} of model {} in block {block:?}",
		delegate.0.name,
		model.id
	);
	let timeout = Duration::from_secs(gw.config.timeout_secs);
	let done =
		match tokio::time::timeout(timeout, wait_job(&gw.chain, job, gw.config.wait_for)).await {
			Ok(r) => r?,
			Err(_) => {
				return Err(ApiErr::new(
					StatusCode::GATEWAY_TIMEOUT,
					"timeout",
					format!(
					"job {job} was submitted but not {:?} within {} s; it goes on (see infera_job)",
					gw.config.wait_for, gw.config.timeout_secs
				),
				)
				.code("jobs_pending"))
			}
		};
	if let Some(reason) = done.output["refused"].as_str() {
		return Err(ApiErr::invalid(format!(
			"job {job}: the model could not run the prompt ({reason}); the refusal was verified \
			 and the attempt paid"
		))
		.code("input_refused"));
	}
	let tokens: Vec<u32> = done.output["tokens"]
		.as_array()
		.map(|a| a.iter().filter_map(Value::as_u64).filter_map(|t| u32::try_from(t).ok()).collect())
		.ok_or_else(|| ApiErr::upstream(format!("job {job}: the output is not a generation")))?;
	let decode = |ids: &[u32]| tokenizer.decode(ids, true).ok();
	let all = pieces(&tokens, decode)
		.ok_or_else(|| ApiErr::upstream(format!("job {job}: the tokens cannot be decoded")))?;
	let ended = tokens.last().is_some_and(|&last| {
		// The model's end-of-sequence token is special: it decodes to nothing when special
		// tokens are skipped, and to something when they are not.
		tokenizer.decode(&[last], true).is_ok_and(|t| t.is_empty())
			&& tokenizer.decode(&[last], false).is_ok_and(|t| !t.is_empty())
	});
	let (pieces, finish) = cut(all, limit, stops, ended);
	Ok(Completion {
		text: pieces.concat(),
		pieces,
		tokens,
		finish,
		prompt_tokens: u32::try_from(prompt_tokens).unwrap_or(u32::MAX),
		block: format!("{block:?}"),
		pooled_ms,
		included_ms,
		account: delegate.0.account.to_string(),
		done,
	})
}

fn now_secs() -> u32 {
	SystemTime::now()
		.duration_since(UNIX_EPOCH)
		.ok()
		.and_then(|d| u32::try_from(d.as_secs()).ok())
		.unwrap_or(0)
}

fn with_job_header(mut response: Response, job: u64) -> Response {
	if let Ok(v) = HeaderValue::from_str(&job.to_string()) {
		response.headers_mut().insert("x-infera-jobs", v);
	}
	response
}

/// Server-sent events: each value as one `data:` event, then `data: [DONE]`.
fn sse(values: Vec<Value>) -> Response {
	let events = values
		.into_iter()
		.map(|v| Event::default().data(v.to_string()))
		.chain(std::iter::once(Event::default().data("[DONE]")))
		.map(Ok::<_, Infallible>);
	Sse::new(futures::stream::iter(events)).into_response()
}

/// Options the chain cannot honour, refused before anything is signed.
fn refuse_unsupported(n: Option<u8>, checks: &[(bool, &'static str, &str)]) -> Result<(), ApiErr> {
	if n.is_some_and(|n| n != 1) {
		return Err(ApiErr::invalid(
			"`n` must be 1: decoding on chain is greedy, so every completion would be the same",
		)
		.param("n"));
	}
	for (given, param, why) in checks {
		if *given {
			return Err(ApiErr::invalid(format!("`{param}` is not supported: {why}")).param(param));
		}
	}
	Ok(())
}

pub(crate) async fn chat_completions(
	State(gw): State<Arc<Gateway>>,
	headers: HeaderMap,
	body: Bytes,
) -> Result<Response, ApiErr> {
	let started = Instant::now();
	gw.authorise(&headers)?;
	let request: CreateChatCompletionRequest = serde_json::from_slice(&body).map_err(|e| {
		ApiErr::invalid(format!("The request body is not a valid chat completion request: {e}"))
	})?;
	refuse_unsupported(
		request.n,
		&[
			(
				request.tools.as_ref().is_some_and(|t| !t.is_empty()),
				"tools",
				"the chain's models call no tools",
			),
			(
				request.logprobs == Some(true),
				"logprobs",
				"the chain verifies tokens, not probabilities",
			),
		],
	)?;
	#[allow(deprecated, reason = "`max_tokens` is what older clients send")]
	let limit = request.max_completion_tokens.or(request.max_tokens);
	let stops = stops(request.stop)?;
	let prompt = chat_prompt(&request.messages)?;
	let c = generate(&gw, &headers, &request.model, prompt, limit, &stops, started).await?;
	let model = gw.resolve(&request.model).await?.openai_id;
	let id = format!("chatcmpl-infera-{}", c.done.job);
	let created = now_secs();
	let finish = match c.finish {
		Finish::Stop => FinishReason::Stop,
		Finish::Length => FinishReason::Length,
	};
	let extension = c.extension(gw.config.wait_for, started);
	log_answer(&gw, &c, started);
	if request.stream != Some(true) {
		let response = CreateChatCompletionResponse {
			id,
			created,
			model,
			object: "chat.completion".into(),
			usage: Some(c.usage()),
			choices: vec![ChatChoice {
				index: 0,
				message: ChatCompletionResponseMessage {
					content: Some(c.text.clone()),
					role: Role::Assistant,
					..Default::default()
				},
				finish_reason: Some(finish),
				logprobs: None,
			}],
			..Default::default()
		};
		let mut body =
			serde_json::to_value(response).map_err(|e| ApiErr::upstream(e.to_string()))?;
		body["infera"] = extension;
		return Ok(with_job_header(Json(body).into_response(), c.done.job));
	}
	let chunk = |delta: ChatCompletionStreamResponseDelta, finish: Option<FinishReason>| {
		let chunk = CreateChatCompletionStreamResponse {
			id: id.clone(),
			created,
			model: model.clone(),
			object: "chat.completion.chunk".into(),
			choices: vec![ChatChoiceStream {
				index: 0,
				delta,
				finish_reason: finish,
				logprobs: None,
			}],
			..Default::default()
		};
		serde_json::to_value(chunk).unwrap_or(Value::Null)
	};
	let mut values = vec![chunk(
		ChatCompletionStreamResponseDelta {
			role: Some(Role::Assistant),
			content: Some(String::new()),
			..Default::default()
		},
		None,
	)];
	for piece in &c.pieces {
		values.push(chunk(
			ChatCompletionStreamResponseDelta {
				content: Some(piece.clone()),
				..Default::default()
			},
			None,
		));
	}
	let mut last = chunk(ChatCompletionStreamResponseDelta::default(), Some(finish));
	last["infera"] = extension;
	values.push(last);
	if request.stream_options.and_then(|o| o.include_usage) == Some(true) {
		let usage = CreateChatCompletionStreamResponse {
			id: id.clone(),
			created,
			model: model.clone(),
			object: "chat.completion.chunk".into(),
			choices: Vec::new(),
			usage: Some(c.usage()),
			..Default::default()
		};
		values.push(serde_json::to_value(usage).unwrap_or(Value::Null));
	}
	Ok(with_job_header(sse(values), c.done.job))
}

pub(crate) async fn completions(
	State(gw): State<Arc<Gateway>>,
	headers: HeaderMap,
	body: Bytes,
) -> Result<Response, ApiErr> {
	let started = Instant::now();
	gw.authorise(&headers)?;
	let request: CreateCompletionRequest = serde_json::from_slice(&body).map_err(|e| {
		ApiErr::invalid(format!("The request body is not a valid completion request: {e}"))
	})?;
	refuse_unsupported(
		request.n,
		&[
			(request.echo == Some(true), "echo", "the answer is the verified output only"),
			(
				request.suffix.as_ref().is_some_and(|s| !s.is_empty()),
				"suffix",
				"the models on chain do not insert text",
			),
			(
				request.logprobs.is_some(),
				"logprobs",
				"the chain verifies tokens, not probabilities",
			),
			(request.best_of.is_some_and(|b| b > 1), "best_of", "decoding on chain is greedy"),
		],
	)?;
	let prompt = match request.prompt {
		Prompt::String(s) => s,
		Prompt::StringArray(mut v) if v.len() == 1 => v.remove(0),
		Prompt::StringArray(_) => {
			return Err(
				ApiErr::invalid("`prompt` must be one string: one job per request").param("prompt")
			)
		}
		Prompt::IntegerArray(_) | Prompt::ArrayOfIntegerArray(_) => return Err(ApiErr::invalid(
			"Token arrays are not accepted: send text (the model's own tokenizer runs on chain)",
		)
		.param("prompt")),
	};
	if prompt.is_empty() {
		return Err(ApiErr::invalid("`prompt` is empty").param("prompt"));
	}
	let stops = stops(request.stop)?;
	let c = generate(&gw, &headers, &request.model, prompt, request.max_tokens, &stops, started)
		.await?;
	let model = gw.resolve(&request.model).await?.openai_id;
	let id = format!("cmpl-infera-{}", c.done.job);
	let created = now_secs();
	let finish = match c.finish {
		Finish::Stop => CompletionFinishReason::Stop,
		Finish::Length => CompletionFinishReason::Length,
	};
	let extension = c.extension(gw.config.wait_for, started);
	log_answer(&gw, &c, started);
	let response = |choices: Vec<Choice>, usage: Option<CompletionUsage>| {
		let r = CreateCompletionResponse {
			id: id.clone(),
			created,
			model: model.clone(),
			object: "text_completion".into(),
			choices,
			usage,
			system_fingerprint: None,
		};
		serde_json::to_value(r).unwrap_or(Value::Null)
	};
	if request.stream != Some(true) {
		let mut body = response(
			vec![Choice {
				text: c.text.clone(),
				index: 0,
				logprobs: None,
				finish_reason: Some(finish),
			}],
			Some(c.usage()),
		);
		body["infera"] = extension;
		return Ok(with_job_header(Json(body).into_response(), c.done.job));
	}
	let mut values: Vec<Value> = c
		.pieces
		.iter()
		.map(|piece| {
			response(
				vec![Choice { text: piece.clone(), index: 0, logprobs: None, finish_reason: None }],
				None,
			)
		})
		.collect();
	let mut last = response(
		vec![Choice { text: String::new(), index: 0, logprobs: None, finish_reason: Some(finish) }],
		None,
	);
	last["infera"] = extension;
	values.push(last);
	if request.stream_options.and_then(|o| o.include_usage) == Some(true) {
		values.push(response(Vec::new(), Some(c.usage())));
	}
	Ok(with_job_header(sse(values), c.done.job))
}

fn log_answer(gw: &Gateway, c: &Completion, started: Instant) {
	log::info!(
		"job {} {:?}: {} tokens ({} returned, {:?}) in {} ms (pooled after {} ms, in a block \
		 after {} ms)",
		c.done.job,
		gw.config.wait_for,
		c.tokens.len(),
		c.pieces.len(),
		c.finish,
		started.elapsed().as_millis(),
		c.pooled_ms,
		c.included_ms,
	);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
	use super::*;

	fn messages(v: Value) -> Vec<ChatCompletionRequestMessage> {
		serde_json::from_value(v).unwrap()
	}

	#[test]
	fn a_chat_becomes_one_plain_prompt() {
		let m = messages(json!([
			{"role": "system", "content": "Be brief."},
			{"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": " there"}]},
			{"role": "assistant", "content": "Hi."},
			{"role": "user", "content": "Why?"},
		]));
		assert_eq!(
			chat_prompt(&m).unwrap(),
			"system: Be brief.\nuser: Hello there\nassistant: Hi.\nuser: Why?\nassistant:"
		);
		assert!(chat_prompt(&[]).is_err());
		let tool = messages(json!([{"role": "tool", "content": "42", "tool_call_id": "x"}]));
		assert_eq!(chat_prompt(&tool).unwrap_err().status(), StatusCode::BAD_REQUEST);
		let image = messages(json!([{"role": "user", "content": [
			{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
		]}]));
		assert!(chat_prompt(&image).is_err());
	}

	#[test]
	fn pieces_concatenate_to_the_whole_decoding() {
		// A decoder that joins words with spaces and glues `##` pieces, as WordPiece does.
		let vocab = ["the", "cat", "##s", "sat", "."];
		let decode = |ids: &[u32]| -> Option<String> {
			let mut s = String::new();
			for &id in ids {
				let w = *vocab.get(id as usize)?;
				if let Some(rest) = w.strip_prefix("##") {
					s.push_str(rest);
				} else if w == "." || s.is_empty() {
					s.push_str(w);
				} else {
					s.push(' ');
					s.push_str(w);
				}
			}
			Some(s)
		};
		let tokens = [0, 1, 2, 3, 4];
		let p = pieces(&tokens, decode).unwrap();
		assert_eq!(p, vec!["the", " cat", "s", " sat", "."]);
		assert_eq!(p.concat(), decode(&tokens).unwrap());
		assert!(pieces(&[9], decode).is_none(), "an unknown token is an error, not a guess");
	}

	#[test]
	fn limits_and_stop_sequences_cut_the_verified_output() {
		let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
		let all = p(&["the", " cat", "s", " sat", "."]);
		assert_eq!(cut(all.clone(), None, &[], true), (all.clone(), Finish::Stop));
		assert_eq!(cut(all.clone(), None, &[], false), (all.clone(), Finish::Length));
		assert_eq!(cut(all.clone(), Some(2), &[], true), (p(&["the", " cat"]), Finish::Length));
		assert_eq!(cut(all.clone(), Some(9), &[], true).1, Finish::Stop);
		// The stop sequence and what follows are dropped, even inside a piece.
		assert_eq!(
			cut(all.clone(), None, &["ts s".into()], false),
			(p(&["the", " ca"]), Finish::Stop)
		);
		assert_eq!(
			cut(all.clone(), None, &["zzz".into(), " sat".into()], false),
			(p(&["the", " cat", "s"]), Finish::Stop)
		);
		assert!(stops(Some(StopConfiguration::String(String::new()))).is_err());
		assert!(stops(Some(StopConfiguration::StringArray(vec!["a".into(); 5]))).is_err());
	}
}
