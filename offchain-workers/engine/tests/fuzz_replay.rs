//! Replays the fuzz corpus kept in `tests/fixtures/fuzz` (seeds and every input the fuzzer found
//! worth keeping) through the same entry point as `scripts/fuzz`: none may panic, and the seeds,
//! tiny seeded models of each architecture, must load and run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code

use infera_engine::{
	fuzzing::{decode, encode, load_and_run, Kind},
	EngineError,
};

fn corpus() -> Vec<(String, Vec<u8>)> {
	let dir = manifest_dir().join("tests/fixtures/fuzz");
	let mut files: Vec<_> = std::fs::read_dir(&dir)
		.unwrap()
		.map(|e| {
			let path = e.unwrap().path();
			let name = path.file_name().unwrap().to_string_lossy().into_owned();
			(name, std::fs::read(&path).unwrap())
		})
		.collect();
	files.sort();
	files
}

#[test]
fn the_seeds_load_and_run() {
	let seeds: Vec<_> =
		corpus().into_iter().filter(|(name, _)| name.starts_with("seed-")).collect();
	assert_eq!(seeds.len(), 3, "one seed per architecture");
	for (name, bytes) in seeds {
		load_and_run(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
	}
}

#[test]
fn every_kept_input_ends_without_a_panic() {
	for (name, bytes) in corpus() {
		// Ok or a named error: reaching the next input is the assertion.
		let _ = std::panic::catch_unwind(|| load_and_run(&bytes))
			.unwrap_or_else(|_| panic!("{name} panicked"));
	}
}

#[test]
fn broken_seeds_are_named_errors() {
	let (name, seed) =
		corpus().into_iter().find(|(name, _)| name == "seed-decoder").expect("decoder seed");
	let (kind, config, weights) = decode(&seed).unwrap();
	assert_eq!(kind, Kind::Decoder, "{name}");
	// Truncated weights, a config that is not JSON, and weights given to another architecture.
	let truncated = encode(kind, config, &weights[..weights.len() / 2]);
	assert!(matches!(load_and_run(&truncated), Err(EngineError::BadWeights { .. })));
	let garbage = encode(kind, b"{not json", weights);
	assert!(matches!(load_and_run(&garbage), Err(EngineError::BadConfig { .. })));
	let swapped = encode(Kind::Encoder, config, weights);
	assert!(matches!(load_and_run(&swapped), Err(EngineError::BadConfig { .. })));
	// Too short to name a kind and a length: nothing to do.
	assert!(load_and_run(&[2, 0]).is_ok());
}

/// The crate's folder as `cargo test` names it to the running test, else where the test was
/// compiled: a test binary reused from a checkout at another path still reads this one's files.
fn manifest_dir() -> std::path::PathBuf {
	std::env::var_os("CARGO_MANIFEST_DIR")
		.map(std::path::PathBuf::from)
		.unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
