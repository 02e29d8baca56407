//! The gateway's configuration file (TOML): the node, where to listen, when to answer, and the API
//! keys with the delegate accounts that sign and pay for their jobs.
//!
//! ```toml
//! node = "ws://127.0.0.1:9944"
//! listen = "127.0.0.1:8080"
//! wait_for = "verified"       # "verified", "finalised" or "settled"
//!
//! [[keys]]
//! name = "agent-1"            # appears in logs; the key and the secret never do
//! api_key = "sk-infera-..."
//! suri = "//Alice"            # the delegate account's secret URI (a dev key here)
//! payer = "5Grw..."           # optional: jobs are paid from this account's budget, of which
//!                             # the delegate is an authorised key (pallet-budgets)
//! ```

use serde::Deserialize;
use sp_core::{crypto::Pair as _, sr25519};
use std::{fmt, net::SocketAddr, path::PathBuf};

/// A value that must never be printed: `Debug` and `Display` show `***`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
	/// The secret itself, for the one place that needs it.
	pub fn expose(&self) -> &str {
		&self.0
	}
}

impl fmt::Debug for Secret {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str("***")
	}
}

impl fmt::Display for Secret {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str("***")
	}
}

/// When the gateway answers a request.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WaitFor {
	/// The output is revealed and judged: unaudited and past its reveal, or confirmed by its
	/// audit (status `Verified` or `Settled` in the best chain).
	#[default]
	Verified,
	/// As `Verified`, in a finalised block.
	#[serde(alias = "finalized")]
	Finalised,
	/// The challenge window is over and the provider is paid (`Settled`).
	Settled,
}

/// One API key and the account that signs and pays for its jobs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
	/// A label for logs.
	pub name: String,
	/// What clients send as `Authorization: Bearer <api_key>`.
	pub api_key: Secret,
	/// The delegate account's secret URI (`//Alice`, a mnemonic, a hex seed).
	pub suri: Secret,
	/// The payer whose budget the jobs draw on (SS58); without one the delegate account pays
	/// the escrow itself. Either way the delegate pays the transaction fees.
	#[serde(default)]
	pub payer: Option<String>,
}

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
	/// The node's JSON-RPC WebSocket.
	#[serde(default = "default_node")]
	pub node: String,
	/// Address the HTTP server listens on.
	#[serde(default = "default_listen")]
	pub listen: SocketAddr,
	/// When a request is answered.
	#[serde(default)]
	pub wait_for: WaitFor,
	/// Blocks after submission by which a job must be done (its `deadline`).
	#[serde(default = "default_deadline_blocks")]
	pub deadline_blocks: u32,
	/// Seconds a request may wait for its jobs before it answers 504 (the jobs go on).
	#[serde(default = "default_timeout_secs")]
	pub timeout_secs: u64,
	/// Most jobs the gateway follows at once, over all keys (each is a subscription on the node's
	/// one connection, which the node caps at 1,024 by default). A request that would go over is
	/// answered 429 before anything is signed.
	#[serde(default = "default_max_jobs_in_flight")]
	pub max_jobs_in_flight: u32,
	/// Model store holding the models' tokenizers, to count `usage` tokens (default:
	/// $INFERA_MODEL_STORE or ~/.local/share/infera/models).
	pub model_store: Option<PathBuf>,
	/// The API keys.
	pub keys: Vec<KeyConfig>,
}

fn default_node() -> String {
	"ws://127.0.0.1:9944".into()
}
fn default_listen() -> SocketAddr {
	SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_deadline_blocks() -> u32 {
	60
}
fn default_timeout_secs() -> u64 {
	180
}
fn default_max_jobs_in_flight() -> u32 {
	512
}

/// A key's delegate, ready to sign.
#[derive(Clone)]
pub struct Delegate {
	/// The key's label.
	pub name: String,
	/// blake2-256 of the API key: keys are compared by hash, never kept in the clear.
	pub key_hash: [u8; 32],
	/// The signing key.
	pub pair: sr25519::Pair,
	/// Its account.
	pub account: infera_runtime::AccountId,
	/// The payer whose budget its jobs draw on, if any.
	pub payer: Option<infera_runtime::AccountId>,
}

impl fmt::Debug for Delegate {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.debug_struct("Delegate")
			.field("name", &self.name)
			.field("account", &self.account)
			.field("payer", &self.payer)
			.finish()
	}
}

/// blake2-256 of `bytes`.
pub fn blake2_256(bytes: &[u8]) -> [u8; 32] {
	let hash = blake2b_simd::Params::new().hash_length(32).hash(bytes);
	let mut out = [0u8; 32];
	out.copy_from_slice(hash.as_bytes());
	out
}

impl Config {
	/// Reads and checks the file.
	pub fn load(path: &std::path::Path) -> Result<Self, String> {
		let text = std::fs::read_to_string(path)
			.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
		Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
	}

	/// Parses and checks a configuration.
	pub fn parse(text: &str) -> Result<Self, String> {
		let config: Config = toml::from_str(text).map_err(|e| e.message().to_string())?;
		if config.keys.is_empty() {
			return Err("no [[keys]]: every request needs an API key".into());
		}
		if config.max_jobs_in_flight == 0 || config.max_jobs_in_flight > 1_000 {
			return Err("max_jobs_in_flight must be within 1..=1000".into());
		}
		if config.deadline_blocks < 5 {
			return Err("deadline_blocks must be at least 5".into());
		}
		Ok(config)
	}

	/// The delegates, with their keys checked: every secret URI must parse and no API key may
	/// appear twice. Errors name the key by its label, never by its secret.
	pub fn delegates(&self) -> Result<Vec<Delegate>, String> {
		let mut out: Vec<Delegate> = Vec::with_capacity(self.keys.len());
		for key in &self.keys {
			if key.api_key.expose().len() < 16 {
				return Err(format!("key {:?}: api_key is shorter than 16 characters", key.name));
			}
			let pair = sr25519::Pair::from_string(key.suri.expose(), None)
				.map_err(|e| format!("key {:?}: suri does not parse: {e:?}", key.name))?;
			let key_hash = blake2_256(key.api_key.expose().as_bytes());
			if out.iter().any(|d| d.key_hash == key_hash) {
				return Err(format!("key {:?}: the same api_key appears twice", key.name));
			}
			let account = infera_runtime::AccountId::from(pair.public());
			let payer = match &key.payer {
				None => None,
				Some(address) => {
					use sp_core::crypto::Ss58Codec as _;
					let payer =
						infera_runtime::AccountId::from_ss58check(address).map_err(|e| {
							format!("key {:?}: payer is not an SS58 address: {e:?}", key.name)
						})?;
					if payer == account {
						return Err(format!(
							"key {:?}: the payer is the delegate itself; leave payer out",
							key.name
						));
					}
					Some(payer)
				}
			};
			out.push(Delegate { name: key.name.clone(), key_hash, pair, account, payer });
		}
		Ok(out)
	}

	/// The model store folder.
	pub fn model_store(&self) -> PathBuf {
		if let Some(p) = &self.model_store {
			return p.clone();
		}
		if let Some(p) = std::env::var_os("INFERA_MODEL_STORE") {
			return PathBuf::from(p);
		}
		let data = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share")
		});
		data.join("infera/models")
	}
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
	use super::*;

	const GOOD: &str = r#"
		node = "ws://127.0.0.1:9944"
		wait_for = "finalized"
		[[keys]]
		name = "agent"
		api_key = "sk-infera-test-key-0001"
		suri = "//Alice"
	"#;

	#[test]
	fn parses_and_never_prints_secrets() {
		let config = Config::parse(GOOD).unwrap();
		assert_eq!(config.wait_for, WaitFor::Finalised);
		assert_eq!(config.deadline_blocks, 60);
		let printed = format!("{config:?} {:?}", config.delegates().unwrap());
		assert!(!printed.contains("sk-infera-test-key-0001"), "{printed}");
		assert!(!printed.contains("//Alice"), "{printed}");
		assert!(printed.contains("agent"));
	}

	#[test]
	fn rejects_bad_keys_by_name() {
		let short = GOOD.replace("sk-infera-test-key-0001", "short");
		let e = Config::parse(&short).unwrap().delegates().unwrap_err();
		assert!(e.contains("\"agent\"") && e.contains("shorter"), "{e}");
		let bad_suri = GOOD.replace("//Alice", "not a secret uri at all");
		let e = Config::parse(&bad_suri).unwrap().delegates().unwrap_err();
		assert!(e.contains("suri") && !e.contains("not a secret"), "{e}");
		let twice = format!(
			"{GOOD}\n[[keys]]\nname = \"other\"\napi_key = \"sk-infera-test-key-0001\"\nsuri = \"//Bob\"\n"
		);
		let e = Config::parse(&twice).unwrap().delegates().unwrap_err();
		assert!(e.contains("twice") && !e.contains("sk-infera"), "{e}");
		assert!(Config::parse("node = \"ws://x\"\nkeys = []\n").is_err());
		let bad_payer = format!("{GOOD}payer = \"not-an-address\"\n");
		let e = Config::parse(&bad_payer).unwrap().delegates().unwrap_err();
		assert!(e.contains("payer"), "{e}");
		// Ferdie's address as the payer of Alice's key.
		let budget =
			format!("{GOOD}payer = \"5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL\"\n");
		let delegates = Config::parse(&budget).unwrap().delegates().unwrap();
		assert!(delegates[0].payer.is_some());
		assert!(Config::parse(&GOOD.replace("wait_for", "wait_forever")).is_err());
	}
}
