//! libFuzzer over the whole runtime: each input is a sequence of transactions, blocks and worker
//! actions (see `infera_runtime_fuzz`); a panic (a dispatch that panics or any broken invariant)
//! is a finding.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
	infera_runtime_fuzz::execute(data);
});
