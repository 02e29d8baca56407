//! The Infera node binary.

mod chain_spec;
mod cli;
mod command;
mod equivocation;
mod infera_rpc;
mod inference;
mod rpc;
mod service;
mod worker;

fn main() {
	// Errors end the node with a message and a non-zero exit code, never a panic backtrace.
	if let Err(e) = command::run() {
		eprintln!("Error: {e}");
		std::process::exit(1);
	}
}
