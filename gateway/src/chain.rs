//! The chain, as the gateway uses it: the node's public JSON-RPC (`infera_*`, `author_*`,
//! `state_*`, `chain_*`, `system_*`, `payment_*`) over one WebSocket that is reopened when it
//! drops. Transactions are built from the runtime's own types and signed here.

use codec::{Decode, Encode};
use infera_runtime::{
	AccountId, Balance, Hash, RuntimeCall, RuntimeEvent, SignedPayload, UncheckedExtrinsic,
};
use jsonrpsee::{
	core::client::{ClientT, Error as RpcError, Subscription, SubscriptionClientT},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use serde_json::Value;
use sp_core::{crypto::Ss58Codec, sr25519, Pair as _};
use sp_runtime::{generic::Era, MultiAddress, MultiSignature};
use std::{sync::Arc, time::Duration};
use tokio::sync::Mutex;

/// Error codes of the node's `infera_*` methods (`node/src/infera_rpc.rs`).
pub mod codes {
	/// The job, model or provider does not exist.
	pub const NOT_FOUND: i32 = 4004;
	/// The chain rejects the request (e.g. an inactive model, an input over the limit).
	pub const REJECTED: i32 = 4000;
}

/// What went wrong talking to the chain.
#[derive(Debug)]
pub enum ChainError {
	/// The node cannot be reached or dropped the connection.
	Unreachable(String),
	/// The node answered with an error.
	Rpc { code: i32, message: String },
	/// The transaction pool refused the transaction (nothing was charged).
	Rejected(String),
	/// The transaction was included and failed (its fee was charged).
	Failed(String),
	/// The node answered something the gateway cannot read.
	Unexpected(String),
}

impl std::fmt::Display for ChainError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::Unreachable(m) => write!(f, "the chain is unreachable: {m}"),
			Self::Rpc { code, message } => write!(f, "the node answered {code}: {message}"),
			Self::Rejected(m) => write!(f, "the transaction pool refused the transaction: {m}"),
			Self::Failed(m) => write!(f, "the transaction failed on chain: {m}"),
			Self::Unexpected(m) => write!(f, "unexpected answer from the node: {m}"),
		}
	}
}

impl From<RpcError> for ChainError {
	fn from(e: RpcError) -> Self {
		match e {
			RpcError::Call(o) => Self::Rpc { code: o.code(), message: o.message().to_string() },
			RpcError::ParseError(e) => Self::Unexpected(e.to_string()),
			other => Self::Unreachable(other.to_string()),
		}
	}
}

/// The result of a fee estimate (`infera_estimateFee`).
#[derive(Clone, Debug)]
pub struct FeeEstimate {
	/// What the job costs now.
	pub price: Balance,
	/// The least `max_fee` a submission may name.
	pub min_max_fee: Balance,
	/// Providers serving the model.
	pub providers: u64,
}

/// A transaction in a block, with the events it emitted.
#[derive(Debug)]
pub struct Included {
	/// The block.
	pub block: Hash,
	/// Its events, in order.
	pub events: Vec<RuntimeEvent>,
}

/// A transaction in the pool, watched until a block includes it.
pub struct Pending {
	sub: Subscription<Value>,
	hash: [u8; 32],
}

/// The node connection.
pub struct Chain {
	url: String,
	client: Mutex<Option<Arc<WsClient>>>,
}

fn storage_key(pallet: &str, item: &str) -> Vec<u8> {
	let mut key = sp_io::hashing::twox_128(pallet.as_bytes()).to_vec();
	key.extend_from_slice(&sp_io::hashing::twox_128(item.as_bytes()));
	key
}

fn hex_bytes(v: &Value) -> Result<Vec<u8>, ChainError> {
	let s = v.as_str().ok_or_else(|| ChainError::Unexpected(format!("not hex: {v}")))?;
	hex::decode(s.trim_start_matches("0x")).map_err(|e| ChainError::Unexpected(e.to_string()))
}

fn parse_hash(v: &Value) -> Result<Hash, ChainError> {
	let bytes = hex_bytes(v)?;
	let arr: [u8; 32] =
		bytes.try_into().map_err(|_| ChainError::Unexpected(format!("not a 32-byte hash: {v}")))?;
	Ok(Hash::from(arr))
}

/// A JSON balance (the `infera_*` methods send balances as decimal strings).
pub fn balance_of(v: &Value) -> Option<Balance> {
	match v {
		Value::String(s) => s.parse().ok(),
		Value::Number(n) => n.as_u64().map(Balance::from),
		_ => None,
	}
}

impl Chain {
	/// A connection to `url`, opened on first use.
	pub fn new(url: impl Into<String>) -> Self {
		Self { url: url.into(), client: Mutex::new(None) }
	}

	/// The open client, reconnecting when the last one dropped.
	async fn client(&self) -> Result<Arc<WsClient>, ChainError> {
		let mut slot = self.client.lock().await;
		if let Some(c) = slot.as_ref() {
			if c.is_connected() {
				return Ok(c.clone());
			}
		}
		let c = WsClientBuilder::default()
			.connection_timeout(Duration::from_secs(5))
			.request_timeout(Duration::from_secs(60))
			.build(&self.url)
			.await
			.map_err(|e| ChainError::Unreachable(format!("{}: {e}", self.url)))?;
		let c = Arc::new(c);
		*slot = Some(c.clone());
		Ok(c)
	}

	async fn request<R: serde::de::DeserializeOwned>(
		&self,
		method: &str,
		params: jsonrpsee::core::params::ArrayParams,
	) -> Result<R, ChainError> {
		let client = self.client().await?;
		Ok(client.request(method, params).await?)
	}

	/// Whether the node answers (`system_health`).
	pub async fn healthy(&self) -> bool {
		self.request::<Value>("system_health", rpc_params![]).await.is_ok()
	}

	/// A model as `infera_model` describes it; `None` when there is none with this id.
	pub async fn model(&self, id: u64) -> Result<Option<Value>, ChainError> {
		match self.request::<Value>("infera_model", rpc_params![id]).await {
			Ok(v) => Ok(Some(v)),
			Err(ChainError::Rpc { code: codes::NOT_FOUND, .. }) => Ok(None),
			Err(e) => Err(e),
		}
	}

	/// The next model id the registry will give out (every id below it was given out once).
	pub async fn next_model_id(&self) -> Result<u64, ChainError> {
		let key = storage_key("ModelRegistry", "NextModelId");
		let v: Option<String> = self
			.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key))])
			.await?;
		let Some(v) = v else { return Ok(0) };
		let bytes = hex_bytes(&Value::String(v))?;
		u64::decode(&mut &bytes[..]).map_err(|e| ChainError::Unexpected(e.to_string()))
	}

	/// The timestamp (ms) of block `number`, when the node still has it.
	pub async fn block_time_ms(&self, number: u64) -> Result<Option<u64>, ChainError> {
		let hash: Option<Value> = self.request("chain_getBlockHash", rpc_params![number]).await?;
		let Some(hash) = hash.filter(|h| !h.is_null()) else { return Ok(None) };
		let key = storage_key("Timestamp", "Now");
		let v: Option<String> = self
			.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key)), hash])
			.await?;
		let Some(v) = v else { return Ok(None) };
		let bytes = hex_bytes(&Value::String(v))?;
		Ok(u64::decode(&mut &bytes[..]).ok())
	}

	/// What one job of `len` input bytes costs now; `Ok(Err(message))` when the chain would
	/// reject it (unknown or inactive model, empty input, input over the limit).
	pub async fn estimate_fee(
		&self,
		model: u64,
		len: u32,
	) -> Result<Result<FeeEstimate, String>, ChainError> {
		let v: Value = match self.request("infera_estimateFee", rpc_params![model, len]).await {
			Ok(v) => v,
			Err(ChainError::Rpc { code: codes::REJECTED | codes::NOT_FOUND, message }) => {
				return Ok(Err(message))
			}
			Err(e) => return Err(e),
		};
		let field = |name: &str| {
			balance_of(&v[name])
				.ok_or_else(|| ChainError::Unexpected(format!("estimateFee without {name}: {v}")))
		};
		Ok(Ok(FeeEstimate {
			price: field("price")?,
			min_max_fee: field("minMaxFee")?,
			providers: v["providers"].as_u64().unwrap_or(0),
		}))
	}

	/// The free balance of `who` (0 when the account does not exist).
	pub async fn free_balance(&self, who: &AccountId) -> Result<Balance, ChainError> {
		let mut key = storage_key("System", "Account");
		key.extend_from_slice(&sp_io::hashing::blake2_128(who.as_ref()));
		key.extend_from_slice(who.as_ref());
		let v: Option<String> = self
			.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key))])
			.await?;
		let Some(v) = v else { return Ok(0) };
		let bytes = hex_bytes(&Value::String(v))?;
		let info = frame_system::AccountInfo::<
			infera_runtime::Nonce,
			pallet_balances::AccountData<Balance>,
		>::decode(&mut &bytes[..])
		.map_err(|e| ChainError::Unexpected(format!("account: {e}")))?;
		Ok(info.data.free)
	}

	/// Raw storage at `key` in the best block.
	async fn storage(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>, ChainError> {
		let v: Option<String> = self
			.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key))])
			.await?;
		v.map(|v| hex_bytes(&Value::String(v))).transpose()
	}

	/// `payer`'s budget (pallet-budgets), if it has one.
	pub async fn budget(
		&self,
		payer: &AccountId,
	) -> Result<Option<pallet_budgets::Budget<Balance>>, ChainError> {
		let mut key = storage_key("Budgets", "PayerBudgets");
		key.extend_from_slice(&sp_io::hashing::blake2_128(payer.as_ref()));
		key.extend_from_slice(payer.as_ref());
		self.storage(key)
			.await?
			.map(|b| {
				pallet_budgets::Budget::<Balance>::decode(&mut &b[..])
					.map_err(|e| ChainError::Unexpected(format!("budget: {e}")))
			})
			.transpose()
	}

	/// What `delegate` may still spend of `payer`'s budget, if it is authorised.
	pub async fn allowance(
		&self,
		payer: &AccountId,
		delegate: &AccountId,
	) -> Result<Option<pallet_budgets::Allowance<Balance, u32>>, ChainError> {
		let mut key = storage_key("Budgets", "Allowances");
		for who in [payer, delegate] {
			key.extend_from_slice(&sp_io::hashing::blake2_128(who.as_ref()));
			key.extend_from_slice(who.as_ref());
		}
		self.storage(key)
			.await?
			.map(|b| {
				pallet_budgets::Allowance::<Balance, u32>::decode(&mut &b[..])
					.map_err(|e| ChainError::Unexpected(format!("allowance: {e}")))
			})
			.transpose()
	}

	/// A job as `infera_job` describes it at `at` (default: the best block).
	pub async fn job(&self, id: u64, at: Option<Hash>) -> Result<Option<Value>, ChainError> {
		match self.request::<Value>("infera_job", rpc_params![id, at]).await {
			Ok(v) => Ok(Some(v)),
			Err(ChainError::Rpc { code: codes::NOT_FOUND, .. }) => Ok(None),
			Err(e) => Err(e),
		}
	}

	/// The job's progress, one JSON object per change, until it is settled or refunded.
	pub async fn subscribe_job(&self, id: u64) -> Result<Subscription<Value>, ChainError> {
		let client = self.client().await?;
		Ok(client
			.subscribe("infera_subscribeJob", rpc_params![id], "infera_unsubscribeJob")
			.await?)
	}

	/// The last finalised block.
	pub async fn finalized_head(&self) -> Result<Hash, ChainError> {
		let v: Value = self.request("chain_getFinalizedHead", rpc_params![]).await?;
		parse_hash(&v)
	}

	/// The best block's number.
	pub async fn best_number(&self) -> Result<u32, ChainError> {
		let header: Value = self.request("chain_getHeader", rpc_params![]).await?;
		let n = header["number"]
			.as_str()
			.and_then(|s| u32::from_str_radix(s.trim_start_matches("0x"), 16).ok())
			.ok_or_else(|| ChainError::Unexpected(format!("header: {header}")))?;
		Ok(n)
	}

	/// Signs `call` as `pair` (nonce from the pool, a mortal era of 64 blocks).
	pub async fn sign(
		&self,
		pair: &sr25519::Pair,
		call: RuntimeCall,
	) -> Result<Vec<u8>, ChainError> {
		let account = AccountId::from(pair.public());
		let nonce: u32 =
			self.request("system_accountNextIndex", rpc_params![account.to_ss58check()]).await?;
		let version: Value = self.request("state_getRuntimeVersion", rpc_params![]).await?;
		let spec = version["specVersion"].as_u64().and_then(|v| u32::try_from(v).ok());
		let tx = version["transactionVersion"].as_u64().and_then(|v| u32::try_from(v).ok());
		let (Some(spec), Some(tx)) = (spec, tx) else {
			return Err(ChainError::Unexpected(format!("runtime version: {version}")));
		};
		let genesis: Value = self.request("chain_getBlockHash", rpc_params![0]).await?;
		let genesis = parse_hash(&genesis)?;
		let best = self.best_number().await?;
		let era = Era::mortal(64, u64::from(best));
		let birth = era.birth(u64::from(best));
		let birth_hash: Value = self.request("chain_getBlockHash", rpc_params![birth]).await?;
		let birth_hash = parse_hash(&birth_hash)?;
		let ext = infera_runtime::tx_extension(era, nonce);
		let implicit = ((), (), spec, tx, genesis, birth_hash, (), (), (), None, ());
		let payload = SignedPayload::from_raw(call.clone(), ext.clone(), implicit);
		let signature = payload.using_encoded(|p| pair.sign(p));
		let xt = UncheckedExtrinsic::new_signed(
			call,
			MultiAddress::Id(account),
			MultiSignature::Sr25519(signature),
			ext,
		);
		Ok(xt.encode())
	}

	/// The fee the transaction `xt` would pay (`payment_queryInfo`).
	pub async fn transaction_fee(&self, xt: &[u8]) -> Result<Balance, ChainError> {
		let v: Value = self
			.request("payment_queryInfo", rpc_params![format!("0x{}", hex::encode(xt))])
			.await?;
		balance_of(&v["partialFee"])
			.ok_or_else(|| ChainError::Unexpected(format!("queryInfo without partialFee: {v}")))
	}

	/// Sends a signed transaction; returns once the pool has accepted it (so the next
	/// `system_accountNextIndex` counts it). A refusal (bad nonce, a fee the account cannot
	/// pay) is `Rejected` and costs nothing.
	pub async fn submit(&self, xt: Vec<u8>) -> Result<Pending, ChainError> {
		let client = self.client().await?;
		let hash = sp_io::hashing::blake2_256(&xt);
		match client
			.subscribe(
				"author_submitAndWatchExtrinsic",
				rpc_params![format!("0x{}", hex::encode(&xt))],
				"author_unwatchExtrinsic",
			)
			.await
		{
			Ok(sub) => Ok(Pending { sub, hash }),
			// 1010: invalid transaction, 1011: unknown validity, 1012..: pool limits.
			Err(RpcError::Call(o)) => {
				let data = o.data().map(|d| d.get().to_string()).unwrap_or_default();
				Err(ChainError::Rejected(format!("{} {data}", o.message())))
			}
			Err(e) => Err(e.into()),
		}
	}

	/// Waits until a block includes the pending transaction; its block and events.
	pub async fn included(&self, pending: Pending) -> Result<Included, ChainError> {
		let Pending { mut sub, hash } = pending;
		let block = loop {
			let Some(status) = sub.next().await else {
				return Err(ChainError::Unreachable("the node closed the watch".into()));
			};
			let status = status.map_err(|e| ChainError::Unexpected(e.to_string()))?;
			if let Some(b) = status.get("inBlock").or_else(|| status.get("finalized")) {
				break parse_hash(b)?;
			}
			let gone = match status.as_str() {
				Some(s) => matches!(s, "dropped" | "invalid" | "usurped"),
				None => status.get("usurped").is_some() || status.get("dropped").is_some(),
			};
			if gone {
				return Err(ChainError::Rejected(format!("transaction {status}")));
			}
		};
		let _ = sub.unsubscribe().await;
		let events = self.extrinsic_events(block, &hash).await?;
		Ok(Included { block, events })
	}

	/// The events the extrinsic with `hash` emitted in `block`.
	async fn extrinsic_events(
		&self,
		block: Hash,
		hash: &[u8; 32],
	) -> Result<Vec<RuntimeEvent>, ChainError> {
		let b: Value = self.request("chain_getBlock", rpc_params![block]).await?;
		let index = b["block"]["extrinsics"]
			.as_array()
			.into_iter()
			.flatten()
			.position(|x| {
				hex_bytes(x).is_ok_and(|bytes| &sp_io::hashing::blake2_256(&bytes) == hash)
			})
			.and_then(|i| u32::try_from(i).ok())
			.ok_or_else(|| {
				ChainError::Unexpected(format!("the transaction is not in {block:?}"))
			})?;
		let key = storage_key("System", "Events");
		let v: Option<String> = self
			.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key)), block])
			.await?;
		let bytes = hex_bytes(&Value::String(v.unwrap_or_default()))?;
		let records = Vec::<frame_system::EventRecord<RuntimeEvent, Hash>>::decode(&mut &bytes[..])
			.map_err(|e| ChainError::Unexpected(format!("events: {e}")))?;
		Ok(records
			.into_iter()
			.filter(|r| r.phase == frame_system::Phase::ApplyExtrinsic(index))
			.map(|r| r.event)
			.collect())
	}
}
