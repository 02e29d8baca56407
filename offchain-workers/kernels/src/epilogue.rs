//! What a finished tile's sums become: the bias, GELU (exact, erf form, as BERT), a residual.
//! Plain Rust that the compiler vectorises inside each kernel's feature set; none of it fuses a
//! multiply and an add, so every kernel family rounds it alike.

/// erf(x) for f32 as a rational function of x² on [−4, 4] (|erf| rounds to 1 beyond): odd
/// numerator of degree 13 over an even denominator of degree 8, the form vectorising libraries use
/// for float erf. Branch-free, so the compiler vectorises the loop; it agrees with libm's `erff`
/// to a few ULP (tested), far inside a model's tolerance.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
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

/// GELU, exact (erf) form: `x · (1 + erf(x / √2)) / 2`.
#[inline(always)]
pub fn gelu(v: f32) -> f32 {
	(erf(v * std::f32::consts::FRAC_1_SQRT_2) + 1.0) * 0.5 * v
}

#[inline(always)]
pub(crate) fn bias(c: &mut [f32], sums: &[f32], bias: Option<&[f32]>) {
	match bias {
		Some(bias) => {
			for ((c, s), b) in c.iter_mut().zip(sums).zip(bias) {
				*c = s + b;
			}
		}
		None => c.copy_from_slice(sums),
	}
}

#[inline(always)]
pub(crate) fn bias_gelu(c: &mut [f32], sums: &[f32], bias: Option<&[f32]>) {
	if let Some(bias) = bias {
		for ((c, s), b) in c.iter_mut().zip(sums).zip(bias) {
			*c = gelu(s + b);
		}
	}
}

#[inline(always)]
pub(crate) fn bias_residual(
	c: &mut [f32],
	sums: &[f32],
	bias: Option<&[f32]>,
	residual: Option<&[f32]>,
) {
	if let (Some(bias), Some(residual)) = (bias, residual) {
		for (((c, s), b), r) in c.iter_mut().zip(sums).zip(bias).zip(residual) {
			*c = s + b + r;
		}
	}
}
