#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects, clippy::unwrap_used)] // reason: test code

use super::*;

/// A seeded stream of values in [-1, 1) (xorshift), so failures reproduce.
fn values(seed: u64, n: usize) -> Vec<f32> {
	let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
	(0..n)
		.map(|_| {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			(s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
		})
		.collect()
}

/// The definition, element by element: one fused multiply-add a step, in order.
fn reference(a: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
	let mut out = vec![0f32; m * n];
	for i in 0..m {
		for j in 0..n {
			let mut s = 0f32;
			for p in 0..k {
				s = a[i * k + p].mul_add(w[j * k + p], s);
			}
			out[i * n + j] = s;
		}
	}
	out
}

#[test]
fn every_kernel_computes_the_definitions_bits_at_every_shape() {
	let isas = Isa::supported();
	for &(m, n, k) in &[
		(1, 1, 1),
		(1, 16, 7),
		(5, 17, 33),
		(6, 15, 0),
		(13, 40, 64),
		(14, 32, 384),
		(29, 48, 100),
		(200, 33, 20),
	] {
		let a = values(1 + m as u64, m * k);
		let w = values(7 + n as u64, n * k);
		let want = reference(&a, &w, m, n, k);
		let packed = PackedMatrix::from_weight(MatRef::dense(&w, n, k).unwrap());
		for &isa in &isas {
			for parallel in [false, true] {
				let mut out = vec![f32::NAN; m * n];
				let a = MatRef::dense(&a, m, k).unwrap();
				matmul_on(isa, a, &packed, Epilogue::None, &mut out, parallel).unwrap();
				assert_eq!(
					out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
					want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
					"{isa:?} (parallel {parallel}) at {m} × {n} × {k}"
				);
			}
		}
	}
}

#[test]
fn a_row_computes_the_same_bits_alone_as_in_any_batch() {
	let (m, n, k) = (37, 50, 129);
	let a = values(3, m * k);
	let w = values(4, n * k);
	let packed = PackedMatrix::from_weight(MatRef::dense(&w, n, k).unwrap());
	let mut batch = vec![0f32; m * n];
	matmul(MatRef::dense(&a, m, k).unwrap(), &packed, Epilogue::None, &mut batch).unwrap();
	for i in [0, 5, 13, 36] {
		let mut alone = vec![0f32; n];
		let row = MatRef::dense(&a[i * k..(i + 1) * k], 1, k).unwrap();
		matmul_serial(row, &packed, Epilogue::None, &mut alone).unwrap();
		assert_eq!(alone, batch[i * n..(i + 1) * n]);
	}
}

#[test]
fn epilogues_and_strided_views_compute_what_they_say() {
	let (m, n, k) = (9, 20, 24);
	// A as the middle 24 columns of 40-wide rows.
	let wide = values(5, m * 40);
	let a: Vec<f32> = (0..m).flat_map(|i| wide[i * 40 + 8..i * 40 + 32].to_vec()).collect();
	let w = values(6, n * k);
	let bias = values(8, n);
	let residual = values(9, m * n);
	let sums = reference(&a, &w, m, n, k);
	let view = MatRef::new(&wide[8..], m, k, 40).unwrap();
	let packed = PackedMatrix::from_weight(MatRef::dense(&w, n, k).unwrap());
	let run = |e: Epilogue<'_>| {
		let mut out = vec![0f32; m * n];
		matmul(view, &packed, e, &mut out).unwrap();
		out
	};
	let idx = |i: usize, j: usize| i * n + j;
	let (b, g, r) = (
		run(Epilogue::Bias(&bias)),
		run(Epilogue::BiasGelu(&bias)),
		run(Epilogue::BiasResidual(&bias, &residual)),
	);
	for i in 0..m {
		for j in 0..n {
			let v = sums[idx(i, j)] + bias[j];
			assert_eq!(b[idx(i, j)], v);
			assert_eq!(g[idx(i, j)], gelu(v));
			assert_eq!(r[idx(i, j)], v + residual[idx(i, j)]);
		}
	}
	// B from a k × n matrix is B, not its transpose.
	let bt: Vec<f32> =
		(0..k).flat_map(|p| (0..n).map(move |j| (p, j))).map(|(p, j)| w[j * k + p]).collect();
	let from_rows = PackedMatrix::from_rows(MatRef::dense(&bt, k, n).unwrap());
	let mut out = vec![0f32; m * n];
	matmul(view, &from_rows, Epilogue::None, &mut out).unwrap();
	assert_eq!(out, sums);
}

#[test]
fn shapes_that_do_not_fit_are_errors() {
	let w = values(1, 6);
	let packed = PackedMatrix::from_weight(MatRef::dense(&w, 2, 3).unwrap());
	let a = values(2, 6);
	let mut out = vec![0f32; 4];
	let a2x3 = MatRef::dense(&a, 2, 3).unwrap();
	assert!(MatRef::dense(&a, 4, 2).is_err());
	assert!(MatRef::new(&a, 2, 3, 4).is_err()); // the second row would end past the data
	assert!(MatRef::new(&a, 2, 4, 3).is_err()); // stride below the row length
	assert!(matmul(MatRef::dense(&a, 3, 2).unwrap(), &packed, Epilogue::None, &mut out).is_err());
	assert!(matmul(a2x3, &packed, Epilogue::None, &mut out[..3]).is_err());
	assert!(matmul(a2x3, &packed, Epilogue::Bias(&[1.0]), &mut out).is_err());
	assert!(
		matmul(a2x3, &packed, Epilogue::BiasResidual(&[1.0, 2.0], &[0.0; 3]), &mut out).is_err()
	);
	assert!(matmul(a2x3, &packed, Epilogue::BiasResidual(&[1.0, 2.0], &[0.0; 4]), &mut out).is_ok());
}

#[test]
fn fast_erf_agrees_with_libm_everywhere_that_matters() {
	fn erf_f64(x: f64) -> f64 {
		// Abramowitz–Stegun 7.1.26 is too coarse; integrate instead (Simpson, fine steps).
		let steps = 2000;
		let h = x / steps as f64;
		let f = |t: f64| (-t * t).exp();
		let mut s = f(0.0) + f(x);
		for i in 1..steps {
			s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
		}
		s * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt()
	}
	let mut worst = 0f64;
	for i in -600..=600 {
		let x = i as f32 * 0.01; // [-6, 6]
		worst = worst.max((f64::from(erf(x)) - erf_f64(f64::from(x))).abs());
	}
	// A few float32 ULPs near 1; BERT's activations never need more.
	assert!(worst < 1e-6, "max |erf error| {worst}");
}
