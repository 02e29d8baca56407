//! The CPU side of the layers: linear layers on weights packed once at load and multiplied by
//! `infera-kernels` (FMA micro-kernels chosen at run time, the same bits on every CPU family and
//! thread count) with the bias, GELU or residual applied in the same pass; and multi-head
//! attention as two small products per (input, head) on those kernels. Other devices keep
//! candle's ops.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Module, Result, Shape, Tensor};
use candle_nn::Linear;
use infera_kernels::{matmul, matmul_serial, Epilogue, MatRef, PackedMatrix};
use rayon::prelude::*;

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

fn kernel_error(e: infera_kernels::ShapeError) -> candle_core::Error {
	candle_core::Error::Msg(format!("matrix kernel: {e}"))
}

/// A linear layer with a bias, `x Wᵀ + b`, optionally followed in the same pass by GELU or a
/// residual add. On the CPU the weight is packed once for the kernels and candle's copy is
/// dropped; on other devices it stays a candle `Linear`.
pub struct LinearBias {
	imp: DenseImpl,
}

enum DenseImpl {
	Cpu { packed: PackedMatrix, bias: Vec<f32> },
	Device { weight_only: Linear, bias: Tensor },
}

/// What follows the product.
#[derive(Clone, Copy)]
enum Then {
	Bias,
	Gelu,
	Residual,
}

struct DenseOp<'a> {
	packed: &'a PackedMatrix,
	bias: &'a [f32],
	then: Then,
}

impl DenseOp<'_> {
	fn run(
		&self,
		x: &[f32],
		layout: &Layout,
		residual: Option<&[f32]>,
	) -> Result<(CpuStorage, Shape)> {
		let k = self.packed.k();
		let n = self.packed.n();
		let mut dims = layout.shape().dims().to_vec();
		match dims.last_mut() {
			Some(last) if *last == k => *last = n,
			_ => candle_core::bail!(
				"linear: input {:?} does not end in {k} features",
				layout.shape()
			),
		}
		let rows = x.len().checked_div(k).unwrap_or(0);
		let mut out = vec![0f32; rows.saturating_mul(n)];
		let epilogue = match (self.then, residual) {
			(Then::Bias, _) => Epilogue::Bias(self.bias),
			(Then::Gelu, _) => Epilogue::BiasGelu(self.bias),
			(Then::Residual, Some(r)) => Epilogue::BiasResidual(self.bias, r),
			(Then::Residual, None) => {
				candle_core::bail!("linear: a residual add needs the residual")
			}
		};
		matmul(MatRef::dense(x, rows, k).map_err(kernel_error)?, self.packed, epilogue, &mut out)
			.map_err(kernel_error)?;
		Ok((CpuStorage::F32(out), Shape::from_dims(&dims)))
	}
}

impl CustomOp1 for DenseOp<'_> {
	fn name(&self) -> &'static str {
		"infera-linear"
	}

	fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
		self.run(f32_data(storage, layout, CustomOp1::name(self))?, layout, None)
	}
}

impl CustomOp2 for DenseOp<'_> {
	fn name(&self) -> &'static str {
		"infera-linear-residual"
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
		let (run, shape) = self.run(x, l1, Some(r))?;
		if &shape != l2.shape() {
			candle_core::bail!(
				"linear: residual {:?} does not fit the output {shape:?}",
				l2.shape()
			);
		}
		Ok((run, shape))
	}
}

impl LinearBias {
	/// Wraps a loaded linear layer (which must have a bias); on the CPU its weight is packed.
	pub fn new(linear: Linear) -> Result<Self> {
		let Some(bias) = linear.bias().cloned() else {
			candle_core::bail!("LinearBias needs a bias")
		};
		let weight = linear.weight();
		if !weight.device().is_cpu() {
			return Ok(Self {
				imp: DenseImpl::Device { weight_only: Linear::new(weight.clone(), None), bias },
			});
		}
		let (n, k) = weight.dims2()?;
		let host = weight.flatten_all()?.to_vec1::<f32>()?;
		let packed = PackedMatrix::from_weight(MatRef::dense(&host, n, k).map_err(kernel_error)?);
		Ok(Self { imp: DenseImpl::Cpu { packed, bias: bias.to_vec1::<f32>()? } })
	}

	fn cpu_op(&self, then: Then) -> Option<DenseOp<'_>> {
		match &self.imp {
			DenseImpl::Cpu { packed, bias } => Some(DenseOp { packed, bias, then }),
			DenseImpl::Device { .. } => None,
		}
	}

	/// `x Wᵀ + b`.
	pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
		match (&self.imp, self.cpu_op(Then::Bias)) {
			(_, Some(op)) => x.contiguous()?.apply_op1_no_bwd(&op),
			(DenseImpl::Device { weight_only, bias }, None) => {
				weight_only.forward(x)?.broadcast_add(bias)
			}
			_ => candle_core::bail!("linear: no implementation"),
		}
	}

	/// `GELU(x Wᵀ + b)`, exact (erf) form.
	pub fn forward_gelu(&self, x: &Tensor) -> Result<Tensor> {
		match (&self.imp, self.cpu_op(Then::Gelu)) {
			(_, Some(op)) => x.contiguous()?.apply_op1_no_bwd(&op),
			(DenseImpl::Device { weight_only, bias }, None) => {
				weight_only.forward(x)?.broadcast_add(bias)?.gelu_erf()
			}
			_ => candle_core::bail!("linear: no implementation"),
		}
	}

	/// `x Wᵀ + b + residual`.
	pub fn forward_residual(&self, x: &Tensor, residual: &Tensor) -> Result<Tensor> {
		match (&self.imp, self.cpu_op(Then::Residual)) {
			(_, Some(op)) => x.contiguous()?.apply_op2_no_bwd(&residual.contiguous()?, &op),
			(DenseImpl::Device { weight_only, bias }, None) => {
				weight_only.forward(x)?.broadcast_add(bias)?.add(residual)
			}
			_ => candle_core::bail!("linear: no implementation"),
		}
	}
}

/// A linear layer followed by GELU, fused on the CPU.
pub struct LinearGelu(LinearBias);

impl LinearGelu {
	/// Wraps a loaded linear layer (which must have a bias).
	pub fn new(linear: Linear) -> Result<Self> {
		LinearBias::new(linear).map(Self)
	}

	/// `GELU(x Wᵀ + b)`.
	pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
		self.0.forward_gelu(x)
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
		let out = attend_segments(qkv, Some(mask), &segments, heads, d, self.scale)?;
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
) -> Result<Vec<f32>> {
	let hd = heads * d;
	let row_len = 3 * hd;
	let per_head: Vec<Vec<f32>> = (0..segments.len() * heads)
		.into_par_iter()
		.map(|task| {
			let (segment, head) = (task / heads, task % heads);
			let (first, t) = segments.get(segment).copied().unwrap_or((0, 0));
			let zeros;
			let m = match mask {
				Some(mask) => mask.get(first..first + t),
				None => {
					zeros = vec![0f32; t];
					Some(zeros.as_slice())
				}
			};
			let bad =
				|| candle_core::Error::Msg(format!("attention: segment {segment} out of range"));
			let rows = qkv.get(first * row_len..(first + t) * row_len).ok_or_else(bad)?;
			let m = m.ok_or_else(bad)?;
			let head_of = |part: usize| {
				let at = part * hd + head * d;
				MatRef::new(rows.get(at..).ok_or_else(bad)?, t, d, row_len).map_err(kernel_error)
			};
			// Scores Q Kᵀ ([t, t]), then scale, mask and softmax row by row, then P V ([t, d]).
			let mut scores = vec![0f32; t * t];
			let keys = PackedMatrix::from_weight(head_of(1)?);
			matmul_serial(head_of(0)?, &keys, Epilogue::None, &mut scores).map_err(kernel_error)?;
			for row in scores.chunks_exact_mut(t) {
				for (s, m) in row.iter_mut().zip(m) {
					*s = *s * scale + m;
				}
				softmax_in_place(row);
			}
			let mut ctx = vec![0f32; t * d];
			let probs = MatRef::dense(&scores, t, t).map_err(kernel_error)?;
			let values = PackedMatrix::from_rows(head_of(2)?);
			matmul_serial(probs, &values, Epilogue::None, &mut ctx).map_err(kernel_error)?;
			Ok(ctx)
		})
		.collect::<Result<_>>()?;
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
	Ok(out)
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
		let out = attend_segments(qkv, None, &self.segments, heads, d, self.scale)?;
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
		// GELU in the same pass: candle's exact (erf) GELU of the same product.
		assert!(diff(&fused.forward_gelu(&x).unwrap(), &want.gelu_erf().unwrap()) < 1e-6);
		// An input whose last dimension is not the layer's is an error, not a panic.
		let wrong = Tensor::randn(0f32, 1.0, (3, 5, 7), &dev).unwrap();
		assert!(fused.forward(&wrong).is_err());
		assert!(fused.forward_residual(&x, &wrong).is_err());

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
			worst = worst.max((infera_kernels::erf(x) - want).abs());
		}
		// A few float32 ULPs near 1; BERT's activations never need more.
		assert!(worst < 1e-6, "max |erf error| {worst}");
	}
}
