//! Fused element-wise kernels for the CPU. candle's element-wise ops run on one thread, one pass
//! per op; BERT's feed-forward `GELU(x W + b)` over `batch × tokens × 1536` elements is the largest
//! of them, so the bias add and the exact (erf) GELU are done here in one pass, on every core. The
//! same holds for the attention scores (`batch × heads × tokens²`: scale, padding mask and softmax
//! in one pass) and for each projection's bias with its residual.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Module, Result, Shape, Tensor};
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

/// A linear layer without its bias, the bias as a tensor (for other devices) and as host floats
/// (for the fused CPU kernels).
fn split_bias(linear: &Linear, what: &str) -> Result<(Linear, Tensor, Vec<f32>)> {
	let Some(bias) = linear.bias().cloned() else { candle_core::bail!("{what} needs a bias") };
	let host = bias.to_vec1::<f32>()?;
	Ok((Linear::new(linear.weight().clone(), None), bias, host))
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
		let (weight_only, bias, host) = split_bias(&linear, "LinearGelu")?;
		Ok(Self { weight_only, bias, op: BiasGelu { bias: host } })
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

/// The contiguous f32 data of a tensor argument of a custom op.
fn f32_data<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
	let CpuStorage::F32(data) = storage else { candle_core::bail!("{op} takes f32") };
	let Some((start, end)) = layout.contiguous_offsets() else {
		candle_core::bail!("{op} takes contiguous tensors")
	};
	match data.get(start..end) {
		Some(d) => Ok(d),
		None => candle_core::bail!("{op}: bad layout"),
	}
}

/// `x + bias (+ residual)` along the last dimension.
struct BiasAdd {
	bias: Vec<f32>,
}

impl BiasAdd {
	fn rows(&self, x: &[f32], op: &str) -> Result<usize> {
		let cols = self.bias.len();
		if cols == 0 || !x.len().is_multiple_of(cols) {
			candle_core::bail!("{op}: last dimension is not {cols}");
		}
		Ok(cols)
	}
}

impl CustomOp1 for BiasAdd {
	fn name(&self) -> &'static str {
		"infera-bias-add"
	}

	fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
		let name = CustomOp1::name(self);
		let x = f32_data(storage, layout, name)?;
		let cols = self.rows(x, name)?;
		let mut out = vec![0f32; x.len()];
		out.par_chunks_mut(cols).zip(x.par_chunks(cols)).for_each(|(o, x)| {
			for ((o, x), b) in o.iter_mut().zip(x).zip(&self.bias) {
				*o = x + b;
			}
		});
		Ok((CpuStorage::F32(out), layout.shape().clone()))
	}
}

impl CustomOp2 for BiasAdd {
	fn name(&self) -> &'static str {
		"infera-bias-residual"
	}

	fn cpu_fwd(
		&self,
		s1: &CpuStorage,
		l1: &Layout,
		s2: &CpuStorage,
		l2: &Layout,
	) -> Result<(CpuStorage, Shape)> {
		let x = f32_data(s1, l1, CustomOp2::name(self))?;
		let r = f32_data(s2, l2, CustomOp2::name(self))?;
		if l1.shape() != l2.shape() {
			candle_core::bail!(
				"bias-residual: shapes {:?} and {:?} differ",
				l1.shape(),
				l2.shape()
			);
		}
		let cols = self.rows(x, CustomOp2::name(self))?;
		let mut out = vec![0f32; x.len()];
		out.par_chunks_mut(cols).zip(x.par_chunks(cols)).zip(r.par_chunks(cols)).for_each(
			|((o, x), r)| {
				for (((o, x), r), b) in o.iter_mut().zip(x).zip(r).zip(&self.bias) {
					*o = x + b + r;
				}
			},
		);
		Ok((CpuStorage::F32(out), l1.shape().clone()))
	}
}

/// A linear layer whose bias is added on every core (alone, or together with a residual).
pub struct LinearBias {
	weight_only: Linear,
	bias: Tensor,
	op: BiasAdd,
}

impl LinearBias {
	/// Wraps a loaded linear layer (which must have a bias).
	pub fn new(linear: Linear) -> Result<Self> {
		let (weight_only, bias, host) = split_bias(&linear, "LinearBias")?;
		Ok(Self { weight_only, bias, op: BiasAdd { bias: host } })
	}

	/// `x W + b`.
	pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
		let y = self.weight_only.forward(x)?;
		if y.device().is_cpu() {
			y.contiguous()?.apply_op1_no_bwd(&self.op)
		} else {
			y.broadcast_add(&self.bias)
		}
	}

	/// `x W + b + residual`.
	pub fn forward_residual(&self, x: &Tensor, residual: &Tensor) -> Result<Tensor> {
		let y = self.weight_only.forward(x)?;
		if y.device().is_cpu() {
			y.contiguous()?.apply_op2_no_bwd(&residual.contiguous()?, &self.op)
		} else {
			y.broadcast_add(&self.bias)?.add(residual)
		}
	}
}

/// Softmax of one row in place: subtract the maximum, exponentiate, scale by the inverse sum. The
/// one softmax both fused ops use, so they round alike.
fn softmax_in_place(row: &mut [f32]) {
	let max = row.iter().fold(f32::NEG_INFINITY, |a, v| a.max(*v));
	let mut sum = 0f32;
	for v in row.iter_mut() {
		*v = (*v - max).exp();
		sum += *v;
	}
	let inv = 1.0 / sum;
	for v in row.iter_mut() {
		*v *= inv;
	}
}

/// `softmax(scale · scores + mask)` over the last dimension of attention scores
/// `[batch, heads, queries, keys]`, with the additive padding mask `[batch, keys]`.
struct MaskedSoftmax {
	scale: f32,
}

impl CustomOp2 for MaskedSoftmax {
	fn name(&self) -> &'static str {
		"infera-masked-softmax"
	}

	fn cpu_fwd(
		&self,
		s1: &CpuStorage,
		l1: &Layout,
		s2: &CpuStorage,
		l2: &Layout,
	) -> Result<(CpuStorage, Shape)> {
		let scores = f32_data(s1, l1, self.name())?;
		let mask = f32_data(s2, l2, self.name())?;
		let (b, heads, queries, keys) = l1.shape().dims4()?;
		let (mb, mk) = l2.shape().dims2()?;
		if (mb, mk) != (b, keys) || keys == 0 {
			candle_core::bail!(
				"masked-softmax: mask {:?} does not fit scores {:?}",
				l2.shape(),
				l1.shape()
			);
		}
		let rows_per_batch = heads * queries;
		let mut out = vec![0f32; scores.len()];
		out.par_chunks_mut(keys).zip(scores.par_chunks(keys)).enumerate().for_each(
			|(row, (o, s))| {
				let batch = row / rows_per_batch.max(1);
				let m = mask.get(batch * keys..(batch + 1) * keys).unwrap_or(&[]);
				for ((o, s), m) in o.iter_mut().zip(s).zip(m) {
					*o = s * self.scale + m;
				}
				softmax_in_place(o);
			},
		);
		Ok((CpuStorage::F32(out), l1.shape().clone()))
	}
}

/// Attention probabilities from raw scores `[batch, heads, queries, keys]`, a scale and an
/// additive padding mask `[batch, keys]` (0 attended, large negative padded).
pub fn masked_softmax(scores: &Tensor, mask: &Tensor, scale: f64) -> Result<Tensor> {
	if scores.device().is_cpu() {
		scores
			.contiguous()?
			.apply_op2_no_bwd(&mask.contiguous()?, &MaskedSoftmax { scale: scale as f32 })
	} else {
		let mask = mask.unsqueeze(1)?.unsqueeze(1)?;
		candle_nn::ops::softmax_last_dim(&(scores * scale)?.broadcast_add(&mask)?)
	}
}

/// Multi-head self-attention straight from the fused QKV projection `[batch, len, 3, heads, d]`
/// to the context `[batch, len, heads · d]`: per query, scores against every key, scale, padding
/// mask, softmax and the weighted sum of values, without materialising the score tensor or a
/// permuted copy of Q, K and V. (batch, head) pairs are spread over every core.
struct Attention {
	heads: usize,
	head_dim: usize,
	scale: f32,
}

impl CustomOp2 for Attention {
	fn name(&self) -> &'static str {
		"infera-attention"
	}

	fn cpu_fwd(
		&self,
		s1: &CpuStorage,
		l1: &Layout,
		s2: &CpuStorage,
		l2: &Layout,
	) -> Result<(CpuStorage, Shape)> {
		let qkv = f32_data(s1, l1, self.name())?;
		let mask = f32_data(s2, l2, self.name())?;
		let (b, t, three, heads, d) = l1.shape().dims5()?;
		if three != 3 || heads != self.heads || d != self.head_dim || l2.shape().dims2()? != (b, t)
		{
			candle_core::bail!(
				"attention: qkv {:?} / mask {:?} do not fit",
				l1.shape(),
				l2.shape()
			);
		}
		let segments: Vec<(usize, usize)> = (0..b).map(|i| (i * t, t)).collect();
		let out = attend_segments(qkv, Some(mask), &segments, heads, d, self.scale);
		Ok((CpuStorage::F32(out), Shape::from_dims(&[b, t, heads * d])))
	}
}

/// Attention over segments of token rows of the fused QKV projection (`[tokens, 3 · heads · d]`
/// in memory): each segment `(first row, rows)` attends only within itself. With `mask`, the
/// additive mask of each row's key position (`[tokens]`, as padded batches carry); without,
/// every key of the segment is attended. Returns the context `[tokens, heads · d]` (rows outside
/// every segment stay 0).
///
/// One task per (segment, head): keys transposed to `[d, len]` so each query's scores are `d`
/// vector updates across all keys, and values `[len, d]` for the weighted sum. The arithmetic of
/// a segment does not depend on the others, so a packed batch computes what each input alone does.
fn attend_segments(
	qkv: &[f32],
	mask: Option<&[f32]>,
	segments: &[(usize, usize)],
	heads: usize,
	d: usize,
	scale: f32,
) -> Vec<f32> {
	let hd = heads * d;
	let row_len = 3 * hd;
	let per_head: Vec<Vec<f32>> = (0..segments.len() * heads)
		.into_par_iter()
		.map(|task| {
			let (segment, head) = (task / heads, task % heads);
			let (first, t) = segments.get(segment).copied().unwrap_or((0, 0));
			let mut ctx = vec![0f32; t * d];
			let zeros;
			let m = match mask {
				Some(mask) => mask.get(first..first + t),
				None => {
					zeros = vec![0f32; t];
					Some(zeros.as_slice())
				}
			};
			let (Some(rows), Some(m)) = (qkv.get(first * row_len..(first + t) * row_len), m) else {
				return ctx;
			};
			let slice = |row: &[f32], part: usize| -> Vec<f32> {
				let at = part * hd + head * d;
				row.get(at..at + d).map(<[f32]>::to_vec).unwrap_or_else(|| vec![0.0; d])
			};
			let mut keys_t = vec![0f32; d * t];
			let mut values = Vec::with_capacity(t * d);
			for (j, row) in rows.chunks_exact(row_len).enumerate() {
				for (dd, k) in slice(row, 1).into_iter().enumerate() {
					if let Some(slot) = keys_t.get_mut(dd * t + j) {
						*slot = k;
					}
				}
				values.extend(slice(row, 2));
			}
			let mut scores = vec![0f32; t];
			for (row, out) in rows.chunks_exact(row_len).zip(ctx.chunks_exact_mut(d)) {
				let q = slice(row, 0);
				scores.copy_from_slice(m);
				for (qd, kt) in q.iter().zip(keys_t.chunks_exact(t)) {
					let qd = qd * scale;
					for (s, k) in scores.iter_mut().zip(kt) {
						*s += qd * k;
					}
				}
				softmax_in_place(&mut scores);
				for (&p, v) in scores.iter().zip(values.chunks_exact(d)) {
					if p == 0.0 {
						continue;
					}
					for (o, v) in out.iter_mut().zip(v) {
						*o += p * v;
					}
				}
			}
			ctx
		})
		.collect();
	// Gather the heads back into rows [tokens, heads · d].
	let tokens = qkv.len() / row_len.max(1);
	let mut out = vec![0f32; tokens * hd];
	for (segment, &(first, t)) in segments.iter().enumerate() {
		let Some(rows) = out.get_mut(first * hd..(first + t) * hd) else { continue };
		rows.par_chunks_mut(hd).enumerate().for_each(|(i, o)| {
			for (head, o) in o.chunks_exact_mut(d).enumerate() {
				if let Some(src) =
					per_head.get(segment * heads + head).and_then(|c| c.get(i * d..(i + 1) * d))
				{
					o.copy_from_slice(src);
				}
			}
		});
	}
	out
}

/// Attention within each of several inputs packed one after another: QKV `[tokens, 3, heads,
/// d]`, no padding.
struct PackedAttention {
	heads: usize,
	head_dim: usize,
	scale: f32,
	segments: Vec<(usize, usize)>,
}

impl CustomOp1 for PackedAttention {
	fn name(&self) -> &'static str {
		"infera-packed-attention"
	}

	fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
		let qkv = f32_data(storage, layout, self.name())?;
		let (tokens, three, heads, d) = layout.shape().dims4()?;
		let covered = self.segments.iter().try_fold(0usize, |at, &(first, len)| {
			(first == at).then(|| at.checked_add(len)).flatten()
		});
		if three != 3 || heads != self.heads || d != self.head_dim || covered != Some(tokens) {
			candle_core::bail!(
				"packed attention: qkv {:?} does not fit segments {:?}",
				layout.shape(),
				self.segments
			);
		}
		let out = attend_segments(qkv, None, &self.segments, heads, d, self.scale);
		Ok((CpuStorage::F32(out), Shape::from_dims(&[tokens, heads * d])))
	}
}

/// Self-attention of inputs packed one after another (CPU): QKV `[tokens, 3 · heads · d]`, and
/// each input's token count in order; returns the context `[tokens, heads · d]`, each input
/// attending only to its own tokens.
pub fn packed_attention(
	qkv: &Tensor,
	lengths: &[usize],
	heads: usize,
	head_dim: usize,
) -> Result<Tensor> {
	let (tokens, _) = qkv.dims2()?;
	let mut segments = Vec::with_capacity(lengths.len());
	let mut at = 0usize;
	for &len in lengths {
		segments.push((at, len));
		at = at.saturating_add(len);
	}
	let scale = (1.0 / (head_dim as f64).sqrt()) as f32;
	let op = PackedAttention { heads, head_dim, scale, segments };
	qkv.reshape((tokens, 3, heads, head_dim))?.contiguous()?.apply_op1_no_bwd(&op)
}

/// Self-attention from the fused QKV projection `[batch, len, 3 · heads · d]` and the additive
/// padding mask `[batch, len]`; returns the context `[batch, len, heads · d]`.
pub fn attention(qkv: &Tensor, mask: &Tensor, heads: usize, head_dim: usize) -> Result<Tensor> {
	let (b, t, _) = qkv.dims3()?;
	let scale = 1.0 / (head_dim as f64).sqrt();
	let qkv = qkv.reshape((b, t, 3, heads, head_dim))?;
	if qkv.device().is_cpu() {
		let op = Attention { heads, head_dim, scale: scale as f32 };
		return qkv.contiguous()?.apply_op2_no_bwd(&mask.contiguous()?, &op);
	}
	let qkv = qkv.permute((2, 0, 3, 1, 4))?.contiguous()?;
	let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
	let probs = masked_softmax(&q.matmul(&k.t()?)?, mask, scale)?;
	probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, heads * head_dim))
}

#[cfg(test)]
mod tests {
	#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects, clippy::unwrap_used)] // reason: test code

	use candle_core::{Device, Tensor};

	#[test]
	fn fused_ops_equal_candles_unfused_ones() {
		let dev = Device::Cpu;
		let x = Tensor::randn(0f32, 1.0, (3, 5, 8), &dev).unwrap();
		let r = Tensor::randn(0f32, 1.0, (3, 5, 8), &dev).unwrap();
		let w = Tensor::randn(0f32, 0.3, (8, 8), &dev).unwrap();
		let b = Tensor::randn(0f32, 1.0, 8, &dev).unwrap();
		let linear = candle_nn::Linear::new(w, Some(b));
		let fused = super::LinearBias::new(linear.clone()).unwrap();
		let want = candle_core::Module::forward(&linear, &x).unwrap();
		let diff = |a: &Tensor, b: &Tensor| {
			(a - b)
				.unwrap()
				.abs()
				.unwrap()
				.flatten_all()
				.unwrap()
				.max(0)
				.unwrap()
				.to_scalar::<f32>()
				.unwrap()
		};
		assert!(diff(&fused.forward(&x).unwrap(), &want) < 1e-6);
		let want_r = (&want + &r).unwrap();
		assert!(diff(&fused.forward_residual(&x, &r).unwrap(), &want_r) < 1e-6);

		let scores = Tensor::randn(0f32, 3.0, (2, 3, 4, 6), &dev).unwrap();
		let mask =
			Tensor::new(&[[0f32, 0., 0., 0., -1e9, -1e9], [0., 0., 0., 0., 0., 0.]], &dev).unwrap();
		let got = super::masked_softmax(&scores, &mask, 0.25).unwrap();
		let want = candle_nn::ops::softmax_last_dim(
			&(&scores * 0.25)
				.unwrap()
				.broadcast_add(&mask.unsqueeze(1).unwrap().unsqueeze(1).unwrap())
				.unwrap(),
		)
		.unwrap();
		assert!(diff(&got, &want) < 1e-6);
		// Padded keys get no attention.
		let padded = got.get(0).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
		assert!(padded.chunks(6).all(|row| row[4] == 0.0 && row[5] == 0.0));
		// A mask that does not fit is an error, not a panic.
		assert!(super::masked_softmax(&scores, &mask.narrow(1, 0, 5).unwrap(), 1.0).is_err());
	}

	#[test]
	fn fused_attention_equals_attention_from_candle_ops() {
		let dev = Device::Cpu;
		let (b, t, heads, d) = (2, 7, 3, 16);
		let qkv = Tensor::randn(0f32, 1.0, (b, t, 3 * heads * d), &dev).unwrap();
		let mask = Tensor::new(&[[0f32, 0., 0., 0., 0., -1e9, -1e9], [0.; 7]], &dev).unwrap();
		let got = super::attention(&qkv, &mask, heads, d).unwrap();
		// The reference: permute, batched matmuls, masked softmax, as candle computes it.
		let x = qkv
			.reshape((b, t, 3, heads, d))
			.unwrap()
			.permute((2, 0, 3, 1, 4))
			.unwrap()
			.contiguous()
			.unwrap();
		let (q, k, v) = (x.get(0).unwrap(), x.get(1).unwrap(), x.get(2).unwrap());
		let scores = q.matmul(&k.t().unwrap()).unwrap();
		let probs = candle_nn::ops::softmax_last_dim(
			&(&scores * 0.25)
				.unwrap()
				.broadcast_add(&mask.unsqueeze(1).unwrap().unsqueeze(1).unwrap())
				.unwrap(),
		)
		.unwrap();
		let want =
			probs.matmul(&v).unwrap().transpose(1, 2).unwrap().reshape((b, t, heads * d)).unwrap();
		let diff = (got - want).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap();
		assert!(diff.to_scalar::<f32>().unwrap() < 1e-5);
		// A mask of the wrong shape is an error.
		assert!(super::attention(&qkv, &mask.narrow(1, 0, 6).unwrap(), heads, d).is_err());
	}

	#[test]
	fn packed_attention_is_each_input_alone_and_checks_its_segments() {
		let dev = Device::Cpu;
		let (heads, d) = (2, 8);
		let lengths = [3usize, 1, 5];
		let tokens: usize = lengths.iter().sum();
		let qkv = Tensor::randn(0f32, 1.0, (tokens, 3 * heads * d), &dev).unwrap();
		let packed = super::packed_attention(&qkv, &lengths, heads, d).unwrap();
		let mut first = 0;
		for len in lengths {
			let alone_qkv = qkv.narrow(0, first, len).unwrap().unsqueeze(0).unwrap();
			let mask = Tensor::zeros((1, len), candle_core::DType::F32, &dev).unwrap();
			let alone = super::attention(&alone_qkv, &mask, heads, d).unwrap().squeeze(0).unwrap();
			let got = packed.narrow(0, first, len).unwrap();
			// Bit for bit: the same arithmetic in the same order.
			assert_eq!(got.to_vec2::<f32>().unwrap(), alone.to_vec2::<f32>().unwrap());
			first += len;
		}
		// Lengths that do not cover the tokens are an error, not a panic.
		assert!(super::packed_attention(&qkv, &[3, 1, 4], heads, d).is_err());
		assert!(super::packed_attention(&qkv, &[3, 1, 6], heads, d).is_err());
	}

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
