//! Dispatch of the command line: run the node or one of the subcommands.

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Infera Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://github.com/infera-network/infera/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" | "" => Box::new(chain_spec::development()?),
			"local" => Box::new(chain_spec::local_testnet()?),
			"testnet" => Box::new(chain_spec::testnet()?),
			path => {
				let file = std::path::PathBuf::from(path);
				if !file.exists() {
					return Err(format!(
						"unknown chain '{path}': use 'dev', 'local', 'testnet', or the path of a chain-spec \
						 JSON file"
					));
				}
				Box::new(
					chain_spec::ChainSpec::from_json_file(file)
						.map_err(|e| format!("chain-spec file '{path}' is not valid: {e}"))?,
				)
			}
		})
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::Inference(cmd)) => cmd.run().map_err(sc_cli::Error::Input),
		#[allow(deprecated)]
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				let aux_revert = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => {
			use frame_benchmarking_cli::BenchmarkCmd;
			use sp_runtime::traits::HashingFor;
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => cmd
					.run_with_spec::<HashingFor<infera_runtime::opaque::Block>, service::HostFunctions>(
						Some(config.chain_spec),
					),
				BenchmarkCmd::Machine(cmd) =>
					cmd.run(&config, frame_benchmarking_cli::SUBSTRATE_REFERENCE_HARDWARE.clone()),
				_ => Err("only `benchmark pallet` and `benchmark machine` are wired in this node"
					.into()),
			})
		},
		#[cfg(not(feature = "runtime-benchmarks"))]
		Some(Subcommand::Benchmark) => Err(
			"benchmarks are not in this build: build the node with `--features runtime-benchmarks` \
			 (./scripts/benchmark does this)"
				.into(),
		),
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<infera_runtime::opaque::Block>(&config))
		},
		None => {
			let runner = cli.create_runner(&cli.run)?;
			let model_store = cli.model_store.clone();
			runner.run_node_until_exit(|mut config| async move {
				// Upstream moves the RPC server to a random port when the asked-for one is taken;
				// dApps would then talk to nothing. A port in use is an error here.
				let rpc_ports: Vec<u16> = config
					.rpc
					.addr
					.iter_mut()
					.flatten()
					.map(|endpoint| {
						endpoint.retry_random_port = false;
						endpoint.listen_addr.port()
					})
					.collect();
				service::new_full::<sc_network::NetworkWorker<_, _>>(config, model_store).map_err(|e| {
					let text = e.to_string();
					match rpc_ports.first() {
						Some(port) if text.contains("in use") => sc_cli::Error::Input(format!(
							"the RPC port {port} is already in use by another program: stop it \
							 or choose another port with --rpc-port ({text})"
						)),
						_ => sc_cli::Error::Service(e),
					}
				})
			})
		},
	}
}
