//! Text classification with a classifier made of the real all-MiniLM-L6-v2 encoder and a seeded
//! linear head (`infera_engine::synthetic`), saved in Hugging Face's
//! `BertForSequenceClassification` layout and loaded by the engine's loading code; logits are
//! compared with transformers run in float64 on the same files (`bench/reference_models.py`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // reason: test code
#![allow(clippy::arithmetic_side_effects)] // reason: test code

mod common;

use common::{models, reference, source};
use infera_engine::{
	calibration::CLASSIFIER_TIE_MARGIN, compare, synthetic, Engine, EngineError, Manifest,
	ModelStore, Output,
};
use infera_primitives::{
	canonical::CanonicalOutput,
	tolerance::{Check, Mismatch},
	Architecture, ClassificationTolerance, LOGIT_SCALE,
};

fn architecture() -> Architecture {
	Architecture::Classification {
		classes: 3,
		tolerance: ClassificationTolerance { tie_margin: CLASSIFIER_TIE_MARGIN },
	}
}

fn fixed(o: &CanonicalOutput) -> (u32, Vec<i32>) {
	match o {
		CanonicalOutput::Classification { class, logits } => (*class, logits.clone()),
		other => panic!("not a classification: {other:?}"),
	}
}

#[test]
fn logits_match_hugging_face_transformers() {
	let m = models();
	for case in reference().classifications {
		let out = m.engine.run(&m.classifier, &case.text).unwrap();
		let Output::Classification { class, label, logits } = &out.output else {
			panic!("a classification")
		};
		assert_eq!(*class, case.class, "{:?}", case.text);
		assert_eq!(label, synthetic::CLASSIFIER_LABELS[case.class as usize]);
		for (mine, theirs) in logits.iter().zip(&case.logits) {
			assert!(
				(f64::from(*mine) - theirs).abs() < 1e-4,
				"{:?}: {mine} vs {theirs}",
				case.text
			);
		}
		// The canonical logits are the same numbers in fixed point; the class is their top.
		let (c, fixed_logits) = fixed(&out.canonical);
		assert_eq!(c, case.class);
		for (q, theirs) in fixed_logits.iter().zip(&case.logits) {
			assert!((f64::from(*q) - theirs * LOGIT_SCALE as f64).abs() < 8.0);
		}
		assert_eq!(fixed_logits.iter().max(), fixed_logits.get(c as usize));
	}
}

#[test]
fn every_honest_variant_passes_the_verdict_and_another_class_fails() {
	let m = models();
	let texts: Vec<String> = reference().classifications.into_iter().map(|c| c.text).collect();
	let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
	// One padded batch versus one input at a time.
	let batched = m.engine.run_batch(&m.classifier, &refs).unwrap();
	for (text, other) in refs.iter().zip(&batched) {
		let single = m.engine.run(&m.classifier, text).unwrap();
		let c = compare(&architecture(), &single.canonical, &other.canonical);
		assert_eq!(c.verdict, Check::Pass, "{text:?}");
		let (sc, sl) = fixed(&single.canonical);
		let (bc, bl) = fixed(&other.canonical);
		assert_eq!(sc, bc);
		let spread = sl.iter().zip(&bl).map(|(a, b)| (a - b).unsigned_abs()).max().unwrap();
		assert!(spread * 10 <= CLASSIFIER_TIE_MARGIN, "{text:?}: honest spread {spread}");
		// Claiming a class the reference ranks far below its top fails.
		let (top, logits) = fixed(&single.canonical);
		let far = (0..3u32).filter(|k| *k != top).min_by_key(|k| logits[*k as usize]).unwrap();
		assert!(
			i64::from(logits[top as usize]) - i64::from(logits[far as usize])
				> i64::from(CLASSIFIER_TIE_MARGIN)
		);
		let forged = CanonicalOutput::Classification { class: far, logits: logits.clone() };
		assert_eq!(
			compare(&architecture(), &single.canonical, &forged).verdict,
			Check::Fail(Mismatch::Class)
		);
		let out_of_range = CanonicalOutput::Classification { class: 3, logits: logits.clone() };
		assert_eq!(
			compare(&architecture(), &single.canonical, &out_of_range).verdict,
			Check::Fail(Mismatch::ClassOutOfRange)
		);
	}
}

/// The classifier imported into a new store with its config edited.
fn with_config(
	dir: &std::path::Path,
	edit: impl FnOnce(&mut serde_json::Value),
) -> (Engine, infera_engine::ModelHash) {
	let (source, minilm) = source();
	let folder = dir.join("classifier");
	synthetic::write_classifier(&folder, &source, &minilm, synthetic::SEED).unwrap();
	let mut cfg: serde_json::Value =
		serde_json::from_slice(&std::fs::read(folder.join("config.json")).unwrap()).unwrap();
	edit(&mut cfg);
	std::fs::write(folder.join("config.json"), cfg.to_string()).unwrap();
	let store = ModelStore::new(dir.join("store"));
	let hash = store.import(&folder, &Manifest::new("text-classification", 256)).unwrap();
	(Engine::new(store), hash)
}

#[test]
fn a_classifier_without_class_names_or_with_the_wrong_count_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let (engine, model) = with_config(dir.path(), |c| {
		c.as_object_mut().unwrap().remove("id2label");
	});
	let err = engine.run(&model, "hello").map(|_| ()).unwrap_err();
	assert!(matches!(err, EngineError::BadConfig { .. }), "{err}");
	assert!(err.to_string().contains("id2label"), "{err}");

	let dir = tempfile::tempdir().unwrap();
	let (engine, model) = with_config(dir.path(), |c| {
		c["id2label"] = serde_json::json!({"0": "no", "1": "yes"});
	});
	let err = engine.run(&model, "hello").map(|_| ()).unwrap_err();
	// Two names for a three-row head: the config disagrees with the weights.
	assert!(matches!(err, EngineError::BadWeights { .. }), "{err}");
	assert!(err.to_string().contains("shape"), "{err}");

	let dir = tempfile::tempdir().unwrap();
	let (engine, model) = with_config(dir.path(), |c| {
		c["id2label"] = serde_json::json!({"0": "a", "1": "b", "5": "c"});
	});
	let err = engine.run(&model, "hello").map(|_| ()).unwrap_err();
	assert!(matches!(err, EngineError::BadConfig { .. }), "{err}");
	assert!(err.to_string().contains("class 2"), "{err}");
}

#[test]
fn an_embedding_model_is_not_a_classifier() {
	let m = models();
	let (source, minilm) = source();
	// The same weights under a text-classification manifest, its config naming two classes: the
	// weights have no head, so they do not load.
	let dir = tempfile::tempdir().unwrap();
	let folder = dir.path().join("m");
	std::fs::create_dir_all(&folder).unwrap();
	for (from, to) in [("weights", "model.safetensors"), ("tokenizer", "tokenizer.json")] {
		std::fs::copy(source.path(&minilm, from), folder.join(to)).unwrap();
	}
	let mut cfg: serde_json::Value =
		serde_json::from_slice(&std::fs::read(source.path(&minilm, "config")).unwrap()).unwrap();
	cfg["id2label"] = serde_json::json!({"0": "no", "1": "yes"});
	std::fs::write(folder.join("config.json"), cfg.to_string()).unwrap();
	let store = ModelStore::new(dir.path().join("store"));
	let hash = store.import(&folder, &Manifest::new("text-classification", 256)).unwrap();
	let err = Engine::new(store).run(&hash, "hello").map(|_| ()).unwrap_err();
	assert!(matches!(err, EngineError::BadWeights { .. }), "{err}");
	assert!(err.to_string().contains("classifier"), "{err}");
	// And `embedder` refuses a classifier.
	let err = m.engine.embedder(&m.classifier).map(|_| ()).unwrap_err();
	assert!(err.to_string().contains("not text-embedding"), "{err}");
}
