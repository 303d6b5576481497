//! Seeding: one seed drives every source of randomness in a run.
//!
//! A run's seed feeds three generators, none of which another thread can disturb:
//! - burn's device RNG draws initial parameters. It is process-wide on the CPU backends, so
//!   every draw from it in kindling goes through one lock: [`build_seeded`] seeds it, builds the
//!   model and draws every parameter while holding that lock, and [`with_device_rng`] does the
//!   same for any other seeded draw (`Tensor::random` in tests and benchmarks). Code that draws
//!   from it without the lock while a seeded build runs on another thread changes that build.
//! - each thread's own generator ([`seed_thread`], [`with_thread_rng`]) draws dropout masks
//!   ([`crate::dropout::Dropout`]); the trainer seeds it at every epoch with [`derive_seed`], so
//!   an epoch's masks depend on the run's seed and the epoch alone.
//! - [`SeededRng`], a small, serialisable generator for data order and anything else host-side.
//!
//! Because [`SeededRng`]'s whole state is four integers, a checkpoint stores it and a resumed run
//! draws exactly the same shuffles as an uninterrupted one.

use std::cell::RefCell;
use std::sync::Mutex;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Seeds burn's random number generator on `device`, without the lock.
///
/// Prefer [`with_device_rng`] or [`build_seeded`]: the generator is process-wide on the CPU
/// backends, and burn initialises parameters lazily, on first use.
pub fn seed_device(device: &Device, seed: u64) {
    device.seed(seed);
}

/// The lock every draw from burn's device RNG in kindling takes.
static DEVICE_RNG: Mutex<()> = Mutex::new(());

/// Seeds `device` and runs `draw` while holding the process-wide device-RNG lock, so that the
/// values `draw` gets from burn's RNG (`Tensor::random`, parameter initialisers) depend on
/// `seed` alone.
///
/// Lazily initialised parameters created inside `draw` but first used after it returns draw
/// outside the lock: build models with [`build_seeded`], which draws them before unlocking.
pub fn with_device_rng<R>(device: &Device, seed: u64, draw: impl FnOnce() -> R) -> R {
    let _guard = DEVICE_RNG
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    seed_device(device, seed);
    draw()
}

/// Seeds `device`, runs `build`, and draws every parameter of the result before returning, all
/// while holding the device-RNG lock (see [`with_device_rng`]).
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
    with_device_rng(device, seed, || {
        let model = build()?;
        model.visit(&mut Materialise);
        Ok(model)
    })
}

/// Forces lazily initialised parameters to draw their values.
struct Materialise;

impl ModuleVisitor for Materialise {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

thread_local! {
    /// The calling thread's generator (dropout masks); seed 0 until [`seed_thread`] is called.
    static THREAD_RNG: RefCell<SeededRng> = RefCell::new(SeededRng::new(0));
}

/// Seeds the calling thread's own generator, from which dropout masks are drawn.
///
/// Each thread has its own: seeding or drawing on one thread never changes another's draws.
/// A thread that never calls this draws as if seeded with 0.
pub fn seed_thread(seed: u64) {
    THREAD_RNG.with(|rng| *rng.borrow_mut() = SeededRng::new(seed));
}

/// Runs `draw` with the calling thread's generator (see [`seed_thread`]).
pub fn with_thread_rng<R>(draw: impl FnOnce(&mut SeededRng) -> R) -> R {
    THREAD_RNG.with(|rng| draw(&mut rng.borrow_mut()))
}

/// Mixes a run seed with a stream number into an independent seed (SplitMix64 finaliser).
///
/// The trainer uses `derive_seed(seed, epoch)` for the thread generator of each epoch.
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
