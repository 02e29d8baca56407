//! Tiles of `C`: the micro-kernels (AVX-512F, AVX2 + FMA, portable) and the epilogue pass over a
//! finished tile. A tile is up to `Isa::rows()` rows of `A` against one packed panel (16 columns);
//! its sums live in registers for the whole shared dimension and are written once.
//!
//! The arithmetic here is index arithmetic on shapes the safe entry points checked
//! (`matmul_on`): every offset is below the length of the slice it addresses.
#![allow(clippy::arithmetic_side_effects)] // reason: offsets within shapes checked by `matmul_on`

use crate::{epilogue, Epilogue, Isa, MatRef, PackedMatrix, NR};

/// `C`'s memory, shared by tasks that write disjoint tiles of it.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr {
	ptr: *mut f32,
	len: usize,
}

// SAFETY: tasks write only their own tiles (disjoint rows × panels of one `matmul_on` call, which
// holds the `&mut [f32]` for as long as any task runs), so sharing the pointer races on nothing.
unsafe impl Send for OutPtr {}
// SAFETY: as for `Send`.
unsafe impl Sync for OutPtr {}

impl OutPtr {
	pub(crate) fn new(out: &mut [f32]) -> Self {
		Self { ptr: out.as_mut_ptr(), len: out.len() }
	}
}

/// One product, as the tasks see it.
pub(crate) struct Job<'a> {
	pub(crate) isa: Isa,
	pub(crate) a: MatRef<'a>,
	pub(crate) b: &'a PackedMatrix,
	pub(crate) epilogue: Epilogue<'a>,
	pub(crate) out: OutPtr,
}

/// A tile's place: rows `row..row + R` of `A` and `C`, panel `panel` of `B` (columns
/// `panel · 16 ..`, of which `cols` are real).
#[derive(Clone, Copy)]
struct Tile {
	row: usize,
	panel: usize,
	cols: usize,
}

impl Job<'_> {
	/// Rows `row..row + rows` against panels `panel..panel + count`: for each band of tile rows,
	/// every panel in turn, so the band's rows of `A` stay in L1 and the panels in L2.
	pub(crate) fn run(&self, row: usize, rows: usize, panel: usize, count: usize) {
		let mr = self.isa.rows();
		let end = (row + rows).min(self.a.rows);
		let mut r = row;
		while r < end {
			let band = mr.min(end - r);
			for p in panel..panel + count {
				let cols = NR.min(self.b.n.saturating_sub(p * NR));
				if cols == 0 {
					continue;
				}
				self.tile(band, Tile { row: r, panel: p, cols });
			}
			r += band;
		}
	}

	fn tile(&self, band: usize, t: Tile) {
		macro_rules! by_rows {
			($kernel:ident, $($r:literal)*) => {
				match band {
					$($r => $kernel::<$r>(self, t),)*
					_ => {}
				}
			};
		}
		match self.isa {
			#[cfg(target_arch = "x86_64")]
			Isa::Avx512 => by_rows!(avx512_tile, 1 2 3 4 5 6 7 8 9 10 11 12 13 14),
			#[cfg(target_arch = "x86_64")]
			Isa::Avx2Fma => by_rows!(avx2_tile, 1 2 3 4 5 6),
			_ => by_rows!(portable_tile, 1 2 3 4),
		}
	}

	/// Checks that a tile lies inside `A`, `B` and `C` (it always does for tiles `run` makes;
	/// checked anyway, once a tile, so no kernel can read or write out of bounds).
	fn in_bounds<const R: usize>(&self, t: Tile) -> bool {
		let a_end = (t.row + R - 1) * self.a.stride + self.a.cols;
		let b_end = (t.panel + 1) * self.b.k;
		let c_end = (t.row + R - 1) * self.b.n + t.panel * NR + t.cols;
		t.row + R <= self.a.rows
			&& a_end <= self.a.data.len()
			&& b_end <= self.b.lines.len()
			&& c_end <= self.out.len
			&& t.cols <= NR
			&& t.cols > 0
	}

	/// Stores a finished tile's sums (`R` rows of 16) into `C`, then applies the epilogue to
	/// them there.
	#[inline(always)]
	fn finish<const R: usize>(&self, t: Tile, sums: &[[f32; NR]; R]) {
		for (i, row) in sums.iter().enumerate() {
			let at = (t.row + i) * self.b.n + t.panel * NR;
			// SAFETY: `in_bounds` checked `at + cols ≤ out.len`; this tile's cells belong to this
			// task alone (see `OutPtr`), and no reference to `C` is alive meanwhile.
			let c = unsafe { std::slice::from_raw_parts_mut(self.out.ptr.add(at), t.cols) };
			let first = t.panel * NR;
			let Some(sums) = row.get(..t.cols) else { continue };
			match self.epilogue {
				Epilogue::None => c.copy_from_slice(sums),
				Epilogue::Bias(b) => epilogue::bias(c, sums, b.get(first..first + t.cols)),
				Epilogue::BiasGelu(b) => epilogue::bias_gelu(c, sums, b.get(first..first + t.cols)),
				Epilogue::BiasResidual(b, res) => {
					let r_at = (t.row + i) * self.b.n + first;
					epilogue::bias_residual(
						c,
						sums,
						b.get(first..first + t.cols),
						res.get(r_at..r_at + t.cols),
					)
				}
			}
		}
	}
}

/// The portable kernel: `R × 16` sums with `f32::mul_add` (one rounding, as the hardware FMA).
fn portable_tile<const R: usize>(job: &Job<'_>, t: Tile) {
	if !job.in_bounds::<R>(t) {
		return;
	}
	let mut acc = [[0f32; NR]; R];
	let k = job.b.k;
	let panel = job.b.lines.get(t.panel * k..(t.panel + 1) * k).unwrap_or(&[]);
	for (p, line) in panel.iter().enumerate() {
		for (i, acc) in acc.iter_mut().enumerate() {
			let a = job.a.data.get((t.row + i) * job.a.stride + p).copied().unwrap_or(0.0);
			for (s, b) in acc.iter_mut().zip(&line.0) {
				*s = a.mul_add(*b, *s);
			}
		}
	}
	job.finish::<R>(t, &acc);
}

#[cfg(target_arch = "x86_64")]
fn avx2_tile<const R: usize>(job: &Job<'_>, t: Tile) {
	if job.in_bounds::<R>(t) {
		// SAFETY: `Isa::Avx2Fma` is only chosen where the CPU has AVX2 and FMA (`matmul_on`
		// checks `is_supported`), and `in_bounds` held for this tile.
		unsafe { avx2_kernel::<R>(job, t) }
	}
}

/// # Safety
/// The CPU has AVX2 and FMA, and `job.in_bounds::<R>(t)`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn avx2_kernel<const R: usize>(job: &Job<'_>, t: Tile) {
	use std::arch::x86_64::*;
	let k = job.b.k;
	let stride = job.a.stride;
	// SAFETY: row `t.row` of `A` starts inside it (`in_bounds`: rows `t.row..t.row + R` end
	// by `a_end ≤ len`).
	let a = unsafe { job.a.data.as_ptr().add(t.row * stride) };
	// SAFETY: panel `t.panel` has `k` lines (`in_bounds`: `b_end ≤ lines`).
	let b = unsafe { job.b.lines.as_ptr().add(t.panel * k) }.cast::<f32>();
	let mut lo = [_mm256_setzero_ps(); R];
	let mut hi = [_mm256_setzero_ps(); R];
	for p in 0..k {
		// SAFETY: line `p < k` of the panel: 16 values, 64-byte aligned (`Line`), so both
		// 32-byte aligned loads are inside it.
		let (b0, b1) =
			unsafe { (_mm256_load_ps(b.add(p * NR)), _mm256_load_ps(b.add(p * NR + 8))) };
		for (i, (lo, hi)) in lo.iter_mut().zip(hi.iter_mut()).enumerate() {
			// SAFETY: value `p < k = A.cols` of row `t.row + i` (`i < R`), inside `A`.
			let av = unsafe { _mm256_broadcast_ss(&*a.add(i * stride + p)) };
			*lo = _mm256_fmadd_ps(av, b0, *lo);
			*hi = _mm256_fmadd_ps(av, b1, *hi);
		}
	}
	let mut sums = [[0f32; NR]; R];
	for (row, (lo, hi)) in sums.iter_mut().zip(lo.iter().zip(&hi)) {
		let row = row.as_mut_ptr();
		// SAFETY: `row` has 16 values: two stores of 8.
		unsafe {
			_mm256_storeu_ps(row, *lo);
			_mm256_storeu_ps(row.add(8), *hi);
		}
	}
	job.finish::<R>(t, &sums);
}

#[cfg(target_arch = "x86_64")]
fn avx512_tile<const R: usize>(job: &Job<'_>, t: Tile) {
	if job.in_bounds::<R>(t) {
		// SAFETY: `Isa::Avx512` is only chosen where the CPU has AVX-512F (`matmul_on` checks
		// `is_supported`), and `in_bounds` held for this tile.
		unsafe { avx512_kernel::<R>(job, t) }
	}
}

/// # Safety
/// The CPU has AVX-512F, and `job.in_bounds::<R>(t)`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512_kernel<const R: usize>(job: &Job<'_>, t: Tile) {
	use std::arch::x86_64::*;
	let k = job.b.k;
	let stride = job.a.stride;
	// SAFETY: as in `avx2_kernel`.
	let a = unsafe { job.a.data.as_ptr().add(t.row * stride) };
	// SAFETY: as in `avx2_kernel`.
	let b = unsafe { job.b.lines.as_ptr().add(t.panel * k) }.cast::<f32>();
	let mut acc = [_mm512_setzero_ps(); R];
	for p in 0..k {
		// SAFETY: line `p < k` of the panel: 16 values, 64-byte aligned (`Line`).
		let bv = unsafe { _mm512_load_ps(b.add(p * NR)) };
		for (i, acc) in acc.iter_mut().enumerate() {
			// SAFETY: value `p < k = A.cols` of row `t.row + i` (`i < R`), inside `A`.
			let av = _mm512_set1_ps(unsafe { *a.add(i * stride + p) });
			*acc = _mm512_fmadd_ps(av, bv, *acc);
		}
	}
	let mut sums = [[0f32; NR]; R];
	for (row, acc) in sums.iter_mut().zip(&acc) {
		// SAFETY: `row` has 16 values.
		unsafe { _mm512_storeu_ps(row.as_mut_ptr(), *acc) };
	}
	job.finish::<R>(t, &sums);
}
