//! Writes the fuzz targets' seed inputs: tiny seeded models of every architecture in the
//! `infera_engine::fuzzing` format, so fuzzing starts from inputs that load and run.
//!   cargo run -p infera-engine --example fuzz_seeds -- <corpus dir>
#![allow(clippy::expect_used)] // reason: a developer tool; failing loudly is what it should do

use candle_core::Tensor;
use infera_engine::{
	fuzzing::{encode, Kind},
	synthetic::{self, LlamaShape},
};
use std::{collections::HashMap, path::PathBuf};

fn safetensors(tensors: &HashMap<String, Tensor>) -> Vec<u8> {
	let dir = tempfile::tempdir().expect("temporary folder");
	let path = dir.path().join("seed.safetensors");
	candle_core::safetensors::save(tensors, &path).expect("save");
	std::fs::read(&path).expect("read back")
}

fn main() {
	let out = PathBuf::from(std::env::args().nth(1).expect("usage: fuzz_seeds <corpus dir>"));
	std::fs::create_dir_all(&out).expect("corpus folder");
	let (encoder_cfg, encoder) = synthetic::bert(8, 1, 16, 8, None, 1).expect("encoder");
	let (classifier_cfg, classifier) =
		synthetic::bert(8, 1, 16, 8, Some(3), 2).expect("classifier");
	let shape = LlamaShape {
		vocab_size: 16,
		hidden_size: 8,
		intermediate_size: 16,
		layers: 1,
		heads: 2,
		kv_heads: 1,
		max_positions: 16,
	};
	let llama = synthetic::llama_tensors(&shape, 3).expect("decoder");
	for (name, kind, config, tensors) in [
		("seed-encoder", Kind::Encoder, encoder_cfg, encoder),
		("seed-classifier", Kind::Classifier, classifier_cfg, classifier),
		("seed-decoder", Kind::Decoder, shape.config(2), llama),
	] {
		let bytes = encode(kind, config.to_string().as_bytes(), &safetensors(&tensors));
		std::fs::write(out.join(name), bytes).expect("write seed");
	}
	println!("{}", out.display());
}
