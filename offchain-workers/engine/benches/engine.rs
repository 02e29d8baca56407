//! Criterion benchmark of the engine on the real all-MiniLM-L6-v2 (`scripts/fetch-model`):
//! sentences per second at batch 1 × 12 tokens and batch 32 × 128 tokens (the design's two
//! performance cases), and one job as a worker runs it (embedding, canonical form and hash).
//!
//!   cargo bench -p infera-engine --bench engine
//!
//! The comparison with PyTorch on the same machine in the same run is `bench/compare`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // reason: benchmark harness

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use infera_engine::{bench::input_of_tokens, Engine, ModelHash, ModelStore};

const MINILM: &str = "a22e6a6ad8c13ac7e62a535a9c46fd2a8d3bba82998108f434dd260c5ab81563";

fn minilm(c: &mut Criterion) {
	let engine = Engine::new(ModelStore::new(ModelStore::default_location()));
	let model = ModelHash::parse(MINILM).unwrap();
	let embedder = engine.embedder(&model).expect("MiniLM in the store: run scripts/fetch-model");
	let short = input_of_tokens(&embedder, 12).unwrap();
	let long = input_of_tokens(&embedder, 128).unwrap();
	let batch: Vec<&str> = (0..32).map(|_| long.as_str()).collect();

	let mut group = c.benchmark_group("minilm");
	group.sample_size(20);
	group.throughput(Throughput::Elements(1));
	group.bench_function("batch1x12", |b| b.iter(|| embedder.embed(&[short.as_str()]).unwrap()));
	group.bench_function("job_batch1x12_canonical_hash", |b| {
		b.iter(|| engine.run_bytes(&model, short.as_bytes()).unwrap())
	});
	group.throughput(Throughput::Elements(32));
	group.bench_function("batch32x128", |b| b.iter(|| embedder.embed(&batch).unwrap()));
	group.finish();
}

criterion_group!(benches, minilm);
criterion_main!(benches);
