//! Replays every committed fuzz input (the seed corpus and each finding kept as a regression)
//! and a few thousand seeded random inputs through the whole runtime, with every invariant
//! checked after every transaction and block. CI runs this; `scripts/fuzz runtime` runs the
//! open-ended search.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::arithmetic_side_effects)] // reason: test code

use infera_runtime_fuzz::{execute, generate, Stats};
use std::path::Path;

fn replay_dir(dir: &Path) -> (usize, Stats) {
	let mut total = Stats::default();
	let mut files: Vec<_> = std::fs::read_dir(dir)
		.map(|d| {
			d.map(|e| e.unwrap().path())
				.filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
				.collect()
		})
		.unwrap_or_default();
	files.sort();
	let n = files.len();
	for path in files {
		let data = std::fs::read(&path).unwrap();
		let result = std::panic::catch_unwind(|| execute(&data));
		let stats = result.unwrap_or_else(|_| panic!("input {} fails", path.display()));
		total.add(&stats);
	}
	(n, total)
}

#[test]
fn committed_inputs_replay_clean() {
	let root = manifest_dir();
	let root = root.as_path();
	let (seeds, s) = replay_dir(&root.join("corpus"));
	let (regressions, r) = replay_dir(&root.join("regressions"));
	println!("replayed {seeds} corpus inputs ({s:?}) and {regressions} regression inputs ({r:?})");
	assert!(seeds > 0, "the seed corpus is committed");
}

/// `INFERA_FUZZ_INPUTS` random inputs (default 1,200) from seeds 0.., each up to 48 operations,
/// in two halves so both cores work.
fn seeded(half: u64) {
	let n: u64 =
		std::env::var("INFERA_FUZZ_INPUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_200);
	let mut total = Stats::default();
	for seed in (half..n).step_by(2) {
		let data = generate::input(seed, 48);
		let result = std::panic::catch_unwind(|| execute(&data));
		let stats = result.unwrap_or_else(|_| {
			panic!(
				"seed {seed} fails: replay it with `cargo run -p infera-runtime-fuzz --features \
				 try-runtime --example input -- {seed}`"
			)
		});
		total.add(&stats);
	}
	println!("seeded inputs {half}, {}, … below {n}: {total:?}", half + 2);
	// The inputs reach deep: most transactions are valid, many succeed, and jobs go through
	// every path: verified and paid, audited, refunded, their providers slashed.
	assert!(total.included * 2 > total.offered, "too few transactions were valid: {total:?}");
	assert!(total.succeeded * 4 > total.included, "too few transactions succeeded: {total:?}");
	if n >= 200 {
		for event in ["JobSettled", "AuditJudged", "JobRefunded", "Slashed", "CheckersReplaced"] {
			assert!(total.events.contains_key(event), "no input reached {event}: {total:?}");
		}
	}
}

#[test]
fn seeded_random_inputs_break_nothing_even() {
	seeded(0);
}

#[test]
fn seeded_random_inputs_break_nothing_odd() {
	seeded(1);
}

/// The crate's folder as `cargo test` names it to the running test, else where the test was
/// compiled: a test binary reused from a checkout at another path still reads this one's files.
fn manifest_dir() -> std::path::PathBuf {
	std::env::var_os("CARGO_MANIFEST_DIR")
		.map(std::path::PathBuf::from)
		.unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The fuzzer's state, committed every block to ordered maps and a trie, behaves as the state
/// machine's trie backend alone: over a quarter of the committed corpus and a few seeded inputs,
/// every block's state root agrees, and so does everything the inputs did.
#[test]
fn committed_state_behaves_as_the_trie_backend() {
	use infera_runtime_fuzz::{execute_with_storage, state::Storage};
	let corpus = manifest_dir().join("corpus");
	let mut files: Vec<_> =
		std::fs::read_dir(&corpus).unwrap().map(|e| e.unwrap().path()).collect();
	files.sort();
	let inputs = files
		.iter()
		.step_by(4)
		.map(|p| std::fs::read(p).unwrap())
		.chain((5_000..5_024).map(|seed| generate::input(seed, 48)));
	let mut blocks = 0;
	for data in inputs {
		let streamed = execute_with_storage(&data, Storage::Committed);
		let trie = execute_with_storage(&data, Storage::Trie);
		assert_eq!(streamed.roots, trie.roots, "the state roots differ: {streamed:?}");
		assert_eq!(
			(streamed.blocks, streamed.included, streamed.succeeded, &streamed.events),
			(trie.blocks, trie.included, trie.succeeded, &trie.events)
		);
		blocks += streamed.blocks;
	}
	assert!(blocks > 100, "the inputs built {blocks} blocks");
}
