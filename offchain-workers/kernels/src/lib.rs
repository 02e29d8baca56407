//! Infera's CPU kernels: `C = A · B (+ epilogue)` with `B` packed once (a layer's weights at load,
//! or a head's keys and values in attention), on every core, with the micro-kernel chosen at run
//! time by CPU feature detection (AVX-512F, AVX2 + FMA, or portable Rust), never by
//! `target-cpu=native`.
//!
//! **Every kernel computes the same bits.** Each element of `C` is one accumulator that starts at
//! 0 and takes one fused multiply-add per step of the shared dimension, in order `0..k`; a SIMD
//! lane is one element, and the portable kernel uses `f32::mul_add`, which rounds once as the
//! hardware FMA does. Neither blocking, nor the number of threads, nor which rows share a call
//! changes what an element's sum is, so a batch computes what each input alone does and two
//! providers on different x86 generations (or an ARM server) agree to the bit.
//!
//! This is the only crate of the workspace with `unsafe` code (ADR 0021): SIMD intrinsics and the
//! raw pointers a tiled product writes through. Shapes are checked by the safe functions below
//! before any kernel runs.

mod epilogue;
mod peak;
mod tiles;

pub use epilogue::{erf, gelu};
pub use peak::fma_peak_gflops;

use rayon::prelude::*;
use std::sync::OnceLock;

/// Columns of `B` per packed panel: one cache line of `f32`, two AVX2 or one AVX-512 register.
pub const NR: usize = 16;

/// One row of a packed panel, cache-line aligned so that a panel's loads never split lines.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Line(pub(crate) [f32; NR]);

/// The micro-kernel family in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
	/// AVX-512F: 14 rows × 16 columns a tile, 512-bit registers.
	Avx512,
	/// AVX2 with FMA: 6 rows × 16 columns a tile.
	Avx2Fma,
	/// Plain Rust with `f32::mul_add` (ARM's NEON, or x86 without FMA, which is slow).
	Portable,
}

impl Isa {
	/// The best kernel family this CPU runs, detected once. `INFERA_KERNELS=portable|avx2`
	/// chooses a lower one (for measurements and tests); the bits stay the same.
	pub fn detected() -> Isa {
		static ISA: OnceLock<Isa> = OnceLock::new();
		*ISA.get_or_init(|| {
			let best = Isa::supported().into_iter().next().unwrap_or(Isa::Portable);
			match std::env::var("INFERA_KERNELS").as_deref() {
				Ok("portable") => Isa::Portable,
				Ok("avx2") if Isa::Avx2Fma.is_supported() => Isa::Avx2Fma,
				_ => best,
			}
		})
	}

	/// Every family this CPU runs, best first.
	pub fn supported() -> Vec<Isa> {
		[Isa::Avx512, Isa::Avx2Fma, Isa::Portable]
			.into_iter()
			.filter(|i| i.is_supported())
			.collect()
	}

	/// Whether this CPU runs this family.
	pub fn is_supported(self) -> bool {
		match self {
			Isa::Portable => true,
			#[cfg(target_arch = "x86_64")]
			Isa::Avx2Fma => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
			#[cfg(target_arch = "x86_64")]
			Isa::Avx512 => is_x86_feature_detected!("avx512f"),
			#[cfg(not(target_arch = "x86_64"))]
			_ => false,
		}
	}

	/// Rows of `A` one tile covers.
	pub(crate) fn rows(self) -> usize {
		match self {
			Isa::Avx512 => 14,
			Isa::Avx2Fma => 6,
			Isa::Portable => 4,
		}
	}
}

/// A shape that does not fit: which operand, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl std::fmt::Display for ShapeError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(&self.0)
	}
}

impl std::error::Error for ShapeError {}

fn shape_error<T>(what: impl Into<String>) -> Result<T, ShapeError> {
	Err(ShapeError(what.into()))
}

/// A row-major matrix in memory: `rows` rows of `cols` values, each row `stride` values after
/// the one before (`stride ≥ cols`), so a view can pick columns out of wider rows.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a> {
	data: &'a [f32],
	rows: usize,
	cols: usize,
	stride: usize,
}

impl<'a> MatRef<'a> {
	/// A view of `rows × cols` values with rows `stride` apart, starting at `data[0]`.
	pub fn new(
		data: &'a [f32],
		rows: usize,
		cols: usize,
		stride: usize,
	) -> Result<Self, ShapeError> {
		let needed = if rows == 0 {
			Some(0)
		} else {
			rows.checked_sub(1)
				.and_then(|r| r.checked_mul(stride))
				.and_then(|s| s.checked_add(cols))
		};
		match needed {
			Some(n) if stride >= cols && n <= data.len() => Ok(Self { data, rows, cols, stride }),
			_ => shape_error(format!(
				"a {rows} × {cols} matrix with stride {stride} does not fit {} values",
				data.len()
			)),
		}
	}

	/// A dense `rows × cols` matrix.
	pub fn dense(data: &'a [f32], rows: usize, cols: usize) -> Result<Self, ShapeError> {
		match rows.checked_mul(cols) {
			Some(n) if n == data.len() => Self::new(data, rows, cols, cols),
			_ => shape_error(format!("{} values are not {rows} × {cols}", data.len())),
		}
	}

	/// Rows.
	pub fn rows(&self) -> usize {
		self.rows
	}

	/// Columns.
	pub fn cols(&self) -> usize {
		self.cols
	}

	/// Value at (`row`, `col`), 0 outside the view.
	fn at(&self, row: usize, col: usize) -> f32 {
		if row >= self.rows || col >= self.cols {
			return 0.0;
		}
		row.checked_mul(self.stride)
			.and_then(|r| r.checked_add(col))
			.and_then(|i| self.data.get(i))
			.copied()
			.unwrap_or(0.0)
	}
}

/// `B` (`k × n`) packed for the kernels: `⌈n / 16⌉` panels of `k` cache lines, each line the 16
/// values of one row of `B` in that panel's columns (zeros past `n`).
#[derive(Clone, Debug)]
pub struct PackedMatrix {
	k: usize,
	n: usize,
	lines: Vec<Line>,
}

impl PackedMatrix {
	/// `B = Wᵀ` from a linear layer's weight `W` (`n × k`: one row per output, as PyTorch and
	/// safetensors store it), so that `A · B = A Wᵀ`.
	pub fn from_weight(w: MatRef<'_>) -> Self {
		Self::pack(w.cols, w.rows, |kk, j| w.at(j, kk))
	}

	/// `B` from a row-major `k × n` matrix.
	pub fn from_rows(b: MatRef<'_>) -> Self {
		Self::pack(b.rows, b.cols, |kk, j| b.at(kk, j))
	}

	fn pack(k: usize, n: usize, at: impl Fn(usize, usize) -> f32) -> Self {
		let panels = n.div_ceil(NR);
		let mut lines = Vec::with_capacity(panels.saturating_mul(k));
		for panel in 0..panels {
			let first = panel.saturating_mul(NR);
			for kk in 0..k {
				let mut line = [0f32; NR];
				for (jj, v) in line.iter_mut().enumerate() {
					*v = at(kk, first.saturating_add(jj));
				}
				lines.push(Line(line));
			}
		}
		Self { k, n, lines }
	}

	/// Rows of `B` (the shared dimension).
	pub fn k(&self) -> usize {
		self.k
	}

	/// Columns of `B` (outputs).
	pub fn n(&self) -> usize {
		self.n
	}

	/// Bytes the packed values take.
	pub fn bytes(&self) -> usize {
		self.lines.len().saturating_mul(std::mem::size_of::<Line>())
	}

	fn panels(&self) -> usize {
		self.n.div_ceil(NR)
	}
}

/// What happens to each element after its sum, in the same pass: `v = sum + bias[j]`, then
/// nothing, GELU (exact, erf form), or `+ residual[i][j]`.
#[derive(Clone, Copy, Debug)]
pub enum Epilogue<'a> {
	/// The sum as it is.
	None,
	/// `sum + bias[j]`.
	Bias(&'a [f32]),
	/// `GELU(sum + bias[j])`.
	BiasGelu(&'a [f32]),
	/// `sum + bias[j] + residual[i][j]` (`residual` is `m × n`, dense).
	BiasResidual(&'a [f32], &'a [f32]),
}

impl Epilogue<'_> {
	fn check(&self, m: usize, n: usize) -> Result<(), ShapeError> {
		let bias = match self {
			Epilogue::None => return Ok(()),
			Epilogue::Bias(b) | Epilogue::BiasGelu(b) | Epilogue::BiasResidual(b, _) => b,
		};
		if bias.len() != n {
			return shape_error(format!("bias of {} values for {n} outputs", bias.len()));
		}
		if let Epilogue::BiasResidual(_, r) = self {
			if Some(r.len()) != m.checked_mul(n) {
				return shape_error(format!("residual of {} values for {m} × {n}", r.len()));
			}
		}
		Ok(())
	}
}

/// `out = epilogue(A · B)`, `out` dense `A.rows × B.n`, on every core of rayon's pool.
pub fn matmul(
	a: MatRef<'_>,
	b: &PackedMatrix,
	epilogue: Epilogue<'_>,
	out: &mut [f32],
) -> Result<(), ShapeError> {
	matmul_on(Isa::detected(), a, b, epilogue, out, true)
}

/// As [`matmul`], on the calling thread only (for work already spread over the cores).
pub fn matmul_serial(
	a: MatRef<'_>,
	b: &PackedMatrix,
	epilogue: Epilogue<'_>,
	out: &mut [f32],
) -> Result<(), ShapeError> {
	matmul_on(Isa::detected(), a, b, epilogue, out, false)
}

/// As [`matmul`] with a chosen kernel family (an error if this CPU lacks it).
pub fn matmul_on(
	isa: Isa,
	a: MatRef<'_>,
	b: &PackedMatrix,
	epilogue: Epilogue<'_>,
	out: &mut [f32],
	parallel: bool,
) -> Result<(), ShapeError> {
	if !isa.is_supported() {
		return shape_error(format!("this CPU does not run {isa:?} kernels"));
	}
	let (m, n) = (a.rows, b.n);
	if a.cols != b.k {
		return shape_error(format!("A has {} columns, B {} rows", a.cols, b.k));
	}
	if Some(out.len()) != m.checked_mul(n) {
		return shape_error(format!("output of {} values for {m} × {n}", out.len()));
	}
	epilogue.check(m, n)?;
	let panels = b.panels();
	if m == 0 || panels == 0 {
		return Ok(());
	}
	let mr = isa.rows();
	// Panels a task takes: enough tasks to balance the cores, few enough that one task's panels
	// (k lines of 64 bytes each) stay in a core's L2 while its rows stream past them.
	let threads = if parallel { rayon::current_num_threads().max(1) } else { 1 };
	let panel_bytes = b.k.max(1).saturating_mul(std::mem::size_of::<Line>());
	let cache_panels = L2_BUDGET.checked_div(panel_bytes).unwrap_or(1).max(1);
	let panels_per_task = panels.div_ceil(threads.saturating_mul(4)).clamp(1, cache_panels);
	let rows_per_task = mr.saturating_mul(ROWS_PER_TASK.checked_div(mr).unwrap_or(1).max(1));
	let tasks: Vec<(usize, usize)> = (0..m)
		.step_by(rows_per_task)
		.flat_map(|r| (0..panels).step_by(panels_per_task).map(move |p| (r, p)))
		.collect();
	let job = tiles::Job { isa, a, b, epilogue, out: tiles::OutPtr::new(out) };
	let run = |&(row, panel): &(usize, usize)| {
		let rows = rows_per_task.min(m.saturating_sub(row));
		let count = panels_per_task.min(panels.saturating_sub(panel));
		job.run(row, rows, panel, count);
	};
	if parallel && threads > 1 && tasks.len() > 1 {
		tasks.par_iter().for_each(run);
	} else {
		tasks.iter().for_each(run);
	}
	Ok(())
}

/// Bytes of packed `B` one task keeps hot (Zen 4 and most x86 server cores have 1–2 MiB of L2).
const L2_BUDGET: usize = 512 * 1024;
/// Rows of `A` one task takes (rounded down to whole tiles).
const ROWS_PER_TASK: usize = 96;

#[cfg(test)]
mod tests;
