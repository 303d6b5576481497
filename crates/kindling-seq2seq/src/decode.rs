//! Decoding many sources: the search settings a model is saved with, and one batched decode
//! (sources sorted by length, cut into batches, searched, put back in input order) that the
//! [`crate::Translator`], the experiments and the benchmarks share.

use kindling_core::burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::saved::batch_sources;
use crate::search::{Hypothesis, MAX_BEAM, SearchConfig, beam_search_nbest, greedy};
use crate::vocab::PairVocabularies;
use crate::{Error, Result, Seq2Seq};

/// The largest `max_len_a` (output tokens per source token).
pub const MAX_LEN_A: f64 = 1000.0;
/// The largest `max_len_b` (output tokens added to every limit).
pub const MAX_LEN_B: usize = 100_000;
/// The largest length-penalty exponent.
pub const MAX_LENGTH_PENALTY: f64 = 10.0;
/// The most sources decoded together.
pub const MAX_BATCH: usize = 65_536;

/// How outputs are searched for: the settings of fairseq's `--beam`, `--nbest`,
/// `--max-len-a/b` and `--lenpen`. Saved with a model and used when it is loaded.
/// A setting left out of a file takes its value from [`DecodeSettings::default`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecodeSettings {
    /// Beam width (default 5); 1 is greedy search.
    pub beam: usize,
    /// Outputs returned per source, best first (default 1; at most `beam`).
    pub nbest: usize,
    /// Outputs get at most `max_len_a · source length + max_len_b` tokens (default 2).
    pub max_len_a: f64,
    /// See `max_len_a` (default 10).
    pub max_len_b: usize,
    /// Beam search ranks by log-probability / length^α (default 1).
    pub length_penalty: f64,
    /// Sources decoded together (default 64).
    pub batch_size: usize,
}

impl Default for DecodeSettings {
    /// fairseq's defaults for the beam (5), n-best (1) and length penalty (1); a length limit
    /// of `2 · source + 10` tokens, enough for translation and pronunciation alike; 64 sources
    /// per batch.
    fn default() -> Self {
        Self {
            beam: 5,
            nbest: 1,
            max_len_a: 2.0,
            max_len_b: 10,
            length_penalty: 1.0,
            batch_size: 64,
        }
    }
}

impl DecodeSettings {
    /// Greedy search with the other settings left as they are.
    pub fn greedy(&self) -> Self {
        Self {
            beam: 1,
            nbest: 1,
            ..self.clone()
        }
    }

    /// Beam search of `width` with the other settings left as they are.
    pub fn with_beam(&self, width: usize) -> Self {
        Self {
            beam: width,
            ..self.clone()
        }
    }

    /// Every value in its range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the setting, its value and the allowed range.
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |field: &'static str, problem: String| Err(Error::InvalidConfig { field, problem });
        if !(1..=MAX_BEAM).contains(&self.beam) {
            return invalid(
                "beam",
                format!("must be in 1..={MAX_BEAM}, got {}", self.beam),
            );
        }
        if !(1..=self.beam).contains(&self.nbest) {
            return invalid(
                "nbest",
                format!(
                    "must be in 1..={} (the beam), got {}",
                    self.beam, self.nbest
                ),
            );
        }
        if !(0.0..=MAX_LEN_A).contains(&self.max_len_a) {
            return invalid(
                "max_len_a",
                format!("must be in [0, {MAX_LEN_A}], got {}", self.max_len_a),
            );
        }
        if self.max_len_b > MAX_LEN_B {
            return invalid(
                "max_len_b",
                format!("must be at most {MAX_LEN_B}, got {}", self.max_len_b),
            );
        }
        if !(0.0..=MAX_LENGTH_PENALTY).contains(&self.length_penalty) {
            return invalid(
                "length_penalty",
                format!(
                    "must be in [0, {MAX_LENGTH_PENALTY}], got {}",
                    self.length_penalty
                ),
            );
        }
        if !(1..=MAX_BATCH).contains(&self.batch_size) {
            return invalid(
                "batch_size",
                format!("must be in 1..={MAX_BATCH}, got {}", self.batch_size),
            );
        }
        Ok(())
    }

    /// The search limits for the target side of `vocabularies`.
    pub fn search(&self, vocabularies: &PairVocabularies) -> SearchConfig {
        SearchConfig {
            max_len_a: self.max_len_a,
            max_len_b: self.max_len_b,
            length_penalty: self.length_penalty,
            ..vocabularies.search()
        }
    }
}

/// Decodes every source (ids ending with `</s>`, as [`PairVocabularies::encode_source`] gives
/// them): greedy search for a beam of 1 (with attention weights), beam search otherwise. Sources
/// are sorted by length and decoded `settings.batch_size` at a time, so that little of a batch is
/// padding; the outputs come back in the order of `sources`, each source's `settings.nbest` best
/// first.
///
/// # Errors
/// Settings out of range; sources that do not fit the model.
pub fn decode(
    model: &Seq2Seq,
    vocabularies: &PairVocabularies,
    sources: &[Vec<u32>],
    settings: &DecodeSettings,
    device: &Device,
) -> Result<Vec<Vec<Hypothesis>>> {
    settings.validate()?;
    let device = device.clone().without_autodiff();
    let search = settings.search(vocabularies);
    let mut outputs: Vec<Vec<Hypothesis>> = vec![Vec::new(); sources.len()];
    for chunk in &decode_batches(sources, settings.batch_size) {
        let batch: Vec<Vec<u32>> = chunk.iter().map(|&i| sources[i].clone()).collect();
        let batch = batch_sources(&batch, vocabularies.pad(), &device);
        let decoded = if settings.beam == 1 {
            greedy(model, &batch, &search)?
                .into_iter()
                .map(|best| vec![best])
                .collect()
        } else {
            beam_search_nbest(model, &batch, &search, settings.beam, settings.nbest)?
        };
        for (&i, hypotheses) in chunk.iter().zip(decoded) {
            outputs[i] = hypotheses;
        }
    }
    Ok(outputs)
}

/// The batches [`decode`] searches, as indices into `sources`: the sources sorted by length
/// (stable, so equal lengths keep their order), cut `batch_size` at a time. A peer that must
/// decode the same batches (the benchmark's PyTorch side) takes them from here.
pub fn decode_batches(sources: &[Vec<u32>], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by_key(|&i| sources[i].len());
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// [`decode`]'s best output of each source.
///
/// # Errors
/// As [`decode`].
pub fn decode_best(
    model: &Seq2Seq,
    vocabularies: &PairVocabularies,
    sources: &[Vec<u32>],
    settings: &DecodeSettings,
    device: &Device,
) -> Result<Vec<Hypothesis>> {
    let settings = DecodeSettings {
        nbest: 1,
        ..settings.clone()
    };
    Ok(decode(model, vocabularies, sources, &settings, device)?
        .into_iter()
        .map(|mut best| best.remove(0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(settings: DecodeSettings) -> &'static str {
        match settings.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected an invalid setting, got {other:?}"),
        }
    }

    #[test]
    fn settings_out_of_range_are_named() {
        let base = DecodeSettings::default();
        assert!(base.validate().is_ok());
        assert_eq!(field(base.with_beam(0)), "beam");
        assert_eq!(field(base.with_beam(10_000_000_000_000)), "beam");
        assert_eq!(
            field(DecodeSettings {
                nbest: 6,
                ..base.clone()
            }),
            "nbest"
        );
        for a in [f64::INFINITY, f64::NAN, -1.0, 1e6] {
            assert_eq!(
                field(DecodeSettings {
                    max_len_a: a,
                    ..base.clone()
                }),
                "max_len_a"
            );
        }
        assert_eq!(
            field(DecodeSettings {
                max_len_b: usize::MAX,
                ..base.clone()
            }),
            "max_len_b"
        );
        assert_eq!(
            field(DecodeSettings {
                length_penalty: f64::NAN,
                ..base.clone()
            }),
            "length_penalty"
        );
        assert_eq!(
            field(DecodeSettings {
                batch_size: 0,
                ..base.clone()
            }),
            "batch_size"
        );
        assert!(base.greedy().validate().is_ok());
    }

    #[test]
    fn settings_read_with_defaults_and_refuse_unknown_keys() {
        let settings: DecodeSettings = serde_json::from_str(r#"{"beam": 3}"#).unwrap();
        assert_eq!(settings, DecodeSettings::default().with_beam(3));
        assert!(serde_json::from_str::<DecodeSettings>(r#"{"bean": 3}"#).is_err());
    }
}
