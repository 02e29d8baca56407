//! The real all-MiniLM-L6-v2, loaded from the model store by the engine's own loading code
//! (`scripts/setup` fetches it). Floats are compared with stated tolerances; verdicts use the
//! runtime's integer rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

use infera_engine::{
	calibration::{MINILM_DELTA, MINILM_EPSILON},
	canonical_embedding, compare,
	store::hash_file,
	Engine, EngineError, ExpectedFiles, Manifest, ModelHash, ModelStore,
};
use infera_primitives::{
	canonical::CanonicalOutput,
	tolerance::{Check, Mismatch},
	Architecture, EmbeddingTolerance,
};
use sp_runtime::Perbill;
use std::sync::OnceLock;

const MINILM: &str = "a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563";

fn store() -> ModelStore {
	let store = ModelStore::new(ModelStore::default_location());
	let model = ModelHash::parse(MINILM).unwrap();
	assert!(
		store.contains(&model),
		"all-MiniLM-L6-v2 is not in {}: run scripts/fetch-model (scripts/setup does)",
		store.root().display()
	);
	store
}

/// One engine for all tests: the model is loaded (and its hash verified) once.
fn engine() -> &'static Engine {
	static ENGINE: OnceLock<Engine> = OnceLock::new();
	ENGINE.get_or_init(|| Engine::new(store()))
}

fn minilm() -> ModelHash {
	ModelHash::parse(MINILM).unwrap()
}

/// MiniLM's config and tokenizer hashes as the registry names them (the store's files).
fn registered() -> ExpectedFiles {
	let (source, model) = (store(), minilm());
	ExpectedFiles {
		config: Some(hash_file(&source.path(&model, "config")).unwrap()),
		tokenizer: Some(hash_file(&source.path(&model, "tokenizer")).unwrap()),
	}
}

fn architecture() -> Architecture {
	Architecture::TextEmbedding {
		dimensions: 384,
		tolerance: EmbeddingTolerance {
			min_cosine: Perbill::from_float(1.0 - MINILM_EPSILON),
			max_element_diff: MINILM_DELTA,
		},
	}
}

#[derive(serde::Deserialize)]
struct Reference {
	cases: Vec<Case>,
}

#[derive(serde::Deserialize)]
struct Case {
	text: String,
	tokens: usize,
	embedding: Vec<f64>,
}

fn reference() -> Reference {
	serde_json::from_str(include_str!("fixtures/minilm_reference.json")).unwrap()
}

#[test]
fn embeddings_match_an_independent_float64_reference() {
	let engine = engine();
	let embedder = engine.embedder(&minilm()).unwrap();
	assert_eq!(embedder.dimensions, 384);
	assert_eq!(embedder.max_seq_length, 256);
	for case in reference().cases {
		assert_eq!(embedder.token_count(&case.text).unwrap(), case.tokens, "{}", case.text);
		let got = engine.run(&minilm(), &case.text).unwrap().embedding().unwrap().to_vec();
		assert_eq!(got.len(), 384);
		// The reference computes in float64, the engine in float32 through six layers: element
		// errors of a few 1e-7 are expected; 1e-5 leaves room and still catches any real
		// difference in the maths (a wrong pooling, truncation or activation moves elements by
		// 1e-2 and more).
		let max_diff = got
			.iter()
			.zip(&case.embedding)
			.map(|(a, b)| (f64::from(*a) - b).abs())
			.fold(0.0, f64::max);
		assert!(max_diff < 1e-5, "{:?}: max element difference {max_diff}", case.text);
		let norm: f64 = got.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
		assert!((norm - 1.0).abs() < 1e-5, "unit length, got {norm}");
	}
}

#[test]
fn similar_sentences_are_closer_than_unrelated_ones() {
	let out = engine()
		.run_batch(
			&minilm(),
			&[
				"The quick brown fox jumps over the lazy dog.",
				"A fast auburn fox leaps above a sleepy hound.",
				"Infera settles inference jobs on chain.",
			],
		)
		.unwrap();
	let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
	let similar = cos(out[0].embedding().unwrap(), out[1].embedding().unwrap());
	let unrelated = cos(out[0].embedding().unwrap(), out[2].embedding().unwrap());
	assert!(similar > 0.5 && unrelated < 0.2, "similar {similar}, unrelated {unrelated}");
}

#[test]
fn every_honest_variant_passes_the_verdict() {
	let engine = engine();
	let texts: Vec<String> = reference().cases.into_iter().map(|c| c.text).collect();
	let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
	// Batch of all (padded to the longest) versus one at a time versus a batch of 32.
	let batched = engine.run_batch(&minilm(), &refs).unwrap();
	let mut thirty_two = refs.clone();
	thirty_two.extend(std::iter::repeat_n(refs[0], 32 - refs.len()));
	let big = engine.run_batch(&minilm(), &thirty_two).unwrap();
	for (i, text) in refs.iter().enumerate() {
		let single = engine.run(&minilm(), text).unwrap();
		for other in [&batched[i], &big[i]] {
			let c = compare(&architecture(), &single.canonical, &other.canonical);
			assert_eq!(c.verdict, Check::Pass, "{text:?}: {c:?}");
		}
	}
}

#[test]
fn a_different_input_fails_the_verdict() {
	let a = engine().run(&minilm(), "The quick brown fox jumps over the lazy dog.").unwrap();
	let b = engine().run(&minilm(), "The quick brown fox jumps over the lazy cat.").unwrap();
	let c = compare(&architecture(), &a.canonical, &b.canonical);
	assert!(matches!(c.verdict, Check::Fail(_)), "{c:?}");
}

#[test]
fn noise_at_ten_times_the_bound_fails_the_verdict() {
	let honest = engine().run(&minilm(), "Infera settles inference jobs on chain.").unwrap();
	let CanonicalOutput::Embedding(v) = &honest.canonical else { panic!("an embedding") };
	// Every element moved by 10 δ, alternating in sign.
	let step = i32::from(MINILM_DELTA) * 10;
	let noisy: Vec<i16> = v
		.iter()
		.enumerate()
		.map(|(i, x)| {
			let d = if i % 2 == 0 { step } else { -step };
			(i32::from(*x) + d).clamp(-32_767, 32_767) as i16
		})
		.collect();
	let c = compare(&architecture(), &honest.canonical, &CanonicalOutput::Embedding(noisy));
	assert!(matches!(c.verdict, Check::Fail(_)), "{c:?}");
	// Noise within δ on a few elements only still passes: the rule is not bit-equality.
	let mut slight = v.clone();
	for x in slight.iter_mut().take(8) {
		*x = x.saturating_add(MINILM_DELTA as i16 / 2);
	}
	let c = compare(&architecture(), &honest.canonical, &CanonicalOutput::Embedding(slight));
	assert_eq!(c.verdict, Check::Pass, "{c:?}");
}

#[test]
fn a_perturbed_weights_file_is_refused_and_a_perturbed_model_fails_the_verdict() {
	let dir = tempfile::tempdir().unwrap();
	let source = store();
	let model = minilm();
	// The same file with one byte changed in the last layer's weights: the hash catches it.
	let fake = ModelStore::new(dir.path().join("fake"));
	std::fs::create_dir_all(fake.root()).unwrap();
	let mut bytes = std::fs::read(source.path(&model, "weights")).unwrap();
	let at = bytes.len() - 1_000;
	bytes[at] ^= 0x40;
	std::fs::write(fake.path(&model, "weights"), &bytes).unwrap();
	for f in ["config", "tokenizer", "manifest"] {
		std::fs::copy(source.path(&model, f), fake.path(&model, f)).unwrap();
	}
	let err = Engine::new(fake).run(&model, "x").unwrap_err();
	assert!(matches!(err, EngineError::HashMismatch { .. }), "{err}");

	// A model whose last feed-forward layer is scaled by 1.3, stored under its own hash: it loads
	// and runs, and its outputs fail against the real model's.
	let device = candle_core::Device::Cpu;
	let mut tensors =
		candle_core::safetensors::load(source.path(&model, "weights"), &device).unwrap();
	let name = "encoder.layer.5.output.dense.weight";
	let scaled = (tensors[name].clone() * 1.3).unwrap();
	tensors.insert(name.to_string(), scaled);
	let folder = dir.path().join("perturbed");
	std::fs::create_dir_all(&folder).unwrap();
	candle_core::safetensors::save(&tensors, folder.join("model.safetensors")).unwrap();
	std::fs::copy(source.path(&model, "config"), folder.join("config.json")).unwrap();
	std::fs::copy(source.path(&model, "tokenizer"), folder.join("tokenizer.json")).unwrap();
	let other_store = ModelStore::new(dir.path().join("store"));
	let manifest = Manifest::new("text-embedding", 256);
	let perturbed = other_store.import(&folder, &manifest).unwrap();
	assert_ne!(perturbed, model);
	let text = "The quick brown fox jumps over the lazy dog.";
	let theirs = Engine::new(other_store).run(&perturbed, text).unwrap();
	let ours = engine().run(&model, text).unwrap();
	let c = compare(&architecture(), &ours.canonical, &theirs.canonical);
	assert!(matches!(c.verdict, Check::Fail(_)), "{c:?}");
}

/// The registry's promise is the weights *and* the files that say how to read them: the same
/// weights behind a tokenizer that no longer lower-cases compute something else, so a store
/// holding it is refused when the registered hashes are passed, before anything runs.
#[test]
fn a_store_whose_tokenizer_or_config_differs_from_the_registry_is_refused() {
	let source = store();
	let model = minilm();
	let registered = registered();
	let dir = tempfile::tempdir().unwrap();
	let other = ModelStore::new(dir.path());
	for f in ["weights", "config", "manifest"] {
		let (from, to) = (source.path(&model, f), other.path(&model, f));
		std::fs::hard_link(&from, &to).or_else(|_| std::fs::copy(&from, &to).map(|_| ())).unwrap();
	}
	let mut tokenizer: serde_json::Value =
		serde_json::from_str(&std::fs::read_to_string(source.path(&model, "tokenizer")).unwrap())
			.unwrap();
	tokenizer["normalizer"]["lowercase"] = false.into();
	std::fs::write(other.path(&model, "tokenizer"), tokenizer.to_string()).unwrap();

	let text = "The QUICK Brown Fox Jumps Over The Lazy Dog.";
	let genuine = engine().run_bytes_checked(&model, &registered, text.as_bytes()).unwrap();
	assert_eq!(genuine.output_hash, engine().run(&model, text).unwrap().output_hash);
	let swapped = Engine::new(other.clone());
	// Unchecked, the swapped tokenizer runs and computes another embedding.
	let unchecked = swapped.run(&model, text).unwrap();
	assert_ne!(unchecked.output_hash, genuine.output_hash);
	let err = swapped.run_bytes_checked(&model, &registered, text.as_bytes()).unwrap_err();
	match &err {
		EngineError::FileMismatch { file, expected, .. } => {
			assert_eq!(*file, "tokenizer.json");
			assert_eq!(*expected, registered.tokenizer.unwrap().to_hex());
		}
		other => panic!("expected FileMismatch, got {other}"),
	}
	assert!(err.to_string().contains("registry"), "{err}");

	// A config that differs by one byte is refused the same way (checked first).
	let mut config = std::fs::read(source.path(&model, "config")).unwrap();
	config.push(b'\n');
	std::fs::remove_file(other.path(&model, "config")).unwrap();
	std::fs::write(other.path(&model, "config"), config).unwrap();
	let err =
		Engine::new(other).run_bytes_checked(&model, &registered, text.as_bytes()).unwrap_err();
	assert!(matches!(&err, EngineError::FileMismatch { file: "config.json", .. }), "{err}");
}

#[test]
fn outputs_are_canonical_scale_and_hash_like_the_runtime() {
	let out = engine().run(&minilm(), "Infera settles inference jobs on chain.").unwrap();
	let again = canonical_embedding(out.embedding().unwrap()).unwrap();
	assert_eq!(out.encoded, again.encoded);
	assert_eq!(out.output_hash, infera_engine::blake2_256(&out.encoded));
	let decoded: CanonicalOutput = codec::Decode::decode(&mut out.encoded.as_slice()).unwrap();
	assert_eq!(decoded, out.canonical);
	// An all-NaN output has no canonical form.
	assert!(canonical_embedding(&[f32::NAN; 4]).is_err());
	// An all-zero vector never matches a real embedding.
	let c = compare(&architecture(), &out.canonical, &CanonicalOutput::Embedding(vec![0; 384]));
	assert!(matches!(c.verdict, Check::Fail(Mismatch::Element | Mismatch::ZeroVector)), "{c:?}");
}

#[test]
fn a_missing_model_and_a_bad_id_are_clear_errors() {
	let engine = Engine::new(ModelStore::new("/nonexistent/store"));
	let err = engine.run(&minilm(), "x").unwrap_err();
	assert!(err.to_string().contains("fetch-model"), "{err}");
	assert!(matches!(ModelHash::parse("0x1234"), Err(EngineError::BadModelId(_))));
	assert!(matches!(engine.run(&minilm(), ""), Err(EngineError::ModelMissing { .. })));
}

#[test]
fn a_worker_batch_gives_every_input_what_it_gets_alone_and_a_bad_input_fails_alone() {
	let model = minilm();
	let registered = registered();
	// More inputs than one batch holds, of 1 to ~200 tokens, with an unreadable and an empty one
	// in the middle.
	let mut inputs: Vec<Vec<u8>> = (0..infera_engine::WORKER_BATCH + 5)
		.map(|i| ["verify the honest provider"; 40][..=(i * 7) % 40].join(" ").into_bytes())
		.collect();
	inputs.insert(3, vec![0xff, 0xfe, b'a']);
	inputs.insert(9, Vec::new());
	let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
	let batch = engine().run_bytes_checked_many(&model, &registered, &refs).unwrap();
	assert_eq!(batch.len(), inputs.len());
	for (input, result) in inputs.iter().zip(&batch) {
		match (engine().run_bytes_checked(&model, &registered, input), result) {
			(Ok(alone), Ok(batched)) => {
				// Bit-identical canonical output (the calibration's 0 steps across batches).
				assert_eq!(alone.encoded, batched.encoded);
				assert_eq!(alone.output_hash, batched.output_hash);
			}
			(Err(alone), Err(batched)) => assert_eq!(alone.to_string(), batched.to_string()),
			(alone, batched) => panic!("alone {alone:?}, batched {batched:?}"),
		}
	}
	assert!(matches!(batch[3], Err(EngineError::InvalidUtf8(0))));
	assert!(matches!(batch[9], Err(EngineError::EmptyInput)));
	assert_eq!(batch.iter().filter(|r| r.is_ok()).count(), inputs.len() - 2);
	// Files other than the registry's fail the whole call before anything runs.
	let wrong = ExpectedFiles { config: registered.tokenizer, ..registered };
	assert!(matches!(
		engine().run_bytes_checked_many(&model, &wrong, &refs),
		Err(EngineError::FileMismatch { file: "config.json", .. })
	));
	assert!(engine().run_bytes_checked_many(&model, &registered, &[]).unwrap().is_empty());
}

#[test]
fn a_packed_batch_of_different_lengths_is_bit_identical_to_each_input_alone() {
	let embedder = engine().embedder(&minilm()).unwrap();
	let long = ["packing removes the padding work of mixed batches"; 40].join(" ");
	let texts =
		["x", "The quick brown fox jumps over the lazy dog.", long.as_str(), "Ünïcödé 🚀", "a b"];
	let packed = embedder.embed(&texts).unwrap();
	assert_eq!(packed.len(), texts.len());
	for (text, vector) in texts.iter().zip(&packed) {
		let alone = embedder.embed(&[text]).unwrap();
		// Float for float, not within a tolerance.
		assert_eq!(alone[0], *vector, "{text}");
	}
	// An empty input in a batch is refused, as alone.
	assert!(matches!(embedder.embed(&["a", ""]), Err(EngineError::EmptyInput)));
}
