//! The Huffman tree of hierarchical softmax (Morin & Bengio 2005; Mikolov et al. 2013): each
//! word is a leaf, and predicting it is a chain of binary decisions at the inner nodes on its
//! path from the root. Frequent words get short paths.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Every word's path: the inner nodes from the root down and the branch taken at each.
pub(crate) struct HuffmanTree {
    /// Start of each word's path in `nodes` and `branches`; one more entry than words.
    offsets: Vec<u32>,
    /// Inner-node rows (`0..words - 1`), root first.
    nodes: Vec<u32>,
    /// The branch (0 or 1) taken below each inner node.
    branches: Vec<u8>,
}

impl HuffmanTree {
    /// Builds the tree of words with `counts`; ties break by node number, so the tree is
    /// deterministic.
    pub(crate) fn new(counts: &[u64]) -> Self {
        let words = counts.len();
        let mut heap: BinaryHeap<Reverse<(u64, usize)>> = counts
            .iter()
            .enumerate()
            .map(|(i, &c)| Reverse((c, i)))
            .collect();
        // Node `i < words` is a leaf; inner nodes are numbered from `words` up.
        let mut parent = vec![0usize; words.saturating_mul(2).saturating_sub(1)];
        let mut branch = vec![0u8; parent.len()];
        let mut next = words;
        while heap.len() > 1 {
            let Reverse((low_count, low)) = heap.pop().expect("two nodes");
            let Reverse((high_count, high)) = heap.pop().expect("two nodes");
            parent[low] = next;
            parent[high] = next;
            branch[high] = 1;
            heap.push(Reverse((low_count + high_count, next)));
            next += 1;
        }
        let root = next.saturating_sub(1);
        let mut offsets = Vec::with_capacity(words + 1);
        let (mut nodes, mut branches) = (Vec::new(), Vec::new());
        offsets.push(0);
        for leaf in 0..words {
            let start = nodes.len();
            let mut node = leaf;
            while words > 1 && node != root {
                branches.push(branch[node]);
                node = parent[node];
                nodes.push((node - words) as u32);
            }
            nodes[start..].reverse();
            branches[start..].reverse();
            offsets.push(nodes.len() as u32);
        }
        Self {
            offsets,
            nodes,
            branches,
        }
    }

    /// Number of inner nodes (rows of the output matrix).
    #[cfg(test)]
    pub(crate) fn inner_nodes(&self) -> usize {
        (self.offsets.len() - 1).saturating_sub(1)
    }

    /// The inner nodes on `word`'s path and the branch taken at each.
    #[inline(always)]
    pub(crate) fn path(&self, word: u32) -> (&[u32], &[u8]) {
        let range = self.offsets[word as usize] as usize..self.offsets[word as usize + 1] as usize;
        (&self.nodes[range.clone()], &self.branches[range])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_form_a_prefix_code_with_frequent_words_short() {
        let counts = [50, 20, 15, 10, 5];
        let tree = HuffmanTree::new(&counts);
        assert_eq!(tree.inner_nodes(), 4);
        let codes: Vec<Vec<u8>> = (0..5).map(|w| tree.path(w).1.to_vec()).collect();
        // Merges: 5+10, then 15 with that, then 20 with 30, then 50 with 50.
        let lengths: Vec<usize> = codes.iter().map(Vec::len).collect();
        assert_eq!(lengths, [1, 2, 3, 4, 4]);
        for (i, a) in codes.iter().enumerate() {
            for (j, b) in codes.iter().enumerate() {
                assert!(i == j || !b.starts_with(a), "{a:?} prefixes {b:?}");
            }
        }
        // Every path starts at the root (the last inner node) and stays inside the inner nodes.
        for w in 0..5 {
            let (nodes, _) = tree.path(w);
            assert_eq!(nodes[0], 3);
            assert!(nodes.iter().all(|&n| n < 4));
        }
    }

    #[test]
    fn one_word_has_an_empty_path() {
        let tree = HuffmanTree::new(&[7]);
        assert_eq!(tree.inner_nodes(), 0);
        assert!(tree.path(0).0.is_empty());
    }
}
