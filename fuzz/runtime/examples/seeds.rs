//! Writes the seed corpus: `count` structured inputs (see `generate`) into `dir`, named by seed.
//!   cargo run -p infera-runtime-fuzz --example seeds -- DIR [COUNT] [FIRST_SEED]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)] // reason: a tool

fn main() {
	let mut args = std::env::args().skip(1);
	let dir = std::path::PathBuf::from(args.next().expect("usage: seeds DIR [COUNT] [FIRST_SEED]"));
	let count: u64 = args.next().map(|a| a.parse().unwrap()).unwrap_or(64);
	let first: u64 = args.next().map(|a| a.parse().unwrap()).unwrap_or(1_000_000);
	std::fs::create_dir_all(&dir).unwrap();
	for seed in first..first + count {
		let data = infera_runtime_fuzz::generate::input(seed, infera_runtime_fuzz::MAX_OPS);
		std::fs::write(dir.join(format!("seed-{seed}")), data).unwrap();
	}
	println!("{count} seeds in {}", dir.display());
}
