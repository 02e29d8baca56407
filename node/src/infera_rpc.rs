//! `infera_*` JSON-RPC: the `InferaApi` runtime API in JSON a dApp reads without type
//! definitions (accounts in SS58, balances as decimal strings, embeddings as floats).

use codec::Decode;
use futures::{FutureExt, StreamExt};
use infera_primitives::{canonical::CanonicalOutput, JobId, ModelId, EMBEDDING_SCALE};
use infera_runtime::{
	infera_api::{FeeEstimateError, InferaApi, JobDetails, JobStatus, Party, RefundReason},
	opaque::Block,
	AccountId,
};
use jsonrpsee::{
	core::{async_trait, RpcResult, SubscriptionResult},
	proc_macros::rpc,
	types::ErrorObjectOwned,
	PendingSubscriptionSink, SubscriptionMessage,
};
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::Ss58Codec;
use sp_runtime::traits::Block as BlockT;
use std::sync::Arc;

type Hash = <Block as BlockT>::Hash;

/// Error codes of the `infera_*` methods.
pub mod codes {
	/// The job, model or provider does not exist.
	pub const NOT_FOUND: i32 = 4004;
	/// The request is valid JSON-RPC but the chain rejects it (e.g. an inactive model).
	pub const REJECTED: i32 = 4000;
	/// The runtime could not answer.
	pub const RUNTIME: i32 = 5000;
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

/// The `infera_*` methods.
#[rpc(server)]
pub trait InferaRpc {
	/// A job: status (with the refund reason), parties, fees, the revealed output and, once it
	/// ended, its receipt.
	#[method(name = "infera_job")]
	fn job(&self, job: u64, at: Option<Hash>) -> RpcResult<Value>;

	/// Job ids of a client, ascending, after `start_after`, at most `limit` (≤ 100, default 100).
	#[method(name = "infera_jobsByClient")]
	fn jobs_by_client(
		&self,
		client: AccountId,
		start_after: Option<u64>,
		limit: Option<u32>,
	) -> RpcResult<Vec<u64>>;

	/// Job ids assigned to a provider, ascending, paged like `infera_jobsByClient`.
	#[method(name = "infera_jobsByProvider")]
	fn jobs_by_provider(
		&self,
		provider: AccountId,
		start_after: Option<u64>,
		limit: Option<u32>,
	) -> RpcResult<Vec<u64>>;

	/// A registered model with its files, architecture, tolerance, royalty and lineage.
	#[method(name = "infera_model")]
	fn model(&self, model: u64, at: Option<Hash>) -> RpcResult<Value>;

	/// A provider: bond, unbonding, hardware, models, reputation and status.
	#[method(name = "infera_provider")]
	fn provider(&self, provider: AccountId, at: Option<Hash>) -> RpcResult<Value>;

	/// What a job for `model` with an input of `input_len` bytes costs now.
	#[method(name = "infera_estimateFee")]
	fn estimate_fee(&self, model: u64, input_len: u32) -> RpcResult<Value>;

	/// Streams a job (as `infera_job` returns it) each time its status or a party's progress
	/// changes on the best chain, and ends after it is settled or refunded.
	#[subscription(name = "infera_subscribeJob" => "infera_jobUpdate", unsubscribe = "infera_unsubscribeJob", item = Value)]
	async fn subscribe_job(&self, job: u64) -> SubscriptionResult;
}

/// The server side.
pub struct Infera<C> {
	client: Arc<C>,
}

impl<C> Infera<C> {
	/// Over `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

fn ss58(who: &AccountId) -> String {
	who.to_ss58check()
}

fn balance(v: u128) -> Value {
	Value::String(v.to_string())
}

fn status_name(s: &JobStatus) -> &'static str {
	match s {
		JobStatus::Queued => "Queued",
		JobStatus::Assigned => "Assigned",
		JobStatus::Committed => "Committed",
		JobStatus::Auditing => "Auditing",
		JobStatus::Revealing { .. } => "Revealing",
		JobStatus::Verified => "Verified",
		JobStatus::Settled => "Settled",
		JobStatus::Refunded { .. } => "Refunded",
	}
}

fn reason_of(s: &JobStatus) -> Option<RefundReason> {
	match s {
		JobStatus::Refunded { reason } => Some(*reason),
		_ => None,
	}
}

fn party(p: &Party<AccountId>) -> Value {
	json!({
		"account": ss58(&p.who),
		"committed": p.commitment.is_some(),
		"revealed": p.output_hash.is_some(),
		"outputHash": p.output_hash.map(|h| format!("{h:?}")),
	})
}

/// The revealed output: hex, and decoded when it is canonical.
fn output(bytes: &[u8]) -> Value {
	let hash = infera_engine::blake2_256(bytes);
	let mut out = json!({
		"hex": format!("0x{}", hex::encode(bytes)),
		"hash": format!("0x{}", hex::encode(hash)),
	});
	match CanonicalOutput::decode(&mut &bytes[..]) {
		Ok(CanonicalOutput::Embedding(q)) => {
			let scale = EMBEDDING_SCALE as f32;
			out["embedding"] = json!(q.iter().map(|v| f32::from(*v) / scale).collect::<Vec<_>>());
		}
		Ok(CanonicalOutput::Classification { class, logits }) => {
			out["class"] = json!(class);
			out["logits"] = json!(logits);
		}
		Ok(CanonicalOutput::Generation(tokens)) => out["tokens"] = json!(tokens),
		Ok(CanonicalOutput::CheckedGeneration { tokens, near }) => {
			out["tokens"] = json!(tokens);
			out["nearTies"] = json!(near
				.iter()
				.map(|n| json!({"step": n.step, "token": n.token, "gap": n.gap}))
				.collect::<Vec<_>>());
		}
		Ok(CanonicalOutput::Refused(reason)) => out["refused"] = json!(format!("{reason:?}")),
		Err(_) => {}
	}
	out
}

/// `JobDetails` as JSON; `None` when the chain knows nothing of the job.
pub fn job_json(id: u64, d: &JobDetails) -> Option<Value> {
	let receipt = d.receipt.as_ref().map(|r| {
		json!({
			"client": ss58(&r.client),
			"model": r.model.0,
			"weightsHash": format!("{:?}", r.weights_hash),
			"datasetHash": r.dataset_hash.map(|h| format!("{h:?}")),
			"inputHash": format!("{:?}", r.input_hash),
			"outputHash": r.output_hash.map(|h| format!("{h:?}")),
			"provider": r.provider.as_ref().map(ss58),
			"checkers": r.checkers.iter().map(ss58).collect::<Vec<_>>(),
			"verdict": format!("{:?}", r.verdict),
			"status": status_name(&r.status),
			"refundReason": reason_of(&r.status).map(|r| format!("{r:?}")),
			"feePaid": balance(r.fee_paid),
			"finishedAt": r.finished_at,
		})
	});
	let job = match (&d.job, receipt) {
		(None, None) => return None,
		(None, Some(receipt)) => {
			return Some(json!({
				"id": id,
				"status": receipt["status"].clone(),
				"refundReason": receipt["refundReason"].clone(),
				"audited": receipt["checkers"].as_array().is_some_and(|c| !c.is_empty()),
				"pruned": true,
				"receipt": receipt,
			}))
		}
		(Some(job), receipt) => (job, receipt),
	};
	let (job, receipt) = job;
	let input = std::str::from_utf8(&job.input).ok();
	Some(json!({
		"id": id,
		"status": status_name(&job.status),
		"refundReason": reason_of(&job.status).map(|r| format!("{r:?}")),
		"audited": !job.checkers.is_empty(),
		"probe": job.probe,
		"challengeBond": balance(job.challenge_bond),
		"verdict": format!("{:?}", job.verdict),
		"pruned": false,
		"client": ss58(&job.client),
		"model": job.model.0,
		"input": input,
		"inputHash": format!("{:?}", job.input_hash),
		"maxFee": balance(job.max_fee),
		"price": balance(job.price),
		"stakeLocked": balance(job.stake),
		"deadline": job.deadline,
		"submittedAt": job.submitted_at,
		"phaseEndsAt": job.wake_at,
		"provider": job.provider.as_ref().map(party),
		"checkers": job.checkers.iter().map(party).collect::<Vec<_>>(),
		"silentCheckers": job.silent.iter().map(ss58).collect::<Vec<_>>(),
		"noShows": job.no_shows.iter().map(ss58).collect::<Vec<_>>(),
		"output": d.output.as_deref().map(output),
		"receipt": receipt,
	}))
}

/// What changes when a job makes progress (status, commitments, reveals).
fn progress(v: &Value) -> Value {
	json!([v["status"], v["provider"], v["checkers"], v["pruned"]])
}

fn is_final(v: &Value) -> bool {
	matches!(v["status"].as_str(), Some("Settled" | "Refunded"))
}

impl<C> Infera<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: InferaApi<Block>,
{
	fn at(&self, at: Option<Hash>) -> Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}

	fn runtime_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
		error(codes::RUNTIME, format!("the runtime could not answer: {e}"))
	}

	/// A page of job ids from one of the runtime API's index calls.
	fn page(
		&self,
		start_after: Option<u64>,
		limit: Option<u32>,
		call: impl FnOnce(
			&sp_api::ApiRef<'_, C::Api>,
			Hash,
			Option<JobId>,
			u32,
		) -> Result<Vec<JobId>, sp_api::ApiError>,
	) -> RpcResult<Vec<u64>> {
		let api = self.client.runtime_api();
		let ids = call(&api, self.at(None), start_after.map(JobId), limit.unwrap_or(100))
			.map_err(Self::runtime_error)?;
		Ok(ids.into_iter().map(|j| j.0).collect())
	}

	fn job_at(&self, id: u64, at: Hash) -> RpcResult<Value> {
		let details = self.client.runtime_api().job(at, JobId(id)).map_err(Self::runtime_error)?;
		job_json(id, &details).ok_or_else(|| error(codes::NOT_FOUND, format!("job {id} not found")))
	}
}

#[async_trait]
impl<C> InferaRpcServer for Infera<C>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ sc_client_api::BlockchainEvents<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: InferaApi<Block>,
{
	fn job(&self, job: u64, at: Option<Hash>) -> RpcResult<Value> {
		self.job_at(job, self.at(at))
	}

	fn jobs_by_client(
		&self,
		client: AccountId,
		start_after: Option<u64>,
		limit: Option<u32>,
	) -> RpcResult<Vec<u64>> {
		self.page(start_after, limit, |api, at, after, limit| {
			api.jobs_by_client(at, client, after, limit)
		})
	}

	fn jobs_by_provider(
		&self,
		provider: AccountId,
		start_after: Option<u64>,
		limit: Option<u32>,
	) -> RpcResult<Vec<u64>> {
		self.page(start_after, limit, |api, at, after, limit| {
			api.jobs_by_provider(at, provider, after, limit)
		})
	}

	fn model(&self, model: u64, at: Option<Hash>) -> RpcResult<Value> {
		let at = self.at(at);
		let api = self.client.runtime_api();
		let m = api
			.model(at, ModelId(model))
			.map_err(Self::runtime_error)?
			.ok_or_else(|| error(codes::NOT_FOUND, format!("model {model} not found")))?;
		let lineage = api.lineage(at, ModelId(model)).map_err(Self::runtime_error)?;
		let checkers = api.checkers(at, ModelId(model)).map_err(Self::runtime_error)?;
		let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
		Ok(json!({
			"id": model,
			"owner": ss58(&m.owner),
			"name": text(&m.metadata.name),
			"version": text(&m.metadata.version),
			"license": text(&m.metadata.license),
			"datasetHash": m.metadata.dataset_hash.map(|h| format!("{h:?}")),
			"weightsHash": format!("{:?}", m.files.weights_hash),
			"weightsSize": m.files.weights_size,
			"configHash": format!("{:?}", m.files.config_hash),
			"tokenizerHash": format!("{:?}", m.files.tokenizer_hash),
			"architecture": serde_json::to_value(m.architecture).unwrap_or(Value::Null),
			"royalty": format!("{:?}", m.royalty),
			"status": format!("{:?}", m.status),
			"parent": m.parent.map(|p| p.0),
			"lineage": lineage.into_iter().map(|p| p.0).collect::<Vec<_>>(),
			"children": m.children,
			"deposit": balance(m.deposit),
			"registeredAt": m.registered_at,
			"checkers": checkers,
			"verifiable": checkers > 0,
		}))
	}

	fn provider(&self, provider: AccountId, at: Option<Hash>) -> RpcResult<Value> {
		let p = self
			.client
			.runtime_api()
			.provider(self.at(at), provider.clone())
			.map_err(Self::runtime_error)?
			.ok_or_else(|| {
				error(codes::NOT_FOUND, format!("{} is not a provider", ss58(&provider)))
			})?;
		Ok(json!({
			"account": ss58(&provider),
			"bonded": balance(p.bonded),
			"locked": balance(p.locked),
			"unbonding": p.unlocking.iter().map(|c| json!({"value": balance(c.value), "unlockAt": c.unlock_at})).collect::<Vec<_>>(),
			"hardware": format!("{:?}", p.hardware),
			"models": p.models.iter().map(|m| m.0).collect::<Vec<_>>(),
			"reputation": p.reputation,
			"jobsVerified": p.jobs_verified,
			"noShows": p.no_shows,
			"status": format!("{:?}", p.status),
			"registeredAt": p.registered_at,
		}))
	}

	fn estimate_fee(&self, model: u64, input_len: u32) -> RpcResult<Value> {
		let estimate = self
			.client
			.runtime_api()
			.estimate_fee(self.at(None), ModelId(model), input_len)
			.map_err(Self::runtime_error)?
			.map_err(|e| {
				let message = match e {
					FeeEstimateError::ModelNotActive => {
						format!("model {model} is not registered or takes no jobs")
					}
					FeeEstimateError::EmptyInput => "the input is empty".into(),
					FeeEstimateError::InputTooLong { max } => {
						format!("an input of {input_len} bytes is over the limit of {max}")
					}
					FeeEstimateError::Overflow => "the price overflows".into(),
				};
				error(codes::REJECTED, message)
			})?;
		Ok(json!({
			"price": balance(estimate.price),
			"minMaxFee": balance(estimate.min_max_fee),
			"royalty": balance(estimate.royalty),
			"providerStake": balance(estimate.provider_stake),
			"providers": estimate.providers,
			"checkers": estimate.checkers,
			"verifiable": estimate.checkers > 0,
		}))
	}

	async fn subscribe_job(
		&self,
		pending: PendingSubscriptionSink,
		job: u64,
	) -> SubscriptionResult {
		// Listen before reading, so no block between the read and the first notification is lost.
		let mut blocks = self.client.import_notification_stream();
		let first = match self.job_at(job, self.client.info().best_hash) {
			Ok(v) => v,
			Err(e) => {
				pending.reject(e).await;
				return Ok(());
			}
		};
		let sink = pending.accept().await?;
		let mut last = progress(&first);
		let done = is_final(&first);
		sink.send(SubscriptionMessage::from_json(&first)?).await?;
		if done {
			return Ok(());
		}
		loop {
			let notification = futures::select! {
				n = blocks.next() => n,
				_ = Box::pin(sink.closed()).fuse() => return Ok(()),
			};
			let Some(n) = notification else { return Ok(()) };
			if !n.is_new_best {
				continue;
			}
			let v = match self.job_at(job, n.hash) {
				Ok(v) => v,
				Err(_) => continue,
			};
			let now = progress(&v);
			if now != last {
				last = now;
				let done = is_final(&v);
				sink.send(SubscriptionMessage::from_json(&v)?).await?;
				if done {
					return Ok(());
				}
			}
		}
	}
}
