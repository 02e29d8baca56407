//! Chain specifications, built from the runtime's genesis presets.

use infera_runtime::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY};
use sc_service::ChainType;

/// A chain specification of Infera.
pub type ChainSpec = sc_service::GenericChainSpec;

fn properties() -> sc_chain_spec::Properties {
	let mut p = sc_chain_spec::Properties::new();
	p.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	p.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	p.insert("ss58Format".into(), SS58_PREFIX.into());
	p
}

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"this infera-node was built without the wasm runtime (SKIP_WASM_BUILD was set); \
		 rebuild it without SKIP_WASM_BUILD"
			.to_string()
	})
}

/// `dev`: a one-validator chain (Alice) from the `development` preset.
pub fn development() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Infera Development")
		.with_id("infera_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// `local`: four validators (Alice, Bob, Charlie, Dave) from the `local_testnet` preset.
pub fn local_testnet() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Infera Local Testnet")
		.with_id("infera_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// `testnet`: a network of independent operators (the `testnet` preset): four validators that
/// audit (Alice, Bob, Charlie, Dave), two provider nodes (Eve, Ferdie) and any number of RPC
/// nodes; `zombienet/testnet.toml` and `docker/compose.yml` start it. Each node brings its own
/// keys in its keystore.
pub fn testnet() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Infera Testnet")
		.with_id("infera_testnet")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(
			infera_runtime::genesis_config_presets::TESTNET_RUNTIME_PRESET,
		)
		.with_properties(properties())
		.build())
}
