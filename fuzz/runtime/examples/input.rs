//! Runs one input and prints what it did, operation by operation: a file (a corpus entry or a
//! crash libFuzzer saved) or a generator seed.
//!   cargo run -p infera-runtime-fuzz --features try-runtime --example input -- FILE|SEED
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: a tool

fn main() {
	let arg = std::env::args().nth(1).expect("usage: input FILE|SEED");
	let data = match arg.parse::<u64>() {
		Ok(seed) => infera_runtime_fuzz::generate::input(seed, 48),
		Err(_) => std::fs::read(&arg).unwrap(),
	};
	let ops = infera_runtime_fuzz::decode_ops(&data);
	let mut chain = infera_runtime_fuzz::Chain::new();
	for (i, op) in ops.iter().enumerate() {
		println!("{i:3}: {op:?}");
		chain.run(op);
	}
	println!("{:?}", chain.finish());
}
