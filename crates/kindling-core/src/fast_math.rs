//! Branch-free `exp`, logistic and `tanh` for `f32`, accurate to a few 10⁻⁷, written so that
//! loops over slices vectorise (the standard library's versions are calls into libm, one
//! element at a time). Used by the CPU kernels of the model crates.

/// `eˣ` to about 2 × 10⁻⁷ relative error, branch-free so that loops over it vectorise: `x =
/// n ln 2 + r` with `|r| ≤ ln 2 / 2`, `eʳ` by its Taylor series to `r⁷` (truncation below 10⁻⁸),
/// and `2ⁿ` written into the exponent bits. Inputs are clamped to `[−87, 88]`, where `eˣ` is a
/// normal `f32`.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5 · 2²³ rounds to the nearest integer without a branch.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    // `shifted` holds n in the low bits of its mantissa; reading n from there instead of
    // converting `n` to an integer keeps the whole function in vector registers (a saturating
    // float-to-int conversion stops the loop vectoriser).
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // The low 9 bits of `shifted`'s bits are n (two's complement), n + 127 ∈ [1, 254] is the
    // biased exponent of 2ⁿ, and the shift drops everything above it.
    let scale = f32::from_bits(shifted.to_bits().wrapping_add(127) << 23);
    p * scale
}

/// The logistic function `1 / (1 + e⁻ˣ)`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh x = 2 σ(2x) − 1` (absolute error about 2 × 10⁻⁷).
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    2.0 * sigmoid(2.0 * x) - 1.0
}

#[cfg(test)]
mod tests {
    use super::{exp, sigmoid, tanh};

    #[test]
    fn fast_activations_match_the_standard_library() {
        let mut worst = [0.0f64; 3];
        for k in -40_000..=40_000 {
            let x = k as f32 * 0.0005;
            let e = f64::from(x).exp();
            worst[0] = worst[0].max((f64::from(exp(x)) - e).abs() / e);
            let s = 1.0 / (1.0 + (-f64::from(x)).exp());
            worst[1] = worst[1].max((f64::from(sigmoid(x)) - s).abs());
            worst[2] = worst[2].max((f64::from(tanh(x)) - f64::from(x).tanh()).abs());
        }
        assert!(worst[0] < 5e-7, "exp relative error {}", worst[0]);
        assert!(worst[1] < 3e-7, "sigmoid error {}", worst[1]);
        assert!(worst[2] < 6e-7, "tanh error {}", worst[2]);
        assert!((0.0..1e-37).contains(&sigmoid(-200.0)));
        assert!(sigmoid(200.0) <= 1.0 && tanh(-50.0) >= -1.0);
        assert!((exp(88.0) - 88f32.exp()).abs() / 88f32.exp() < 1e-6);
    }
}
