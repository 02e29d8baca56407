//! GFLOP/s of the kernels at all-MiniLM-L6-v2's shapes, per kernel family:
//!
//!     cargo run --release -p infera-kernels --example gemm [seconds per case]
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects, clippy::indexing_slicing)] // reason: a measurement tool

use infera_kernels::{matmul_on, Epilogue, Isa, MatRef, PackedMatrix};
use std::time::Instant;

fn main() {
	let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
	// (rows of A, outputs, inputs): QKV, attention output, feed-forward up and down.
	let shapes = [
		(12, 1152, 384),
		(12, 1536, 384),
		(12, 384, 1536),
		(4096, 1152, 384),
		(4096, 384, 384),
		(4096, 1536, 384),
		(4096, 384, 1536),
	];
	println!(
		"FMA peak {:.1} GFLOP/s ({:?}, {} threads)",
		infera_kernels::fma_peak_gflops(seconds),
		Isa::detected(),
		rayon::current_num_threads()
	);
	for (m, n, k) in shapes {
		let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5).collect();
		let w: Vec<f32> =
			(0..n * k).map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5).collect();
		let bias = vec![0.1f32; n];
		let packed = PackedMatrix::from_weight(MatRef::dense(&w, n, k).unwrap());
		let mut out = vec![0f32; m * n];
		let mut line = format!("{m:>5} × {n:>5} × {k:>5}:");
		for isa in Isa::supported() {
			let a = MatRef::dense(&a, m, k).unwrap();
			let started = Instant::now();
			let mut runs = 0u32;
			while started.elapsed().as_secs_f64() < seconds {
				matmul_on(isa, a, &packed, Epilogue::Bias(&bias), &mut out, true).unwrap();
				runs += 1;
			}
			let flops = 2.0 * (m * n * k) as f64 * f64::from(runs);
			line +=
				&format!(" {isa:?} {:.1} GFLOP/s", flops / started.elapsed().as_secs_f64() / 1e9);
		}
		println!("{line}");
	}
}
