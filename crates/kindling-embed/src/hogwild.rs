//! A weight matrix that training threads read and update without locks (Hogwild!, Recht et al.
//! 2011), and the vector kernels that work on its rows in place.
//!
//! Threads race on rows the way word2vec.c, gensim and fastText do: an update may overwrite
//! another thread's concurrent update of the same row, which sparse SGD tolerates. Rows are seen
//! as slices of `Cell<f32>`: every access is a plain load or store of one value (never a
//! reference to it), which the compiler vectorises. Aligned `f32` stores do not tear on any
//! target we build for. With one thread there is no race and results are bit-reproducible.

use std::cell::{Cell, UnsafeCell};

/// `rows × dim` f32 weights shared between training threads.
pub(crate) struct SharedMatrix {
    data: Box<[UnsafeCell<f32>]>,
    dim: usize,
}

// SAFETY: see the module documentation: concurrent updates are the intended Hogwild races on
// plain f32 values; no references to the cells escape.
unsafe impl Sync for SharedMatrix {}

impl SharedMatrix {
    /// Wraps row-major `data` of rows of length `dim`.
    pub(crate) fn new(data: Vec<f32>, dim: usize) -> Self {
        debug_assert!(dim > 0 && data.len().is_multiple_of(dim));
        Self {
            data: data.into_iter().map(UnsafeCell::new).collect(),
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

    /// Row `row` as cells: plain loads and stores that another thread may race with.
    #[inline(always)]
    fn row(&self, row: u32) -> &[Cell<f32>] {
        let start = row as usize * self.dim;
        let cells = &self.data[start..start + self.dim];
        // SAFETY: `Cell<f32>` is `repr(transparent)` over `UnsafeCell<f32>`, so the slices have
        // the same layout; shared mutation through cells is what `UnsafeCell` permits.
        unsafe { &*(std::ptr::from_ref(cells) as *const [Cell<f32>]) }
    }

    /// Asks the CPU to start loading row `row` into the cache (a hint; no effect off x86-64).
    #[inline(always)]
    pub(crate) fn prefetch(&self, row: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let start = self.row(row).as_ptr().cast::<i8>();
            for offset in (0..self.dim * 4).step_by(64) {
                // SAFETY: a prefetch never faults; the address lies inside the row.
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
            *slot = cell.get();
        }
    }

    /// `into += scale · row`.
    #[inline(always)]
    pub(crate) fn add_row_to(&self, row: u32, scale: f32, into: &mut [f32]) {
        for (slot, cell) in into.iter_mut().zip(self.row(row)) {
            *slot += scale * cell.get();
        }
    }

    /// `row += scale · x`.
    #[inline(always)]
    pub(crate) fn add_to_row(&self, row: u32, scale: f32, x: &[f32]) {
        for (cell, &v) in self.row(row).iter().zip(x) {
            cell.set(cell.get() + scale * v);
        }
    }

    /// `row · x`, with eight partial sums so the compiler can keep them in one vector register.
    #[inline(always)]
    pub(crate) fn dot(&self, row: u32, x: &[f32]) -> f32 {
        let row = self.row(row);
        let x = &x[..self.dim];
        let body = self.dim / 8 * 8;
        let mut lanes = [0.0f32; 8];
        for (cells, values) in row[..body].chunks_exact(8).zip(x[..body].chunks_exact(8)) {
            for ((acc, cell), &v) in lanes.iter_mut().zip(cells).zip(values) {
                *acc += cell.get() * v;
            }
        }
        let rest: f32 = row[body..]
            .iter()
            .zip(&x[body..])
            .map(|(c, v)| c.get() * v)
            .sum();
        lanes.iter().sum::<f32>() + rest
    }

    /// The step of one logistic output unit, fused: `error += g · row; row += g · hidden`.
    #[inline(always)]
    pub(crate) fn exchange(&self, row: u32, g: f32, hidden: &[f32], error: &mut [f32]) {
        for ((cell, e), &h) in self.row(row).iter().zip(error.iter_mut()).zip(hidden) {
            let r = cell.get();
            *e += g * r;
            cell.set(r + g * h);
        }
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
}
