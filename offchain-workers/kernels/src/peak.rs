//! The FMA peak this machine reaches now: every core of rayon's pool runs independent fused
//! multiply-add chains in registers (no memory traffic) with the widest kernel family, so a
//! product's GFLOP/s can be set against what the cores do at the clock they run at, rather
//! than against a nominal clock and a guessed issue width.
#![allow(clippy::arithmetic_side_effects)] // reason: counting loop iterations of a measurement

use crate::Isa;
use std::time::Instant;

/// Measured FMA peak in GFLOP/s over all of rayon's threads (2 flops a multiply-add a lane), for
/// about `seconds`.
pub fn fma_peak_gflops(seconds: f64) -> f64 {
	let isa = Isa::detected();
	let started = Instant::now();
	let flops: u64 = rayon::broadcast(|_| {
		let mut flops = 0u64;
		while started.elapsed().as_secs_f64() < seconds {
			flops += chains(isa);
		}
		flops
	})
	.into_iter()
	.sum();
	flops as f64 / started.elapsed().as_secs_f64() / 1e9
}

/// Runs a block of FMA chains; returns its flops.
fn chains(isa: Isa) -> u64 {
	const ROUNDS: u64 = 1 << 20;
	match isa {
		#[cfg(target_arch = "x86_64")]
		// SAFETY: `Isa::Avx512` is detected only where the CPU has AVX-512F.
		Isa::Avx512 => unsafe { chains_avx512(ROUNDS) },
		#[cfg(target_arch = "x86_64")]
		// SAFETY: `Isa::Avx2Fma` is detected only where the CPU has AVX2 and FMA.
		Isa::Avx2Fma => unsafe { chains_avx2(ROUNDS) },
		_ => {
			let mut acc = [1f32; 16];
			for _ in 0..ROUNDS / 16 {
				for a in acc.iter_mut() {
					*a = a.mul_add(0.999_999, 1e-7);
				}
			}
			std::hint::black_box(acc);
			ROUNDS / 16 * 16 * 2
		}
	}
}

/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn chains_avx512(rounds: u64) -> u64 {
	use std::arch::x86_64::*;
	let (x, y) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
	let mut acc = [_mm512_set1_ps(1.0); 16];
	for _ in 0..rounds {
		for a in acc.iter_mut() {
			*a = _mm512_fmadd_ps(*a, x, y);
		}
	}
	std::hint::black_box(acc);
	rounds * 16 * 16 * 2
}

/// # Safety
/// The CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chains_avx2(rounds: u64) -> u64 {
	use std::arch::x86_64::*;
	let (x, y) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
	let mut acc = [_mm256_set1_ps(1.0); 12];
	for _ in 0..rounds {
		for a in acc.iter_mut() {
			*a = _mm256_fmadd_ps(*a, x, y);
		}
	}
	std::hint::black_box(acc);
	rounds * 12 * 8 * 2
}
