//! Untrusted model files: a config and a safetensors file of any of the engine's architectures,
//! loaded and, when they load, run once. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	let _ = infera_engine::fuzzing::load_and_run(data);
});
