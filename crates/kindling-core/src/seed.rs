//! Seeding: one seed drives every source of randomness in a run.
//!
//! A run's seed feeds three places:
//! - burn's device RNG, which draws initial parameters and dropout masks
//!   ([`seed_device`] before building the model; the trainer re-seeds it at each epoch with
//!   [`derive_seed`] so that an epoch's dropout masks do not depend on what ran before it);
//! - [`SeededRng`], a small, serialisable generator for data order and anything else host-side.
//!
//! Because [`SeededRng`]'s whole state is four integers, a checkpoint stores it and a resumed run
//! draws exactly the same shuffles as an uninterrupted one.

use std::sync::Mutex;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Seeds burn's random number generator on `device` (parameter init, dropout, `Tensor::random`).
///
/// burn's device RNG may be process-wide, and burn initialises parameters lazily, on first use.
/// To make a model's initial parameters depend on the seed alone, build it with
/// [`build_seeded`] instead.
pub fn seed_device(device: &Device, seed: u64) {
    device.seed(seed);
}

/// Serialises seeded construction across threads: burn's device RNG is shared.
static SEEDED_BUILD: Mutex<()> = Mutex::new(());

/// Seeds `device`, runs `build`, and draws every parameter of the result before returning, all
/// while holding a process-wide lock.
///
/// Without this, another thread drawing random numbers between the seeding and the (lazy)
/// initialisation of a parameter changes the initial model.
pub fn build_seeded<M: Module>(device: &Device, seed: u64, build: impl FnOnce() -> M) -> M {
    match try_build_seeded(device, seed, || Ok::<M, std::convert::Infallible>(build())) {
        Ok(model) => model,
    }
}

/// [`build_seeded`] for a constructor that can fail.
pub fn try_build_seeded<M: Module, E>(
    device: &Device,
    seed: u64,
    build: impl FnOnce() -> Result<M, E>,
) -> Result<M, E> {
    let _guard = SEEDED_BUILD
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    seed_device(device, seed);
    let model = build()?;
    model.visit(&mut Materialise);
    Ok(model)
}

/// Forces lazily initialised parameters to draw their values.
struct Materialise;

impl ModuleVisitor for Materialise {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// Mixes a run seed with a stream number into an independent seed (SplitMix64 finaliser).
///
/// The trainer uses `derive_seed(seed, epoch)` for the device RNG of each epoch.
pub fn derive_seed(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A xoshiro256++ generator whose state can be saved and restored exactly.
///
/// Not cryptographic; fast, with a period of 2²⁵⁶ − 1 and good statistical quality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeededRng {
    state: [u64; 4],
}

impl SeededRng {
    /// A generator seeded from one `u64` (expanded with SplitMix64, so seeds 0, 1, 2 … are fine).
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            state: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform draw from `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..bound` without modulo bias (Lemire's method).
    ///
    /// # Panics
    /// If `bound` is zero.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "SeededRng::below needs a positive bound");
        loop {
            let m = u128::from(self.next_u64()) * u128::from(bound);
            let low = m as u64;
            if low >= bound.wrapping_neg() % bound {
                return (m >> 64) as u64;
            }
        }
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// A random permutation of `0..n`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        self.shuffle(&mut order);
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SeededRng::new(7);
        let mut b = SeededRng::new(7);
        let xs: Vec<u64> = (0..16).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..16).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(SeededRng::new(8).next_u64(), xs[0]);
    }

    #[test]
    fn saved_state_resumes_the_stream() {
        let mut a = SeededRng::new(3);
        a.permutation(10);
        let saved = serde_json::to_string(&a).unwrap();
        let mut b: SeededRng = serde_json::from_str(&saved).unwrap();
        assert_eq!(a.permutation(100), b.permutation(100));
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut rng = SeededRng::new(1);
        let mut p = rng.permutation(1000);
        assert_ne!(p, (0..1000).collect::<Vec<_>>());
        p.sort_unstable();
        assert_eq!(p, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = SeededRng::new(5);
        let mut seen = [0usize; 6];
        for _ in 0..6000 {
            seen[rng.below(6) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (850..1150).contains(&n)), "{seen:?}");
        let f = rng.next_f64();
        assert!((0.0..1.0).contains(&f));
    }

    #[test]
    fn derived_seeds_differ_per_stream() {
        assert_ne!(derive_seed(1, 0), derive_seed(1, 1));
        assert_ne!(derive_seed(1, 0), derive_seed(2, 0));
        assert_eq!(derive_seed(9, 4), derive_seed(9, 4));
    }
}
