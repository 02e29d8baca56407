//! The OpenAI-compatible HTTP API: `GET /v1/models`, `GET /v1/models/{id}`,
//! `POST /v1/embeddings`, `POST /v1/chat/completions` and `POST /v1/completions` (in
//! [`crate::generate`]), and `GET /health`.
//!
//! Each embedding request becomes one job per input, submitted in one transaction signed by the
//! API key's delegate account, and is answered once every job is verified on chain (or
//! finalised, or settled: `wait_for`). Every rejected request is rejected before anything is
//! signed, so it costs nothing.

use crate::{
	chain::{Chain, ChainError},
	config::{blake2_256, Config, Delegate, WaitFor},
};
use async_openai::{
	error::{ApiError, WrappedError},
	types::{
		embeddings::{
			Base64Embedding, Base64EmbeddingVector, CreateBase64EmbeddingResponse,
			CreateEmbeddingRequest, CreateEmbeddingResponse, Embedding, EmbeddingInput,
			EmbeddingUsage, EncodingFormat,
		},
		models::{ListModelResponse, Model},
	},
};
use axum::{
	body::Bytes,
	extract::{Path, State},
	http::{header::AUTHORIZATION, HeaderMap, HeaderValue, StatusCode},
	response::{IntoResponse, Response},
	routing::{get, post},
	Json, Router,
};
use base64::Engine as _;
use infera_runtime::{Balance, RuntimeCall, RuntimeEvent};
use serde_json::{json, Value};
use std::{
	collections::HashMap,
	sync::Arc,
	time::{Duration, Instant},
};
use tokio::sync::Mutex;

/// Most inputs one request may carry (they go into one transaction).
pub const MAX_INPUTS: usize = 64;
/// How long the list of models is reused before it is read again.
const MODELS_TTL: Duration = Duration::from_secs(6);

/// An error in OpenAI's shape: `{"error": {message, type, param, code}}` with its status.
#[derive(Debug)]
pub struct ApiErr {
	status: StatusCode,
	message: String,
	kind: &'static str,
	param: Option<&'static str>,
	code: Option<&'static str>,
}

impl ApiErr {
	pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
		Self { status, message: message.into(), kind, param: None, code: None }
	}
	pub(crate) fn param(mut self, param: &'static str) -> Self {
		self.param = Some(param);
		self
	}
	pub(crate) fn code(mut self, code: &'static str) -> Self {
		self.code = Some(code);
		self
	}
	/// 400: the request cannot be served as it is.
	pub fn invalid(message: impl Into<String>) -> Self {
		Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
	}
	/// 401: no key, or one the gateway does not know.
	pub fn unauthorized(message: impl Into<String>) -> Self {
		Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
			.code("invalid_api_key")
	}
	/// 402: the key's account cannot pay for the request.
	pub fn quota(message: impl Into<String>) -> Self {
		Self::new(StatusCode::PAYMENT_REQUIRED, "insufficient_quota", message)
			.code("insufficient_quota")
	}
	/// 404: no such model.
	pub fn model_not_found(model: &str) -> Self {
		Self::new(
			StatusCode::NOT_FOUND,
			"invalid_request_error",
			format!("The model `{model}` does not exist or takes no jobs"),
		)
		.param("model")
		.code("model_not_found")
	}
	/// 429: the gateway follows as many jobs as it may; try again shortly.
	pub fn busy(message: impl Into<String>) -> Self {
		Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", message)
			.code("rate_limit_exceeded")
	}
	/// 503: the chain cannot serve the request now.
	pub fn unavailable(message: impl Into<String>) -> Self {
		Self::new(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", message)
	}
	/// 502: the chain took the request and it failed there.
	pub fn upstream(message: impl Into<String>) -> Self {
		Self::new(StatusCode::BAD_GATEWAY, "api_error", message)
	}
	/// The HTTP status.
	pub fn status(&self) -> StatusCode {
		self.status
	}
}

impl From<ChainError> for ApiErr {
	fn from(e: ChainError) -> Self {
		match e {
			ChainError::Unreachable(_) => {
				ApiErr::unavailable(e.to_string()).code("chain_unreachable")
			}
			ChainError::Rejected(ref m) if m.contains("Inability to pay") => {
				ApiErr::quota(e.to_string())
			}
			ChainError::Rejected(_) => {
				ApiErr::unavailable(e.to_string()).code("transaction_rejected")
			}
			ChainError::Failed(_) => ApiErr::upstream(e.to_string()).code("transaction_failed"),
			ChainError::Rpc { .. } | ChainError::Unexpected(_) => ApiErr::upstream(e.to_string()),
		}
	}
}

impl IntoResponse for ApiErr {
	fn into_response(self) -> Response {
		let body = WrappedError {
			error: ApiError {
				message: self.message,
				r#type: Some(self.kind.into()),
				param: self.param.map(Into::into),
				code: self.code.map(Into::into),
				misalignment: None,
			},
		};
		(self.status, Json(body)).into_response()
	}
}

/// A registered model as the gateway lists it.
#[derive(Clone, Debug)]
pub struct ModelEntry {
	/// The chain's model id.
	pub id: u64,
	/// The id clients name: the registered name when no other listed model has it, else
	/// `name@id`.
	pub openai_id: String,
	/// The registered name.
	pub name: String,
	/// `text-embedding`, `text-classification` or `text-generation`.
	pub kind: &'static str,
	/// Output dimensions of an embedding model.
	pub dimensions: Option<u64>,
	/// The owner's address.
	pub owner: String,
	/// The weights' and tokenizer's registered hashes (hex with 0x).
	pub weights_hash: String,
	pub tokenizer_hash: String,
	/// When it was registered (unix seconds; 0 when the block is no longer known).
	pub created: u32,
	/// `infera_model`'s whole answer.
	pub raw: Value,
}

/// The gateway's shared state.
pub struct Gateway {
	pub(crate) chain: Chain,
	pub(crate) config: Config,
	/// Each key's delegate, with what its transactions in the pool (not yet in a block) may
	/// still take: escrow (from its account or its payer's budget) and fees (from its account).
	/// The lock also orders its signatures.
	delegates: Vec<(Delegate, Mutex<(Balance, Balance)>)>,
	models: Mutex<Option<(Instant, Arc<Vec<ModelEntry>>)>>,
	tokenizers: Mutex<HashMap<String, Option<Arc<tokenizers::Tokenizer>>>>,
	created: Mutex<HashMap<u64, u32>>,
	/// One permit per job being followed.
	pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
}

impl Gateway {
	/// A gateway for `config` (its delegates already checked).
	pub fn new(config: Config, delegates: Vec<Delegate>) -> Arc<Self> {
		Arc::new(Self {
			chain: Chain::new(config.node.clone()),
			delegates: delegates.into_iter().map(|d| (d, Mutex::new((0, 0)))).collect(),
			models: Mutex::new(None),
			tokenizers: Mutex::new(HashMap::new()),
			created: Mutex::new(HashMap::new()),
			in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_jobs_in_flight as usize)),
			config,
		})
	}

	/// The delegate for the request's `Authorization: Bearer` key.
	pub(crate) fn authorise(
		&self,
		headers: &HeaderMap,
	) -> Result<&(Delegate, Mutex<(Balance, Balance)>), ApiErr> {
		let Some(value) = headers.get(AUTHORIZATION) else {
			return Err(ApiErr::unauthorized(
				"You didn't provide an API key: send `Authorization: Bearer <key>`",
			));
		};
		let key = value
			.to_str()
			.ok()
			.and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
			.map(str::trim)
			.unwrap_or_default();
		let hash = blake2_256(key.as_bytes());
		// Every delegate is compared (hash against hash), found or not.
		let mut found = None;
		for d in &self.delegates {
			if d.0.key_hash == hash && found.is_none() {
				found = Some(d);
			}
		}
		found.ok_or_else(|| ApiErr::unauthorized("Incorrect API key provided"))
	}

	/// The registered models that take jobs, read again after `MODELS_TTL`.
	pub async fn models(&self) -> Result<Arc<Vec<ModelEntry>>, ApiErr> {
		let mut cache = self.models.lock().await;
		if let Some((at, list)) = cache.as_ref() {
			if at.elapsed() < MODELS_TTL {
				return Ok(list.clone());
			}
		}
		let next = self.chain.next_model_id().await?;
		let mut raw = Vec::new();
		for id in 0..next {
			if let Some(m) = self.chain.model(id).await? {
				if m["status"].as_str() == Some("Active") {
					raw.push((id, m));
				}
			}
		}
		let mut list = Vec::with_capacity(raw.len());
		for (id, m) in &raw {
			let name = m["name"].as_str().unwrap_or_default().to_string();
			let same_name = raw.iter().filter(|(_, o)| o["name"] == m["name"]).count();
			let openai_id = if same_name == 1 && !name.is_empty() {
				name.clone()
			} else {
				format!("{name}@{id}")
			};
			let (kind, dimensions) =
				match m["architecture"].as_object().and_then(|o| o.iter().next()) {
					Some((k, v)) if k == "TextEmbedding" => {
						("text-embedding", v["dimensions"].as_u64())
					}
					Some((k, _)) if k == "Classification" => ("text-classification", None),
					Some((k, _)) if k == "Generation" => ("text-generation", None),
					_ => ("unknown", None),
				};
			let created = self.created(*id, m["registeredAt"].as_u64().unwrap_or(0)).await;
			list.push(ModelEntry {
				id: *id,
				openai_id,
				name,
				kind,
				dimensions,
				owner: m["owner"].as_str().unwrap_or_default().to_string(),
				weights_hash: m["weightsHash"].as_str().unwrap_or_default().to_string(),
				tokenizer_hash: m["tokenizerHash"].as_str().unwrap_or_default().to_string(),
				created,
				raw: m.clone(),
			});
		}
		let list = Arc::new(list);
		*cache = Some((Instant::now(), list.clone()));
		Ok(list)
	}

	/// Unix seconds of the block that registered model `id` (cached; 0 when unknown).
	async fn created(&self, id: u64, block: u64) -> u32 {
		if let Some(c) = self.created.lock().await.get(&id) {
			return *c;
		}
		let secs = match self.chain.block_time_ms(block).await {
			Ok(Some(ms)) => u32::try_from(ms / 1000).unwrap_or(0),
			_ => 0,
		};
		self.created.lock().await.insert(id, secs);
		secs
	}

	/// The model a request names: its listed id, its chain id, `name@id`, or a unique name.
	pub async fn resolve(&self, model: &str) -> Result<ModelEntry, ApiErr> {
		let list = self.models().await?;
		let found = list
			.iter()
			.find(|m| m.openai_id == model)
			.or_else(|| model.parse::<u64>().ok().and_then(|id| list.iter().find(|m| m.id == id)))
			.or_else(|| {
				let (name, id) = model.rsplit_once('@')?;
				let id = id.parse::<u64>().ok()?;
				list.iter().find(|m| m.id == id && m.name == name)
			});
		found.cloned().ok_or_else(|| ApiErr::model_not_found(model))
	}

	/// The model's registered tokenizer from the model store; `None` when the store does not
	/// hold it (or holds a different file).
	pub(crate) async fn tokenizer(&self, model: &ModelEntry) -> Option<Arc<tokenizers::Tokenizer>> {
		let mut cache = self.tokenizers.lock().await;
		cache
			.entry(model.weights_hash.clone())
			.or_insert_with(|| {
				let stem = model.weights_hash.trim_start_matches("0x");
				let path = self.config.model_store().join(format!("{stem}.tokenizer.json"));
				let bytes = std::fs::read(&path).ok()?;
				let hash = format!("0x{}", hex::encode(blake2_256(&bytes)));
				if hash != model.tokenizer_hash {
					log::warn!("{} does not hash to the registered tokenizer", path.display());
					return None;
				}
				tokenizers::Tokenizer::from_bytes(&bytes).ok().map(Arc::new)
			})
			.clone()
	}

	/// Tokens of `inputs` with the model's registered tokenizer; `None` without the tokenizer.
	pub(crate) async fn count_tokens(&self, model: &ModelEntry, inputs: &[String]) -> Option<u32> {
		let tokenizer = self.tokenizer(model).await?;
		let mut total = 0u32;
		for input in inputs {
			// The attention mask, not the length: the tokenizer may pad every input to its
			// padding length.
			let encoding = tokenizer.encode(input.as_str(), true).ok()?;
			let n = encoding.get_attention_mask().iter().filter(|m| **m != 0).count();
			total = total.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
		}
		Some(total)
	}
}

/// The router.
pub fn router(gateway: Arc<Gateway>) -> Router {
	Router::new()
		.route("/health", get(health))
		.route("/v1/models", get(list_models))
		.route("/v1/models/{*model}", get(retrieve_model))
		.route("/v1/embeddings", post(embeddings))
		.route("/v1/chat/completions", post(crate::generate::chat_completions))
		.route("/v1/completions", post(crate::generate::completions))
		.fallback(|| async {
			ApiErr::new(StatusCode::NOT_FOUND, "invalid_request_error", "Unknown endpoint")
				.code("unknown_url")
		})
		.with_state(gateway)
}

async fn health(State(gw): State<Arc<Gateway>>) -> Response {
	if gw.chain.healthy().await {
		Json(json!({"chain": "ok"})).into_response()
	} else {
		ApiErr::unavailable("the chain is unreachable").code("chain_unreachable").into_response()
	}
}

fn model_json(m: &ModelEntry) -> Value {
	let model = Model {
		id: m.openai_id.clone(),
		object: "model".into(),
		created: m.created,
		owned_by: m.owner.clone(),
		shutdown_date: None,
	};
	let mut v = serde_json::to_value(model).unwrap_or(Value::Null);
	v["infera"] = json!({
		"model": m.id,
		"name": m.name,
		"kind": m.kind,
		"dimensions": m.dimensions,
		"architecture": m.raw["architecture"],
		"weightsHash": m.weights_hash,
		"license": m.raw["license"],
		"royalty": m.raw["royalty"],
		"verifiable": m.raw["verifiable"],
	});
	v
}

async fn list_models(
	State(gw): State<Arc<Gateway>>,
	headers: HeaderMap,
) -> Result<Response, ApiErr> {
	gw.authorise(&headers)?;
	let list = gw.models().await?;
	let body = ListModelResponse { object: "list".into(), data: Vec::new() };
	let mut v = serde_json::to_value(body).unwrap_or(Value::Null);
	v["data"] = Value::Array(list.iter().map(model_json).collect());
	Ok(Json(v).into_response())
}

async fn retrieve_model(
	State(gw): State<Arc<Gateway>>,
	headers: HeaderMap,
	Path(model): Path<String>,
) -> Result<Response, ApiErr> {
	gw.authorise(&headers)?;
	let m = gw.resolve(&model).await?;
	Ok(Json(model_json(&m)).into_response())
}

/// What the chain said about one finished job.
#[derive(Debug)]
pub(crate) struct Done {
	pub(crate) job: u64,
	pub(crate) status: String,
	pub(crate) verdict: Value,
	pub(crate) audited: bool,
	pub(crate) price: Value,
	pub(crate) output_hash: String,
	pub(crate) output: Value,
}

/// Waits until job `id` meets `wait_for`; a refund is an error.
pub(crate) async fn wait_job(chain: &Chain, id: u64, wait_for: WaitFor) -> Result<Done, ApiErr> {
	let reached = |v: &Value| match (wait_for, v["status"].as_str()) {
		(WaitFor::Settled, Some(s)) => s == "Settled",
		(_, Some(s)) => s == "Verified" || s == "Settled",
		_ => false,
	};
	let refunded = |v: &Value| -> Option<ApiErr> {
		(v["status"].as_str() == Some("Refunded")).then(|| {
			ApiErr::upstream(format!(
				"job {id} was refunded ({}): the escrow went back to the key's account",
				v["refundReason"].as_str().unwrap_or("no reason given")
			))
			.code("job_refunded")
		})
	};
	let mut output = Value::Null;
	let mut last = Value::Null;
	let mut sub = chain.subscribe_job(id).await?;
	while let Some(update) = sub.next().await {
		let v = update.map_err(|e| ApiErr::upstream(format!("job {id}: {e}")))?;
		if !v["output"].is_null() {
			output = v["output"].clone();
		}
		if let Some(e) = refunded(&v) {
			return Err(e);
		}
		let done = reached(&v);
		last = v;
		if done {
			break;
		}
	}
	let _ = sub.unsubscribe().await;
	if !reached(&last) {
		// The subscription ended early (the node restarted): read the job until it is done.
		loop {
			let v = chain.job(id, None).await?.unwrap_or(Value::Null);
			if !v["output"].is_null() {
				output = v["output"].clone();
			}
			if let Some(e) = refunded(&v) {
				return Err(e);
			}
			if reached(&v) {
				last = v;
				break;
			}
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	}
	if wait_for == WaitFor::Finalised {
		loop {
			let head = chain.finalized_head().await?;
			if let Some(v) = chain.job(id, Some(head)).await? {
				if reached(&v) {
					last = v;
					break;
				}
			}
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	}
	if output.is_null() {
		return Err(ApiErr::upstream(format!("job {id} is {} without an output", last["status"])));
	}
	Ok(Done {
		job: id,
		status: last["status"].as_str().unwrap_or_default().to_string(),
		verdict: last["verdict"].clone(),
		audited: last["audited"].as_bool().unwrap_or(false),
		price: last["price"].clone(),
		output_hash: output["hash"].as_str().unwrap_or_default().to_string(),
		output,
	})
}

/// The texts of an embeddings request.
fn texts(input: EmbeddingInput) -> Result<Vec<String>, ApiErr> {
	let texts = match input {
		EmbeddingInput::String(s) => vec![s],
		EmbeddingInput::StringArray(v) => v,
		EmbeddingInput::IntegerArray(_) | EmbeddingInput::ArrayOfIntegerArray(_) => {
			return Err(ApiErr::invalid(
				"Token arrays are not accepted: send text (the model's own tokenizer runs on chain)",
			)
			.param("input"))
		}
	};
	if texts.is_empty() {
		return Err(ApiErr::invalid("`input` is empty").param("input"));
	}
	if texts.len() > MAX_INPUTS {
		return Err(ApiErr::invalid(format!(
			"`input` has {} items; at most {MAX_INPUTS} per request",
			texts.len()
		))
		.param("input"));
	}
	if let Some(i) = texts.iter().position(|t| t.is_empty()) {
		return Err(ApiErr::invalid(format!("input[{i}] is empty")).param("input"));
	}
	Ok(texts)
}

/// Checks, prices, signs and submits one job per text; returns the job ids once a block holds
/// them, and the block.
pub(crate) async fn submit_jobs(
	gw: &Gateway,
	delegate: &(Delegate, Mutex<(Balance, Balance)>),
	model: &ModelEntry,
	texts: &[String],
	started: Instant,
) -> Result<(Vec<u64>, infera_runtime::Hash, u128), ApiErr> {
	let (delegate, in_pool) = delegate;
	let mut max_fees: Vec<Balance> = Vec::with_capacity(texts.len());
	for (i, text) in texts.iter().enumerate() {
		let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
		let estimate = gw.chain.estimate_fee(model.id, len).await?.map_err(|message| {
			let e = ApiErr::invalid(format!("input[{i}]: {message}")).param("input");
			if message.contains("over the limit") {
				e.code("context_length_exceeded")
			} else {
				e
			}
		})?;
		if estimate.providers == 0 {
			return Err(ApiErr::unavailable(format!(
				"no provider serves `{}` now; nothing was charged",
				model.openai_id
			))
			.code("model_not_available"));
		}
		max_fees.push(estimate.min_max_fee.max(estimate.price));
	}
	let best = gw.chain.best_number().await?;
	let deadline = best.saturating_add(gw.config.deadline_blocks);
	// One extrinsic, one escrow hold: every input escrows the largest input's fee (what a job
	// does not spend comes back).
	let max_fee = max_fees.iter().copied().max().unwrap_or(0);
	let inputs: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
	let count = u128::try_from(inputs.len()).unwrap_or(u128::MAX);
	let escrow = max_fee.saturating_mul(count);
	let call = match &delegate.payer {
		Some(payer) => RuntimeCall::Budgets(pallet_budgets::Call::submit_jobs {
			payer: payer.clone(),
			model: infera_primitives::ModelId(model.id),
			inputs,
			max_fee,
			deadline,
		}),
		None => RuntimeCall::JobEscrow(pallet_job_escrow::Call::submit_jobs {
			model: infera_primitives::ModelId(model.id),
			inputs,
			max_fee,
			deadline,
		}),
	};
	// One signer at a time per key: the nonce is read, the transaction signed and pooled. The
	// key's earlier transactions still in the pool count against its balance (and budget) too,
	// so concurrent requests cannot together promise more than there is (the pool checks only
	// fees).
	let (pending, promised) = {
		let mut in_pool = in_pool.lock().await;
		let xt = gw.chain.sign(&delegate.pair, call).await?;
		let fee = gw.chain.transaction_fee(&xt).await?;
		let free = gw.chain.free_balance(&delegate.account).await?;
		let ed = infera_runtime::EXISTENTIAL_DEPOSIT;
		match &delegate.payer {
			None => {
				let cost = escrow.saturating_add(fee);
				let needed = cost.saturating_add(ed);
				if free < needed.saturating_add(in_pool.0).saturating_add(in_pool.1) {
					return Err(ApiErr::quota(format!(
						"the key's account holds {free} planck, {} of it promised to its \
						 transactions in the pool; this request needs {needed} (escrow {escrow}, \
						 transaction fee {fee}, existential deposit); nothing was charged",
						in_pool.0.saturating_add(in_pool.1)
					)));
				}
			}
			Some(payer) => {
				if free < fee.saturating_add(ed).saturating_add(in_pool.1) {
					return Err(ApiErr::quota(format!(
						"the key's account holds {free} planck for transaction fees; this request's \
						 fee is {fee} (and the account keeps the existential deposit); nothing was \
						 charged"
					)));
				}
				check_budget(gw, payer, &delegate.account, max_fee, escrow, in_pool.0, best)
					.await?;
			}
		}
		// What the key's transaction may still take: escrow (from its account or its payer's
		// budget) and the fee (from its account).
		let promised = (escrow, fee);
		let pending = gw.chain.submit(xt).await?;
		in_pool.0 = in_pool.0.saturating_add(promised.0);
		in_pool.1 = in_pool.1.saturating_add(promised.1);
		(pending, promised)
	};
	let pooled_ms = started.elapsed().as_millis();
	let included = gw.chain.included(pending).await;
	// In a block (its escrow now held, its fee paid) or gone: no longer promised.
	{
		let mut in_pool = in_pool.lock().await;
		in_pool.0 = in_pool.0.saturating_sub(promised.0);
		in_pool.1 = in_pool.1.saturating_sub(promised.1);
	}
	let included = included?;
	let mut jobs = Vec::new();
	for event in &included.events {
		match event {
			RuntimeEvent::JobEscrow(pallet_job_escrow::Event::JobSubmitted { job, .. }) => {
				jobs.push(job.0)
			}
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error, ..
			}) => return Err(ChainError::Failed(describe(dispatch_error)).into()),
			_ => {}
		}
	}
	if jobs.len() != texts.len() {
		return Err(ApiErr::upstream(format!(
			"{} inputs but {} jobs submitted in {:?}",
			texts.len(),
			jobs.len(),
			included.block
		)));
	}
	Ok((jobs, included.block, pooled_ms))
}

/// Whether `payer`'s budget and `delegate`'s allowance cover `escrow` more (jobs of `max_fee`
/// each) on top of `in_pool` already promised, at block `now`: as the runtime will check, so a
/// request it would refuse is refused here, before anything is signed. Over the per-period limit
/// is a 429 (it passes with the period); everything else a 402.
async fn check_budget(
	gw: &Gateway,
	payer: &infera_runtime::AccountId,
	delegate: &infera_runtime::AccountId,
	max_fee: Balance,
	escrow: Balance,
	in_pool: Balance,
	now: u32,
) -> Result<(), ApiErr> {
	let Some(allowance) = gw.chain.allowance(payer, delegate).await? else {
		return Err(ApiErr::quota(format!(
			"the key's account is not a delegate of {payer}'s budget (never authorised, or \
			 revoked); nothing was charged"
		)));
	};
	let limits = allowance.limits;
	// The next block is the one that includes the transaction.
	let at = now.saturating_add(1);
	if limits.expires_at.is_some_and(|last| at > last) {
		return Err(ApiErr::quota("the key's authorisation has expired; nothing was charged"));
	}
	if max_fee > limits.per_job {
		return Err(ApiErr::quota(format!(
			"a job of this request escrows {max_fee} planck, over the key's per-job limit of {}; \
			 nothing was charged",
			limits.per_job
		)));
	}
	let wanted = escrow.saturating_add(in_pool);
	let period_spent =
		if limits.period > 0 && at.saturating_sub(allowance.period_start) >= limits.period {
			0
		} else {
			allowance.spent_in_period
		};
	if allowance.spent.saturating_add(wanted) > limits.total {
		return Err(ApiErr::quota(format!(
			"the key has spent {} of its total limit of {} planck; this request needs {escrow}; \
			 nothing was charged",
			allowance.spent, limits.total
		)));
	}
	if period_spent.saturating_add(wanted) > limits.per_period {
		return Err(ApiErr::busy(format!(
			"the key has spent {period_spent} of its {} planck per {} blocks; this request needs \
			 {escrow}: retry in the next period (nothing was charged)",
			limits.per_period, limits.period
		)));
	}
	let balance = gw.chain.budget(payer).await?.map_or(0, |b| b.balance);
	if balance < wanted {
		return Err(ApiErr::quota(format!(
			"{payer}'s budget holds {balance} planck, {in_pool} of it promised to the key's \
			 transactions in the pool; this request needs {escrow}; nothing was charged"
		)));
	}
	Ok(())
}

/// A dispatch error with the pallet error's name where the gateway knows the pallet.
fn describe(e: &sp_runtime::DispatchError) -> String {
	use codec::Decode;
	if let sp_runtime::DispatchError::Module(m) = e {
		let escrow =
			<infera_runtime::JobEscrow as frame_support::traits::PalletInfoAccess>::index();
		if escrow == usize::from(m.index) {
			if let Ok(err) =
				pallet_job_escrow::Error::<infera_runtime::Runtime>::decode(&mut &m.error[..])
			{
				return format!("JobEscrow::{err:?}");
			}
		}
		let budgets = <infera_runtime::Budgets as frame_support::traits::PalletInfoAccess>::index();
		if budgets == usize::from(m.index) {
			if let Ok(err) =
				pallet_budgets::Error::<infera_runtime::Runtime>::decode(&mut &m.error[..])
			{
				return format!("Budgets::{err:?}");
			}
		}
	}
	format!("{e:?}")
}

async fn embeddings(
	State(gw): State<Arc<Gateway>>,
	headers: HeaderMap,
	body: Bytes,
) -> Result<Response, ApiErr> {
	let started = Instant::now();
	let delegate = gw.authorise(&headers)?;
	let request: CreateEmbeddingRequest = serde_json::from_slice(&body).map_err(|e| {
		ApiErr::invalid(format!("The request body is not a valid embeddings request: {e}"))
	})?;
	let model = gw.resolve(&request.model).await?;
	if model.kind != "text-embedding" {
		return Err(ApiErr::invalid(format!(
			"`{}` is a {} model, not an embedding model",
			model.openai_id, model.kind
		))
		.param("model"));
	}
	if let (Some(asked), Some(has)) = (request.dimensions, model.dimensions) {
		if u64::from(asked) != has {
			return Err(ApiErr::invalid(format!(
				"`{}` gives {has} dimensions; `dimensions` cannot change that",
				model.openai_id
			))
			.param("dimensions"));
		}
	}
	let texts = texts(request.input)?;
	// Room to follow every job of the request, taken before anything is signed and held until
	// the answer.
	let _permits = u32::try_from(texts.len())
		.ok()
		.and_then(|n| gw.in_flight.clone().try_acquire_many_owned(n).ok())
		.ok_or_else(|| {
			ApiErr::busy(format!(
				"the gateway is following {} jobs already; retry shortly (nothing was charged)",
				gw.config.max_jobs_in_flight
			))
		})?;
	let (jobs, block, pooled_ms) = submit_jobs(&gw, delegate, &model, &texts, started).await?;
	let included_ms = started.elapsed().as_millis();
	log::info!(
		"{}: {} embedding jobs of model {} in block {block:?}: {jobs:?}",
		delegate.0.name,
		jobs.len(),
		model.id
	);
	let timeout = Duration::from_secs(gw.config.timeout_secs);
	let waits = jobs.iter().map(|j| wait_job(&gw.chain, *j, gw.config.wait_for));
	let done = match tokio::time::timeout(timeout, futures::future::try_join_all(waits)).await {
		Ok(r) => r?,
		Err(_) => {
			return Err(ApiErr::new(
				StatusCode::GATEWAY_TIMEOUT,
				"timeout",
				format!(
					"jobs {jobs:?} were submitted but not {:?} within {} s; they go on (see \
					 infera_job)",
					gw.config.wait_for, gw.config.timeout_secs
				),
			)
			.code("jobs_pending"))
		}
	};
	let mut vectors = Vec::with_capacity(done.len());
	for d in &done {
		if let Some(reason) = d.output["refused"].as_str() {
			return Err(ApiErr::invalid(format!(
				"job {}: the model could not run the input ({reason}); the refusal was verified \
				 and the attempt paid",
				d.job
			))
			.param("input")
			.code("input_refused"));
		}
		let v: Vec<f32> = d.output["embedding"]
			.as_array()
			.map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect())
			.ok_or_else(|| {
				ApiErr::upstream(format!("job {}: the output is not an embedding", d.job))
			})?;
		vectors.push(v);
	}
	let tokens = gw.count_tokens(&model, &texts).await;
	let usage =
		EmbeddingUsage { prompt_tokens: tokens.unwrap_or(0), total_tokens: tokens.unwrap_or(0) };
	let format = request.encoding_format.unwrap_or_default();
	let mut body = match format {
		EncodingFormat::Float => serde_json::to_value(CreateEmbeddingResponse {
			object: "list".into(),
			model: model.openai_id.clone(),
			data: vectors
				.into_iter()
				.zip(0u32..)
				.map(|(embedding, index)| Embedding {
					index,
					object: "embedding".into(),
					embedding,
				})
				.collect(),
			usage,
		}),
		EncodingFormat::Base64 => serde_json::to_value(CreateBase64EmbeddingResponse {
			object: "list".into(),
			model: model.openai_id.clone(),
			data: vectors
				.into_iter()
				.zip(0u32..)
				.map(|(v, index)| {
					let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
					Base64Embedding {
						index,
						object: "embedding".into(),
						embedding: Base64EmbeddingVector(
							base64::engine::general_purpose::STANDARD.encode(bytes),
						),
					}
				})
				.collect(),
			usage,
		}),
	}
	.map_err(|e| ApiErr::upstream(e.to_string()))?;
	if let Some(data) = body["data"].as_array_mut() {
		for (item, d) in data.iter_mut().zip(&done) {
			item["infera"] = json!({
				"job": d.job,
				"status": d.status,
				"verdict": d.verdict,
				"audited": d.audited,
				"outputHash": d.output_hash,
				"price": d.price,
			});
		}
	}
	body["infera"] = json!({
		"jobs": jobs,
		"block": format!("{block:?}"),
		"waitFor": format!("{:?}", gw.config.wait_for),
		"account": delegate.0.account.to_string(),
		"tokensCounted": tokens.is_some(),
		// Milliseconds from the request's arrival: checked, signed and in the pool; in a block;
		// answered.
		"timings": {"pooledMs": pooled_ms, "inBlockMs": included_ms, "totalMs": started.elapsed().as_millis()},
	});
	log::info!(
		"{}: jobs {jobs:?} {:?} in {} ms (pooled after {pooled_ms} ms, in a block after \
		 {included_ms} ms)",
		delegate.0.name,
		gw.config.wait_for,
		started.elapsed().as_millis()
	);
	let mut response = Json(body).into_response();
	let ids = jobs.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
	if let Ok(v) = HeaderValue::from_str(&ids) {
		response.headers_mut().insert("x-infera-jobs", v);
	}
	Ok(response)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
	use super::*;

	#[test]
	fn errors_have_openai_shape() {
		let r = ApiErr::model_not_found("nope").into_response();
		assert_eq!(r.status(), StatusCode::NOT_FOUND);
		let e = ApiErr::quota("x");
		assert_eq!(e.status(), StatusCode::PAYMENT_REQUIRED);
		let body = serde_json::to_value(WrappedError {
			error: ApiError {
				message: "m".into(),
				r#type: Some("t".into()),
				param: None,
				code: Some("c".into()),
				misalignment: None,
			},
		})
		.unwrap();
		assert_eq!(
			body,
			json!({"error": {"message": "m", "type": "t", "param": null, "code": "c"}})
		);
	}

	#[test]
	fn inputs_are_checked_before_anything_is_signed() {
		assert_eq!(texts(EmbeddingInput::String("a".into())).unwrap(), vec!["a"]);
		assert!(texts(EmbeddingInput::StringArray(vec![])).is_err());
		assert!(texts(EmbeddingInput::StringArray(vec!["a".into(), String::new()])).is_err());
		assert!(texts(EmbeddingInput::IntegerArray(vec![1, 2])).is_err());
		let many = vec!["x".to_string(); MAX_INPUTS + 1];
		assert_eq!(
			texts(EmbeddingInput::StringArray(many)).unwrap_err().status(),
			StatusCode::BAD_REQUEST
		);
	}
}
