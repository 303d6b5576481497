//! The layout of a bank of word-window filters of several widths, stored as one matrix.
//!
//! A filter of width `w` is `w` taps, one `[dim]` vector per word of its window. All taps of
//! all filters sit side by side in one `[dim, taps · maps]` matrix: column `tap · maps + map`
//! holds tap `tap` of feature map `map`, and the taps of width `widths[k]` are the consecutive
//! block starting at `widths[..k].sum()`. Multiplying the word vectors by this matrix gives
//! every word's contribution to every tap in one product; a window's response is then the sum
//! of its words' contributions along a diagonal.

use serde::{Deserialize, Serialize};

/// The filter widths and the number of feature maps per width.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterBank {
    widths: Vec<usize>,
    maps: usize,
}

/// One width's place in the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WidthBlock {
    /// Index of the width (its features are `index · maps ..`).
    pub index: usize,
    /// The window width in words.
    pub width: usize,
    /// Its first tap in the bank.
    pub first_tap: usize,
}

impl FilterBank {
    /// A bank of `maps` filters for each of `widths`.
    ///
    /// # Panics
    /// When `widths` is empty or holds a zero, or `maps` is zero.
    pub fn new(widths: Vec<usize>, maps: usize) -> Self {
        assert!(
            !widths.is_empty() && widths.iter().all(|&w| w > 0),
            "filter widths must be positive and at least one: {widths:?}"
        );
        assert!(maps > 0, "at least one feature map per width");
        Self { widths, maps }
    }

    /// The filter widths.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// Feature maps per width.
    pub fn maps(&self) -> usize {
        self.maps
    }

    /// The widest filter.
    pub fn widest(&self) -> usize {
        self.widths.iter().copied().max().unwrap_or(1)
    }

    /// Taps over all filters of one map (the sum of the widths).
    pub fn taps(&self) -> usize {
        self.widths.iter().sum()
    }

    /// Columns of the filter matrix: `taps · maps`.
    pub fn columns(&self) -> usize {
        self.taps() * self.maps
    }

    /// Pooled features per sentence: `widths · maps`.
    pub fn features(&self) -> usize {
        self.widths.len() * self.maps
    }

    /// Every width with its place in the bank.
    pub fn blocks(&self) -> impl Iterator<Item = WidthBlock> + '_ {
        self.widths
            .iter()
            .scan(0, |first_tap, &width| {
                let block = (*first_tap, width);
                *first_tap += width;
                Some(block)
            })
            .enumerate()
            .map(|(index, (first_tap, width))| WidthBlock {
                index,
                width,
                first_tap,
            })
    }

    /// How many windows of `width` a sentence of `len` words has; a sentence shorter than the
    /// window still has one (padded with zero vectors), so every sentence gets a feature.
    pub fn windows(len: usize, width: usize) -> usize {
        (len + 1).saturating_sub(width).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_follow_each_other() {
        let bank = FilterBank::new(vec![3, 4, 5], 100);
        let blocks: Vec<_> = bank
            .blocks()
            .map(|b| (b.index, b.width, b.first_tap))
            .collect();
        assert_eq!(blocks, [(0, 3, 0), (1, 4, 3), (2, 5, 7)]);
        assert_eq!(
            (bank.taps(), bank.columns(), bank.features()),
            (12, 1200, 300)
        );
    }

    #[test]
    fn short_sentences_keep_one_window() {
        assert_eq!(FilterBank::windows(10, 3), 8);
        assert_eq!(FilterBank::windows(3, 3), 1);
        assert_eq!(FilterBank::windows(2, 5), 1);
        assert_eq!(FilterBank::windows(0, 1), 1);
    }
}
