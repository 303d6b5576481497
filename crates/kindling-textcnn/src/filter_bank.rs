//! The layout of a bank of word-window filters of several widths, stored as one matrix.
//!
//! A filter of width `w` is `w` taps, one `[dim]` vector per word of its window. All taps of
//! all filters sit side by side in one `[dim, taps · maps]` matrix: column `tap · maps + map`
//! holds tap `tap` of feature map `map`, and the taps of width `widths[k]` are the consecutive
//! block starting at `widths[..k].sum()`. Multiplying the word vectors by this matrix gives
//! every word's contribution to every tap in one product; a window's response is then the sum
//! of its words' contributions along a diagonal.
//!
//! Kim's code surrounds every sentence with `widest − 1` zero vectors on each side, so each
//! word can meet every tap of every filter and short sentences have several windows; the
//! bank's `edge_padding` is that number of zero vectors (0 keeps only windows inside the
//! sentence).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The filter widths, the number of feature maps per width, and the zero vectors around each
/// sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterBank {
    widths: Vec<usize>,
    maps: usize,
    edge_padding: usize,
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
    /// A bank of `maps` filters for each of `widths`, over sentences with `edge_padding` zero
    /// vectors on each side.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `widths` is empty or holds a zero, or `maps` is zero.
    pub fn new(widths: Vec<usize>, maps: usize, edge_padding: usize) -> Result<Self> {
        if widths.is_empty() || widths.contains(&0) {
            return Err(Error::invalid(
                "filter_widths",
                format!("must hold at least one width, all positive, got {widths:?}"),
            ));
        }
        if maps == 0 {
            return Err(Error::invalid("feature_maps", "must be at least 1, got 0"));
        }
        Ok(Self {
            widths,
            maps,
            edge_padding,
        })
    }

    /// Zero vectors on each side of a sentence.
    pub fn edge_padding(&self) -> usize {
        self.edge_padding
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

    /// How many windows of `width` a sentence of `len` words has with the edge padding
    /// (window `t` starts at word `t − edge_padding`); a sentence shorter than the window still
    /// has one (padded with zero vectors), so every sentence gets a feature.
    pub fn windows(&self, len: usize, width: usize) -> usize {
        (len + 2 * self.edge_padding + 1)
            .saturating_sub(width)
            .max(1)
    }

    /// The words of window `start` of `width` that lie inside a sentence of `len` words, as
    /// (tap, word position) pairs.
    pub fn taps_inside(
        &self,
        len: usize,
        width: usize,
        start: usize,
    ) -> impl Iterator<Item = (usize, usize)> {
        let pad = self.edge_padding;
        (0..width).filter_map(move |tap| {
            (start + tap)
                .checked_sub(pad)
                .filter(|&position| position < len)
                .map(|position| (tap, position))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_follow_each_other() {
        let bank = FilterBank::new(vec![3, 4, 5], 100, 4).unwrap();
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
        let valid = FilterBank::new(vec![3], 1, 0).unwrap();
        assert_eq!(valid.windows(10, 3), 8);
        assert_eq!(valid.windows(3, 3), 1);
        assert_eq!(valid.windows(2, 5), 1);
        assert_eq!(valid.windows(0, 1), 1);
        let taps: Vec<_> = valid.taps_inside(2, 5, 0).collect();
        assert_eq!(taps, [(0, 0), (1, 1)]);
    }

    #[test]
    fn edge_padding_adds_windows_at_both_ends() {
        let kim = FilterBank::new(vec![3, 5], 1, 4).unwrap();
        assert_eq!(kim.windows(10, 3), 16);
        assert_eq!(kim.windows(2, 5), 6);
        // Window 0 of width 5 holds four zero vectors and the first word.
        let taps: Vec<_> = kim.taps_inside(2, 5, 0).collect();
        assert_eq!(taps, [(4, 0)]);
        let taps: Vec<_> = kim.taps_inside(2, 5, 5).collect();
        assert_eq!(taps, [(0, 1)]);
    }

    #[test]
    fn empty_or_zero_widths_and_zero_maps_are_errors() {
        let field = |result: Result<FilterBank>| match result {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        };
        assert_eq!(field(FilterBank::new(vec![], 10, 0)), "filter_widths");
        assert_eq!(field(FilterBank::new(vec![3, 0], 10, 0)), "filter_widths");
        assert_eq!(field(FilterBank::new(vec![3], 0, 0)), "feature_maps");
    }
}
