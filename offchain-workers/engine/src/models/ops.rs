//! Fused element-wise kernels for the CPU. candle's element-wise ops run on one thread, one pass
//! per op; BERT's feed-forward `GELU(x W + b)` over `batch × tokens × 1536` elements is the largest
//! of them, so the bias add and the exact (erf) GELU are done here in one pass, on every core.

use candle_core::{CpuStorage, CustomOp1, Layout, Module, Result, Shape, Tensor};
use candle_nn::Linear;
use rayon::prelude::*;

/// `GELU(x + bias)` along the last dimension, exact (erf) form as in BERT.
struct BiasGelu {
	bias: Vec<f32>,
}

/// erf(x) for f32 as a rational function of x² on [−4, 4] (|erf| rounds to 1 beyond): odd
/// numerator of degree 13 over an even denominator of degree 8, the form vectorising libraries use
/// for float erf. Branch-free, so the compiler vectorises the loop; it agrees with libm's `erff`
/// to a few ULP (tested below), far inside the model's tolerance.
#[inline(always)]
fn erf(x: f32) -> f32 {
	const P: [f32; 7] = [
		-2.726_142_3e-10,
		2.770_681_4e-8,
		-2.101_024e-6,
		-5.692_506_4e-5,
		-7.349_906_3e-4,
		-2.954_600_1e-3,
		-1.609_603_3e-2,
	];
	const Q: [f32; 5] =
		[-1.456_607_2e-5, -2.133_740_6e-4, -1.682_827e-3, -7.373_329_3e-3, -1.426_474e-2];
	let x = x.clamp(-4.0, 4.0);
	let x2 = x * x;
	let p = P.iter().skip(1).fold(P[0], |acc, c| acc * x2 + c) * x;
	let q = Q.iter().skip(1).fold(Q[0], |acc, c| acc * x2 + c);
	p / q
}

#[inline(always)]
fn gelu(v: f32) -> f32 {
	(erf(v * std::f32::consts::FRAC_1_SQRT_2) + 1.0) * 0.5 * v
}

impl CustomOp1 for BiasGelu {
	fn name(&self) -> &'static str {
		"infera-bias-gelu"
	}

	fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
		let CpuStorage::F32(data) = storage else {
			candle_core::bail!("bias-gelu takes f32");
		};
		let Some((start, end)) = layout.contiguous_offsets() else {
			candle_core::bail!("bias-gelu takes a contiguous tensor");
		};
		let cols = self.bias.len();
		let Some(src) = data.get(start..end) else { candle_core::bail!("bias-gelu: bad layout") };
		if cols == 0 || src.len() % cols != 0 {
			candle_core::bail!("bias-gelu: last dimension is not {cols}");
		}
		let mut out = vec![0f32; src.len()];
		out.par_chunks_mut(cols).zip(src.par_chunks(cols)).for_each(|(o, x)| {
			for ((o, x), b) in o.iter_mut().zip(x).zip(&self.bias) {
				*o = gelu(x + b);
			}
		});
		Ok((CpuStorage::F32(out), layout.shape().clone()))
	}
}

/// A linear layer followed by GELU, with the bias add fused into the GELU pass on the CPU.
pub struct LinearGelu {
	weight_only: Linear,
	bias: Tensor,
	op: BiasGelu,
}

impl LinearGelu {
	/// Wraps a loaded linear layer (which must have a bias).
	pub fn new(linear: Linear) -> Result<Self> {
		let Some(bias) = linear.bias().cloned() else {
			candle_core::bail!("LinearGelu needs a bias")
		};
		let op = BiasGelu { bias: bias.to_vec1::<f32>()? };
		Ok(Self { weight_only: Linear::new(linear.weight().clone(), None), bias, op })
	}

	/// `GELU(x W + b)`.
	pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
		let y = self.weight_only.forward(x)?;
		if y.device().is_cpu() {
			y.contiguous()?.apply_op1_no_bwd(&self.op)
		} else {
			y.broadcast_add(&self.bias)?.gelu_erf()
		}
	}
}

#[cfg(test)]
mod tests {
	#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // reason: test code

	#[test]
	fn fast_erf_agrees_with_libm_everywhere_that_matters() {
		let mut worst = 0f32;
		for i in -1_000_000..=1_000_000 {
			let x = i as f32 * 6e-6; // [-6, 6]
			let want = candle_core::cpu::erf::erf_f32(x);
			worst = worst.max((super::erf(x) - want).abs());
		}
		// A few float32 ULPs near 1; BERT's activations never need more.
		assert!(worst < 1e-6, "max |erf error| {worst}");
	}
}
