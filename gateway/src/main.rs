//! `infera-gateway --config gateway.toml`: serves OpenAI's API over an Infera node.

use clap::Parser;
use infera_gateway::{api, config::Config};
use std::path::PathBuf;

/// An OpenAI-compatible HTTP gateway over Infera's on-chain inference jobs.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
	/// The configuration file (TOML): node, listen address, wait_for, API keys.
	#[arg(long)]
	config: PathBuf,
	/// Overrides the file's `listen` address.
	#[arg(long)]
	listen: Option<std::net::SocketAddr>,
	/// Overrides the file's `node` WebSocket URL.
	#[arg(long)]
	node: Option<String>,
}

/// Logs to stderr at `RUST_LOG`'s level (default `info`).
struct StderrLogger(log::LevelFilter);

impl log::Log for StderrLogger {
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.level() <= self.0
	}
	fn log(&self, record: &log::Record) {
		if self.enabled(record.metadata()) {
			let secs = std::time::SystemTime::now()
				.duration_since(std::time::UNIX_EPOCH)
				.map(|d| d.as_secs_f64())
				.unwrap_or(0.0);
			eprintln!("{secs:.3} {} {}", record.level(), record.args());
		}
	}
	fn flush(&self) {}
}

#[tokio::main]
async fn main() {
	let level = std::env::var("RUST_LOG")
		.ok()
		.and_then(|l| l.parse().ok())
		.unwrap_or(log::LevelFilter::Info);
	let _ = log::set_boxed_logger(Box::new(StderrLogger(level)));
	log::set_max_level(level);
	if let Err(e) = run(Cli::parse()).await {
		log::error!("{e}");
		std::process::exit(1);
	}
}

async fn run(cli: Cli) -> Result<(), String> {
	let mut config = Config::load(&cli.config)?;
	if let Some(l) = cli.listen {
		config.listen = l;
	}
	if let Some(n) = cli.node {
		config.node = n;
	}
	let delegates = config.delegates()?;
	for d in &delegates {
		log::info!("key {:?}: jobs signed and paid by {}", d.name, d.account);
	}
	let listen = config.listen;
	log::info!(
		"node {}, answering when jobs are {:?}, model store {}",
		config.node,
		config.wait_for,
		config.model_store().display()
	);
	let gateway = api::Gateway::new(config, delegates);
	let listener = tokio::net::TcpListener::bind(listen)
		.await
		.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
	let local = listener.local_addr().map_err(|e| e.to_string())?;
	// Tests and scripts wait for this line.
	log::info!("listening on http://{local}");
	axum::serve(listener, api::router(gateway))
		.with_graceful_shutdown(async {
			let _ = tokio::signal::ctrl_c().await;
		})
		.await
		.map_err(|e| e.to_string())
}
