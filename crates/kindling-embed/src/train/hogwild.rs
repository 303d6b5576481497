//! A weight matrix that training threads read and update without locks (Hogwild!, Recht et al.
//! 2011), and the vector kernels that work on its rows.
//!
//! # Races without undefined behaviour
//!
//! Every weight is an [`AtomicU32`] holding the bits of an `f32`, and every access is a
//! [`Ordering::Relaxed`] load or store of one weight. Threads still race on rows the way
//! word2vec.c, gensim and fastText do — an update may overwrite another thread's concurrent
//! update of the same row (a lost update), and a thread may read a row that another is halfway
//! through writing — which sparse SGD tolerates. But under Rust's memory model these are races
//! between atomic accesses, not data races: there is no undefined behaviour, and each value read
//! is one that some thread wrote (atomics never tear). Relaxed accesses impose no ordering and
//! no fences; on x86-64 and AArch64 a relaxed 32-bit load or store is the same `mov` / `ldr` /
//! `str` as a plain one.
//!
//! With one thread there is no race, and a seed gives bit-identical results run after run.
//!
//! # Keeping the kernels vectorised
//!
//! The compiler never merges atomic accesses into vector loads or stores, so each weight moves
//! between the shared row and the CPU with its own scalar `mov`. The kernels take rows in
//! chunks of [`LANES`] weights: a chunk is loaded with relaxed scalar loads into a local
//! `[f32; LANES]` that the compiler assembles in a vector register (scalar loads and lane
//! inserts, no round trip through memory), the arithmetic runs on that local copy and the
//! thread's own `f32` buffers, and a chunk that changed is written back with relaxed scalar
//! stores.
//!
//! Compiled for AVX2 (as inside `train_line_simd`), `dot` and `add_row_to`, which only read the
//! shared row, do their multiply-adds 8 lanes wide (`vmulps`/`vaddps` on `ymm`), as do the
//! `error` updates of `exchange`. Where a result has to go back to the shared row
//! (`add_to_row`, the row half of `exchange`) the compiler keeps the arithmetic scalar: every
//! value needs its own store anyway, and one store per cycle, not the multiply and add beside
//! it, is what bounds those loops. No kernel contains a lock prefix, fence or call. The
//! arithmetic and its order are those of plain `f32` kernels, so one-thread results do not
//! depend on the chunking.

use std::sync::atomic::{AtomicU32, Ordering};

/// Values per chunk: one AVX2 register of `f32`s (two NEON registers).
const LANES: usize = 8;

/// `rows × dim` f32 weights shared between training threads.
pub(crate) struct SharedMatrix {
    data: Box<[AtomicU32]>,
    dim: usize,
}

impl SharedMatrix {
    /// Wraps row-major `data` of rows of length `dim`.
    pub(crate) fn new(data: Vec<f32>, dim: usize) -> Self {
        debug_assert!(dim > 0 && data.len().is_multiple_of(dim));
        Self {
            data: data
                .into_iter()
                .map(|v| AtomicU32::new(v.to_bits()))
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
            .map(|a| f32::from_bits(a.into_inner()))
            .collect()
    }

    /// Row `row`: weights that other threads may load and store concurrently.
    #[inline(always)]
    fn row(&self, row: u32) -> &[AtomicU32] {
        let start = row as usize * self.dim;
        &self.data[start..start + self.dim]
    }

    /// Asks the CPU to start loading row `row` into the cache (a hint; no effect off x86-64).
    #[inline(always)]
    pub(crate) fn prefetch(&self, row: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let start = self.row(row).as_ptr().cast::<i8>();
            for offset in (0..self.dim * 4).step_by(64) {
                // SAFETY: `_mm_prefetch` is unsafe only because it takes a raw pointer. It is a
                // cache hint: it never faults, reads no value into the program and writes
                // nothing, so in Rust's memory model it is no memory access at all and cannot
                // race with the other threads' atomic accesses. The pointer is computed with
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
        for (slot, cell) in into.iter_mut().zip(self.row(row)) {
            *slot = load(cell);
        }
    }

    /// `into += scale · row`.
    #[inline(always)]
    pub(crate) fn add_row_to(&self, row: u32, scale: f32, into: &mut [f32]) {
        let (cells, cells_rest) = self.row(row).as_chunks::<LANES>();
        let (into, into_rest) = into.as_chunks_mut::<LANES>();
        for (cells, into) in cells.iter().zip(into) {
            let r = load_chunk(cells);
            for i in 0..LANES {
                into[i] += scale * r[i];
            }
        }
        for (slot, cell) in into_rest.iter_mut().zip(cells_rest) {
            *slot += scale * load(cell);
        }
    }

    /// `row += scale · x`.
    #[inline(always)]
    pub(crate) fn add_to_row(&self, row: u32, scale: f32, x: &[f32]) {
        let (cells, cells_rest) = self.row(row).as_chunks::<LANES>();
        let (x, x_rest) = x.as_chunks::<LANES>();
        for (cells, x) in cells.iter().zip(x) {
            let mut r = load_chunk(cells);
            for i in 0..LANES {
                r[i] += scale * x[i];
            }
            store_chunk(cells, r);
        }
        for (cell, &v) in cells_rest.iter().zip(x_rest) {
            store(cell, load(cell) + scale * v);
        }
    }

    /// `row · x`, with [`LANES`] partial sums kept in one vector register.
    #[inline(always)]
    pub(crate) fn dot(&self, row: u32, x: &[f32]) -> f32 {
        let (cells, cells_rest) = self.row(row).as_chunks::<LANES>();
        let (x, x_rest) = x.as_chunks::<LANES>();
        let mut lanes = [0.0f32; LANES];
        for (cells, x) in cells.iter().zip(x) {
            let r = load_chunk(cells);
            for i in 0..LANES {
                lanes[i] += r[i] * x[i];
            }
        }
        let rest: f32 = cells_rest
            .iter()
            .zip(x_rest)
            .map(|(c, v)| load(c) * v)
            .sum();
        lanes.iter().sum::<f32>() + rest
    }

    /// The step of one logistic output unit, fused: `error += g · row; row += g · hidden`.
    #[inline(always)]
    pub(crate) fn exchange(&self, row: u32, g: f32, hidden: &[f32], error: &mut [f32]) {
        let (cells, cells_rest) = self.row(row).as_chunks::<LANES>();
        let (hidden, hidden_rest) = hidden.as_chunks::<LANES>();
        let (error, error_rest) = error.as_chunks_mut::<LANES>();
        for ((cells, hidden), error) in cells.iter().zip(hidden).zip(error) {
            let mut r = load_chunk(cells);
            for i in 0..LANES {
                error[i] += g * r[i];
                r[i] += g * hidden[i];
            }
            store_chunk(cells, r);
        }
        let rest = cells_rest.iter().zip(hidden_rest).zip(error_rest);
        for ((cell, &h), e) in rest {
            let r = load(cell);
            *e += g * r;
            store(cell, r + g * h);
        }
    }
}

/// One weight: a relaxed load, a plain `mov` on x86-64.
#[inline(always)]
fn load(cell: &AtomicU32) -> f32 {
    f32::from_bits(cell.load(Ordering::Relaxed))
}

/// Overwrites one weight: a relaxed store, a plain `mov` on x86-64.
#[inline(always)]
fn store(cell: &AtomicU32, value: f32) {
    cell.store(value.to_bits(), Ordering::Relaxed);
}

/// [`LANES`] weights copied into a local array (a vector register once optimised).
#[inline(always)]
fn load_chunk(cells: &[AtomicU32; LANES]) -> [f32; LANES] {
    std::array::from_fn(|i| load(&cells[i]))
}

/// Writes a local chunk back, one relaxed store per weight.
#[inline(always)]
fn store_chunk(cells: &[AtomicU32; LANES], values: [f32; LANES]) {
    for (cell, value) in cells.iter().zip(values) {
        store(cell, value);
    }
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
        m.exchange(2, 0.5, &x, &mut error);
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
    fn racing_threads_lose_updates_but_never_tear_values() {
        // Four threads add 1 to every weight of one shared row 1000 times each: some additions
        // may be lost, but every weight ends as a whole number of additions.
        let dim = 37;
        let m = SharedMatrix::new(vec![0.0; 2 * dim], dim);
        let ones = vec![1.0f32; dim];
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let mut error = vec![0.0; dim];
                    for _ in 0..1000 {
                        m.add_to_row(1, 1.0, &ones);
                        m.exchange(0, 0.0, &ones, &mut error);
                        assert!(m.dot(1, &ones).is_finite());
                    }
                });
            }
        });
        let values = m.into_vec();
        assert!(values[..dim].iter().all(|&v| v == 0.0));
        for &v in &values[dim..] {
            assert!((1000.0..=4000.0).contains(&v) && v.fract() == 0.0, "{v}");
        }
    }
}
