//! Similarity queries over unit-normalised vectors, answered with matrix products on a burn
//! device: nearest neighbours, analogies (3CosAdd and 3CosMul) and odd-one-out.

use kindling_core::burn::tensor::{Device, Tensor, TensorData};

use crate::query::kernel::{Excluded, MAX_EXCLUDED, excluded, top_k_dot, top_k_of_scores};
use crate::vectors::WordVectors;
use crate::{Error, Result};

/// A word found by a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    /// The word.
    pub word: String,
    /// Its row.
    pub index: u32,
    /// Its score: cosine similarity, or the 3CosMul objective.
    pub score: f32,
}

/// How an analogy `a : b :: c : ?` is scored (Levy & Goldberg 2014).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnalogyMethod {
    /// `cos(d, b) − cos(d, a) + cos(d, c)` (Mikolov's vector offset).
    #[default]
    CosAdd,
    /// `cos'(d, b) · cos'(d, c) / (cos'(d, a) + 1e-6)` with `cos' = (1 + cos) / 2`, as gensim's
    /// `most_similar_cosmul`.
    CosMul,
}

/// Unit-normalised vectors on a device, ready for batched queries.
pub struct Similarity {
    vectors: WordVectors,
    /// `[dim, len]`: the transposed unit matrix, so that queries `[q, dim]` multiply it directly.
    transposed: Tensor<2>,
    device: Device,
}

impl Similarity {
    /// Normalises `vectors` and puts them on `device`.
    pub fn new(vectors: &WordVectors, device: &Device) -> Self {
        let vectors = vectors.normalized();
        let matrix: Tensor<2> = Tensor::from_data(
            TensorData::new(vectors.data().to_vec(), [vectors.len(), vectors.dim()]),
            device,
        );
        Self {
            transposed: matrix.transpose(),
            vectors,
            device: device.clone(),
        }
    }

    /// The unit-normalised vectors.
    pub fn vectors(&self) -> &WordVectors {
        &self.vectors
    }

    /// Dot products of `queries` (row-major `[q, dim]`) with every unit vector.
    ///
    /// # Shapes
    /// `queries`: `q × dim` values → `q × len` scores, row-major.
    ///
    /// # Errors
    /// [`Error::Dimension`] when `queries` is not a whole number of vectors.
    pub fn scores(&self, queries: &[f32]) -> Result<Vec<f32>> {
        self.with_scores(queries, <[f32]>::to_vec)
    }

    /// Computes the scores of [`Similarity::scores`] and lends them to `use_scores` without
    /// copying them off the device's buffer.
    fn with_scores<R>(&self, queries: &[f32], use_scores: impl FnOnce(&[f32]) -> R) -> Result<R> {
        let dim = self.vectors.dim();
        if !queries.len().is_multiple_of(dim) {
            return Err(Error::Dimension {
                expected: dim,
                found: queries.len() % dim,
            });
        }
        let q: Tensor<2> = Tensor::from_data(
            TensorData::new(queries.to_vec(), [queries.len() / dim, dim]),
            &self.device,
        );
        let scores = q.matmul(self.transposed.clone()).into_data();
        match scores.as_slice::<f32>() {
            Ok(slice) => Ok(use_scores(slice)),
            Err(_) => {
                let converted = scores.convert::<f32>();
                Ok(use_scores(
                    converted.as_slice::<f32>().expect("f32 after convert"),
                ))
            }
        }
    }

    fn unit(&self, word: &str) -> Result<(u32, &[f32])> {
        let index = self
            .vectors
            .index(word)
            .ok_or_else(|| Error::UnknownWord(word.to_string()))?;
        Ok((index, self.vectors.row(index as usize)))
    }

    /// The `k` rows most similar (cosine) to `vector`, best first, leaving out `exclude`.
    ///
    /// # Errors
    /// [`Error::Dimension`] for a vector of the wrong length.
    pub fn nearest_to_vector(
        &self,
        vector: &[f32],
        k: usize,
        exclude: &[u32],
    ) -> Result<Vec<Neighbour>> {
        if vector.len() != self.vectors.dim() {
            return Err(Error::Dimension {
                expected: self.vectors.dim(),
                found: vector.len(),
            });
        }
        // The kernel excludes up to MAX_EXCLUDED rows itself; ask for more to filter the rest.
        let (inline, extra) = exclude.split_at(exclude.len().min(MAX_EXCLUDED));
        let found = top_k_dot(
            self.vectors.data(),
            self.vectors.dim(),
            vector,
            &[excluded(inline)],
            k + extra.len(),
        );
        Ok(found
            .into_iter()
            .flatten()
            .filter(|(_, row)| !extra.contains(row))
            .take(k)
            .map(|(score, index)| self.neighbour(score, index))
            .collect())
    }

    /// The `k` words nearest to `word`, itself excluded.
    ///
    /// # Errors
    /// [`Error::UnknownWord`].
    pub fn nearest(&self, word: &str, k: usize) -> Result<Vec<Neighbour>> {
        let (index, unit) = self.unit(word)?;
        self.nearest_to_vector(unit, k, &[index])
    }

    /// The `k` best answers to `a : b :: c : ?`, leaving out `a`, `b` and `c`.
    ///
    /// # Errors
    /// [`Error::UnknownWord`] for any unknown word.
    pub fn analogy(
        &self,
        a: &str,
        b: &str,
        c: &str,
        k: usize,
        method: AnalogyMethod,
    ) -> Result<Vec<Neighbour>> {
        let question = [self.unit(a)?.0, self.unit(b)?.0, self.unit(c)?.0];
        let best = self.ranked(&[question], method, k, 1)?;
        Ok(best
            .into_iter()
            .flatten()
            .map(|(score, index)| self.neighbour(score, index))
            .collect())
    }

    /// The `k` best answers (rows, best first) to each question `[a, b, c]` (rows), leaving
    /// out its own words; questions are scored in batches of `batch`, one matrix product each.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a row outside the vectors.
    pub fn rank_analogies(
        &self,
        questions: &[[u32; 3]],
        method: AnalogyMethod,
        k: usize,
        batch: usize,
    ) -> Result<Vec<Vec<u32>>> {
        let ranked = self.ranked(questions, method, k, batch)?;
        Ok(ranked
            .into_iter()
            .map(|top| top.into_iter().map(|(_, row)| row).collect())
            .collect())
    }

    /// The `k` best (score, row) answers of each question: 3CosAdd through the fused kernel
    /// (each question is one query vector), 3CosMul from full score rows in batches of `batch`.
    fn ranked(
        &self,
        questions: &[[u32; 3]],
        method: AnalogyMethod,
        k: usize,
        batch: usize,
    ) -> Result<Vec<Vec<(f32, u32)>>> {
        let n = self.vectors.len() as u32;
        if let Some(q) = questions.iter().find(|q| q.iter().any(|&i| i >= n)) {
            return Err(Error::Invalid {
                what: "analogy question",
                problem: format!("rows {q:?} outside {n} vectors"),
            });
        }
        if method == AnalogyMethod::CosAdd {
            let exclude: Vec<Excluded> = questions.iter().map(|q| excluded(q)).collect();
            return Ok(top_k_dot(
                self.vectors.data(),
                self.vectors.dim(),
                &self.offset_queries(questions),
                &exclude,
                k,
            ));
        }
        let len = self.vectors.len();
        let mut answers = Vec::with_capacity(questions.len());
        for chunk in questions.chunks(batch.max(1)) {
            self.with_cosmul_scores(chunk, |scores| {
                for (question, row) in chunk.iter().zip(scores.chunks_exact(len)) {
                    answers.push(top_k_of_scores(row, k, question));
                }
            })?;
        }
        Ok(answers)
    }

    /// `b − a + c` of each question `[a, b, c]`, row-major.
    fn offset_queries(&self, questions: &[[u32; 3]]) -> Vec<f32> {
        let dim = self.vectors.dim();
        let row = |i: u32| self.vectors.row(i as usize);
        let mut queries = Vec::with_capacity(questions.len() * dim);
        for &[a, b, c] in questions {
            queries.extend((0..dim).map(|j| row(b)[j] + row(c)[j] - row(a)[j]));
        }
        queries
    }

    fn neighbour(&self, score: f32, index: u32) -> Neighbour {
        Neighbour {
            word: self.vectors.words()[index as usize].clone(),
            index,
            score,
        }
    }

    /// One row of `len` 3CosMul scores per question, lent to `use_scores`.
    fn with_cosmul_scores<R>(
        &self,
        questions: &[[u32; 3]],
        use_scores: impl FnOnce(&[f32]) -> R,
    ) -> Result<R> {
        let queries: Vec<f32> = questions
            .iter()
            .flat_map(|q| {
                q.iter()
                    .flat_map(|&i| self.vectors.row(i as usize).iter().copied())
            })
            .collect();
        let len = self.vectors.len();
        let shifted = |x: f32| (1.0 + x) / 2.0;
        let scores = self.with_scores(&queries, |cosines| {
            let mut scores = Vec::with_capacity(questions.len() * len);
            for triple in cosines.chunks_exact(3 * len) {
                let (a, rest) = triple.split_at(len);
                let (b, c) = rest.split_at(len);
                scores.extend(
                    (0..len).map(|d| shifted(b[d]) * shifted(c[d]) / (shifted(a[d]) + 1e-6)),
                );
            }
            scores
        })?;
        Ok(use_scores(&scores))
    }

    /// The word of `words` least similar to the mean of their unit vectors (gensim's
    /// `doesnt_match`).
    ///
    /// # Errors
    /// [`Error::UnknownWord`], or [`Error::Invalid`] for fewer than two words.
    pub fn odd_one_out<'w>(&self, words: &[&'w str]) -> Result<&'w str> {
        if words.len() < 2 {
            return Err(Error::Invalid {
                what: "odd-one-out",
                problem: "needs at least two words".into(),
            });
        }
        let units = words
            .iter()
            .map(|w| self.unit(w).map(|(_, u)| u))
            .collect::<Result<Vec<_>>>()?;
        let dim = self.vectors.dim();
        let mean: Vec<f32> = (0..dim)
            .map(|j| units.iter().map(|u| u[j]).sum::<f32>() / units.len() as f32)
            .collect();
        let dot = |u: &[f32]| u.iter().zip(&mean).map(|(x, y)| x * y).sum::<f32>();
        let (odd, _) = words
            .iter()
            .zip(&units)
            .min_by(|(_, u), (_, v)| dot(u).total_cmp(&dot(v)))
            .expect("at least two words");
        Ok(odd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-built 2-d vectors where king − man + woman = queen exactly.
    fn royal() -> Similarity {
        let words = ["man", "woman", "king", "queen", "apple"]
            .map(String::from)
            .to_vec();
        let data = vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 2.0, 0.2, -1.0];
        let vectors = WordVectors::new(words, 2, data).unwrap();
        Similarity::new(
            &vectors,
            &kindling_core::BackendKind::Flex.device().unwrap(),
        )
    }

    #[test]
    fn nearest_neighbours_by_cosine() {
        let sim = royal();
        let near = sim.nearest("man", 2).unwrap();
        assert_eq!(
            near.iter().map(|n| n.word.as_str()).collect::<Vec<_>>(),
            ["king", "apple"]
        );
        assert!((near[0].score - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert!((near[1].score - 0.2 / 1.04f32.sqrt()).abs() < 1e-6);
        assert!(matches!(
            sim.nearest("prince", 1),
            Err(Error::UnknownWord(_))
        ));
    }

    #[test]
    fn analogies_by_both_methods() {
        let sim = royal();
        // Unit vectors: man (1,0), woman (0,1), king (.707,.707), queen (0,1), apple (.196,-.981).
        // 3CosAdd query king − man + woman = (−.293, 1.707): queen scores 1.707.
        let add = sim
            .analogy("man", "king", "woman", 1, AnalogyMethod::CosAdd)
            .unwrap();
        assert_eq!(add[0].word, "queen");
        assert!((add[0].score - 1.707_106_7).abs() < 1e-5);
        // 3CosMul: queen: cos'(q,king)=.8536, cos'(q,woman)=1, cos'(q,man)=.5 → 1.7071.
        let mul = sim
            .analogy("man", "king", "woman", 1, AnalogyMethod::CosMul)
            .unwrap();
        assert_eq!(mul[0].word, "queen");
        assert!((mul[0].score - 0.853_553_4 / (0.5 + 1e-6)).abs() < 1e-4);
        let ranked = sim
            .rank_analogies(&[[0, 2, 1], [1, 3, 0]], AnalogyMethod::CosAdd, 2, 1)
            .unwrap();
        assert_eq!(ranked, [vec![3, 4], vec![2, 4]]);
    }

    #[test]
    fn odd_one_out_is_the_least_typical() {
        let sim = royal();
        assert_eq!(sim.odd_one_out(&["man", "king", "apple"]).unwrap(), "apple");
        assert!(sim.odd_one_out(&["man"]).is_err());
    }
}
