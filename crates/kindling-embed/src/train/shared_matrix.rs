//! A weight matrix that training threads read and update concurrently, with one small lock per
//! row, and the vector kernels that work on its rows.
//!
//! # Why per-row locks
//!
//! word2vec.c, gensim and fastText let threads update the same rows with plain loads and stores
//! and no locks (Hogwild!, Recht et al. 2011). In Rust that is a data race, undefined behaviour
//! whatever the CPU does. Making every weight a relaxed atomic is sound, but the compiler never
//! turns atomic accesses into vector loads and stores, and moving each weight on its own cost
//! skip-gram two thirds of its speed (README, "The price of sound shared weights").
//!
//! Here rows are guarded by spin locks. A kernel takes its row's lock, works on the row as an
//! ordinary `&mut [f32]` — so its loops vectorise exactly as on a thread's own buffers — and
//! releases the lock. The lock is acquired with `Acquire` and released with `Release`, so every
//! access to a row happens-before the next thread's access to it: no data race, and no lost
//! update either (Hogwild loses some). Locks are held for one row operation and never nested,
//! so there is no deadlock.
//!
//! The locks are striped: row `r` is guarded by lock `r mod STRIPES`, and each lock has a cache
//! line of its own. One lock per row, packed, would put the locks of the most frequent words
//! (the lowest ids, which negative sampling picks again and again) on one cache line that both
//! threads keep taking from each other; a fixed, padded set keeps memory small for millions of
//! subword rows and lets neighbouring rows be locked without interference.
//!
//! The arithmetic and its order are those of plain `f32` kernels, so one thread with a seed
//! gives bit-identical results run after run.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Values per chunk of the dot product's partial sums: one AVX2 register of `f32`s.
const LANES: usize = 8;

/// Locks shared by all rows (`row mod STRIPES`): 64 KiB of padded locks.
const STRIPES: usize = 1024;

/// A lock on a cache line of its own.
#[repr(align(64))]
struct StripeLock(AtomicBool);

/// `rows × dim` f32 weights shared between training threads.
pub(crate) struct SharedMatrix {
    data: Box<[UnsafeCell<f32>]>,
    /// The striped row locks: `true` while a thread works on a row of that stripe.
    locks: Box<[StripeLock]>,
    dim: usize,
}

// SAFETY: the values are only reached through `SharedMatrix::with_row`, which holds the lock of
// the row's stripe for the whole access (every row has exactly one stripe); lock and unlock are
// an `Acquire` compare-exchange and a `Release` store of the same atomic, so two threads'
// accesses to one row are ordered by happens-before and never race. The locks are atomics.
unsafe impl Sync for SharedMatrix {}

impl SharedMatrix {
    /// Wraps row-major `data` of rows of length `dim`.
    pub(crate) fn new(data: Vec<f32>, dim: usize) -> Self {
        debug_assert!(dim > 0 && data.len().is_multiple_of(dim));
        let rows = data.len() / dim.max(1);
        Self {
            data: data.into_iter().map(UnsafeCell::new).collect(),
            locks: (0..rows.clamp(1, STRIPES))
                .map(|_| StripeLock(AtomicBool::new(false)))
                .collect(),
            dim,
        }
    }

    /// Number of rows.
    #[cfg(test)]
    pub(crate) fn rows(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Row length.
    pub(crate) fn dim(&self) -> usize {
        self.dim
    }

    /// The values, once training is over.
    pub(crate) fn into_vec(self) -> Vec<f32> {
        self.data
            .into_vec()
            .into_iter()
            .map(UnsafeCell::into_inner)
            .collect()
    }

    /// Runs `work` on row `row` while holding its lock.
    #[inline(always)]
    fn with_row<R>(&self, row: u32, work: impl FnOnce(&mut [f32]) -> R) -> R {
        let lock = &self.locks[row as usize % self.locks.len()].0;
        let mut spins = 0u32;
        while lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Wait without writing, and let the holder run if it was preempted.
            while lock.load(Ordering::Relaxed) {
                spins += 1;
                if spins.is_multiple_of(64) {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        }
        let _unlock = Unlock(lock);
        let start = row as usize * self.dim;
        let cells = &self.data[start..start + self.dim];
        // SAFETY: `UnsafeCell<f32>` has the layout of `f32`, so the row's cells are `dim`
        // contiguous `f32`s, in bounds of the allocation that `&self` keeps alive, and the
        // pointer carries the provenance of the whole row. The row's stripe lock is held until
        // `_unlock` drops after `work` returns (also if it unwinds), and every other access to
        // these cells takes the same lock, so this is the only reference to them meanwhile.
        let values = unsafe {
            std::slice::from_raw_parts_mut(UnsafeCell::raw_get(cells.as_ptr()), self.dim)
        };
        work(values)
    }

    /// Asks the CPU to start loading row `row` into the cache (a hint; no effect off x86-64).
    #[inline(always)]
    pub(crate) fn prefetch(&self, row: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let start = row as usize * self.dim;
            let start = self.data[start..start + self.dim].as_ptr().cast::<i8>();
            for offset in (0..self.dim * 4).step_by(64) {
                // SAFETY: `_mm_prefetch` is unsafe only because it takes a raw pointer. It is a
                // cache hint: it never faults, reads no value into the program and writes
                // nothing, so in Rust's memory model it is no memory access at all and cannot
                // race with another thread's work on the row. The pointer is computed with
                // `wrapping_add` and lies inside the row, which `&self` keeps alive.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = row;
    }

    /// Copies row `row` into `into` (of length `dim`).
    #[inline(always)]
    pub(crate) fn read(&self, row: u32, into: &mut [f32]) {
        self.with_row(row, |r| into.copy_from_slice(r));
    }

    /// `into += scale · row`.
    #[inline(always)]
    pub(crate) fn add_row_to(&self, row: u32, scale: f32, into: &mut [f32]) {
        self.with_row(row, |r| {
            for (slot, &v) in into.iter_mut().zip(r.iter()) {
                *slot += scale * v;
            }
        });
    }

    /// `row += scale · x`.
    #[inline(always)]
    pub(crate) fn add_to_row(&self, row: u32, scale: f32, x: &[f32]) {
        self.with_row(row, |r| {
            for (slot, &v) in r.iter_mut().zip(x) {
                *slot += scale * v;
            }
        });
    }

    /// `row · x`.
    #[cfg(test)]
    pub(crate) fn dot(&self, row: u32, x: &[f32]) -> f32 {
        self.with_row(row, |r| dot(r, x))
    }

    /// The step of one logistic output unit, under one lock: `x = row · hidden`,
    /// `g = step(x)`, then `error += g · row; row += g · hidden`. Returns `x`.
    #[inline(always)]
    pub(crate) fn learn(
        &self,
        row: u32,
        hidden: &[f32],
        error: &mut [f32],
        step: impl FnOnce(f32) -> f32,
    ) -> f32 {
        self.with_row(row, |r| {
            let x = dot(r, hidden);
            let g = step(x);
            for ((slot, e), &h) in r.iter_mut().zip(error.iter_mut()).zip(hidden) {
                *e += g * *slot;
                *slot += g * h;
            }
            x
        })
    }
}

/// Releases a row lock when dropped.
struct Unlock<'a>(&'a AtomicBool);

impl Drop for Unlock<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// `a · b`, with [`LANES`] partial sums kept in one vector register.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (a, a_rest) = a.as_chunks::<LANES>();
    let (b, b_rest) = b.as_chunks::<LANES>();
    let mut lanes = [0.0f32; LANES];
    for (a, b) in a.iter().zip(b) {
        for i in 0..LANES {
            lanes[i] += a[i] * b[i];
        }
    }
    let rest: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_match_plain_arithmetic() {
        let dim = 11;
        let data: Vec<f32> = (0..3 * dim).map(|i| i as f32 * 0.5).collect();
        let m = SharedMatrix::new(data.clone(), dim);
        assert_eq!(m.rows(), 3);
        let x: Vec<f32> = (0..dim).map(|i| 1.0 - i as f32 * 0.1).collect();
        let expected: f32 = data[dim..2 * dim].iter().zip(&x).map(|(a, b)| a * b).sum();
        assert!((m.dot(1, &x) - expected).abs() < 1e-4);

        let mut error = vec![1.0; dim];
        let dot2: f32 = data[2 * dim..].iter().zip(&x).map(|(a, b)| a * b).sum();
        let seen = m.learn(2, &x, &mut error, |_| 0.5);
        assert!((seen - dot2).abs() < 1e-3);
        let mut row = vec![0.0; dim];
        m.read(2, &mut row);
        for i in 0..dim {
            assert_eq!(error[i], 1.0 + 0.5 * data[2 * dim + i]);
            assert_eq!(row[i], data[2 * dim + i] + 0.5 * x[i]);
        }
        m.add_to_row(0, 2.0, &x);
        let mut acc = vec![0.0; dim];
        m.add_row_to(0, 1.0, &mut acc);
        assert_eq!(acc[3], data[3] + 2.0 * x[3]);
        assert_eq!(m.into_vec()[dim..2 * dim], data[dim..2 * dim]);
    }

    #[test]
    fn racing_threads_lose_no_update() {
        // Four threads add 1 to every weight of one shared row 1000 times each, and touch
        // another row through `learn` with a zero step: the locks serialise them, so every
        // addition lands and the other row is unchanged.
        let dim = 37;
        let m = SharedMatrix::new(vec![0.0; 2 * dim], dim);
        let ones = vec![1.0f32; dim];
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let mut error = vec![0.0; dim];
                    for _ in 0..1000 {
                        m.add_to_row(1, 1.0, &ones);
                        m.learn(0, &ones, &mut error, |_| 0.0);
                        assert!(m.dot(1, &ones).is_finite());
                    }
                });
            }
        });
        let values = m.into_vec();
        assert!(values[..dim].iter().all(|&v| v == 0.0));
        assert!(values[dim..].iter().all(|&v| v == 4000.0), "{values:?}");
    }
}
