//! Grapheme-to-phoneme conversion on CMUdict with an encoder–decoder: a word's letters in,
//! its ARPAbet phonemes (with stress digits unless `stress = false`) out.
//!
//! The model learns each word's first pronunciation; the words are split at random
//! (`split_seed`) into test (`test_fraction`, default 5 %), dev (`dev_fraction`, 5 %) and train
//! (the rest), so no word is in two splits. Metrics: `test_wer` (share of words whose first
//! pronunciation is not exactly right) and `test_per` (phoneme edit distance over reference
//! phonemes), greedy and with beam search (`test_wer_beamK`, `test_per_beamK`), the same for
//! dev, and perplexities. Both rates are also given against any of the word's listed
//! pronunciations (`test_wer_any_pronunciation`, …: the nearest one counts), and with stress,
//! with the stress digits removed from outputs and references (`test_wer_ignoring_stress`,
//! `test_wer_ignoring_stress_any_pronunciation`, …), the way stress-free results are scored.
//! The test outputs go to `test.greedy.txt` / `test.beamK.txt` (`word<TAB>phonemes`); the
//! report draws the attention of one test word. `[options.lexicon]` learns another
//! pronouncing dictionary instead: CMUdict-formatted, or `word TAB phones` in any alphabet.

use std::collections::HashMap;
use std::path::PathBuf;

use kindling_core::seed::SeededRng;
use kindling_data::DataDir;
use kindling_data::read::cmudict::{
    CmudictOptions, Pronunciation, read_cmudict, read_tab_lexicon, without_stress,
};
use kindling_seq2seq::score::{ErrorRates, error_rates, error_rates_against_any};
use kindling_seq2seq::{
    DecodeSettings, PairExample, PairVocabularies, SavedSeq2Seq, Segmenter, Seq2SeqConfig,
    save_seq2seq,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::seq2seq::{attention_json, decode, perplexity, train, write_lines};
use crate::Result;
use crate::runner::TaskContext;

fn one() -> u64 {
    1
}

fn twentieth() -> f64 {
    0.05
}

fn yes() -> bool {
    true
}

fn pool() -> Option<usize> {
    Some(20)
}

/// How a lexicon file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LexiconFormat {
    /// CMUdict's: `WORD P1 P2 …`, alternates as `WORD(2)`, ARPAbet phonemes.
    Cmudict,
    /// `word TAB p1 p2 …`, phones in any alphabet, a word's later lines its alternates.
    Tsv,
}

/// The user's pronouncing dictionary, in place of CMUdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconFile {
    /// The file (plain or gzip).
    pub path: PathBuf,
    /// Its layout.
    pub format: LexiconFormat,
}

/// Options of the `g2p` task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct G2pOptions {
    /// A lexicon to learn instead of CMUdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexicon: Option<LexiconFile>,
    /// Seed of the word split (default 1).
    #[serde(default = "one")]
    pub split_seed: u64,
    /// Share of words held out for dev (default 0.05).
    #[serde(default = "twentieth")]
    pub dev_fraction: f64,
    /// Share of words held out for test (default 0.05).
    #[serde(default = "twentieth")]
    pub test_fraction: f64,
    /// Keep the vowels' stress digits (default true).
    #[serde(default = "yes")]
    pub stress: bool,
    /// The model.
    pub model: Seq2SeqConfig,
    /// Decoding: `beam` is the width of the beam-search scores (greedy scores are always
    /// given) and what `pronounce` uses by default.
    #[serde(default)]
    pub decode: DecodeSettings,
    /// Length bucketing of training batches (default pools of 20 batches).
    #[serde(default = "pool")]
    pub bucket_pool: Option<usize>,
}

impl G2pOptions {
    /// Fractions that leave a training set, a valid model and decoding.
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        let fractions = [self.dev_fraction, self.test_fraction];
        if fractions.iter().any(|f| !(*f > 0.0 && *f < 1.0)) || fractions.iter().sum::<f64>() >= 1.0
        {
            return Err(format!(
                "dev_fraction, test_fraction: expected fractions in (0, 1) summing to less than 1, got {} and {}",
                self.dev_fraction, self.test_fraction
            ));
        }
        if self.bucket_pool == Some(0) {
            return Err("bucket_pool: expected at least 1 batch per pool".into());
        }
        self.decode.validate().map_err(|e| format!("decode: {e}"))?;
        self.model.validate().map_err(|e| format!("model: {e}"))
    }
}

pub(super) fn run(context: &TaskContext<'_>, options: &G2pOptions) -> Result<Map<String, Value>> {
    let cmudict = CmudictOptions {
        strip_stress: !options.stress,
        first_only: false,
    };
    let entries = match &options.lexicon {
        None => DataDir::new(&context.data_dir).cmudict(cmudict)?,
        Some(LexiconFile {
            path,
            format: LexiconFormat::Cmudict,
        }) => read_cmudict(path, cmudict)?,
        Some(LexiconFile {
            path,
            format: LexiconFormat::Tsv,
        }) => read_tab_lexicon(path)?,
    };
    let (firsts, alternates) = firsts_and_alternates(entries);
    let [mut train_words, mut dev_words, mut test_words] = split(firsts, options);
    if let Some(max) = context.max_examples {
        train_words.truncate(max);
        dev_words.truncate(max / 4 + 1);
        test_words.truncate(max / 4 + 1);
    }
    let segmenter = Segmenter::Characters { lowercase: true };
    let train_letters: Vec<Vec<String>> = train_words
        .iter()
        .map(|p| segmenter.tokens(&p.word))
        .collect();
    let vocabularies = PairVocabularies::build(
        train_letters
            .iter()
            .zip(&train_words)
            .map(|(letters, p)| (&letters[..], &p.phonemes[..])),
        1,
    );
    let encode = |words: &[Pronunciation]| -> Result<Vec<PairExample>> {
        words
            .iter()
            .map(|p| Ok(vocabularies.encode_pair(&segmenter.tokens(&p.word), &p.phonemes)?))
            .collect()
    };
    let (train_set, dev_set, test_set) = (
        encode(&train_words)?,
        encode(&dev_words)?,
        encode(&test_words)?,
    );
    let batcher = vocabularies.batcher(options.bucket_pool);
    save_seq2seq(
        &context.out_dir,
        &SavedSeq2Seq {
            model: &options.model,
            segmenter,
            subwords: None,
            vocabularies: &vocabularies,
            decode: &options.decode,
        },
    )?;
    let (model, mut metrics) = train(
        context,
        &options.model,
        &vocabularies,
        &batcher,
        &train_set,
        &dev_set,
    )?;
    let (letters, phonemes) = (vocabularies.source(), vocabularies.target());
    metrics.insert("train_words".into(), json!(train_set.len()));
    metrics.insert("dev_words".into(), json!(dev_set.len()));
    metrics.insert("test_words".into(), json!(test_set.len()));
    metrics.insert("letters".into(), json!(letters.len()));
    metrics.insert("phonemes".into(), json!(phonemes.len()));
    let beam = options.decode.beam;
    for (split, set, words) in [
        ("dev", &dev_set, &dev_words),
        ("test", &test_set, &test_words),
    ] {
        metrics.insert(
            format!("{split}_perplexity"),
            json!(perplexity(context, &model, &batcher, set)?),
        );
        let sources: Vec<Vec<u32>> = set.iter().map(|p| p.source.clone()).collect();
        let listed: Vec<Vec<&[String]>> = words
            .iter()
            .map(|p| {
                let others = alternates.get(&p.word).into_iter().flatten();
                std::iter::once(p.phonemes.as_slice())
                    .chain(others.map(Vec::as_slice))
                    .collect()
            })
            .collect();
        let firsts: Vec<&[String]> = listed.iter().map(|l| l[0]).collect();
        let unstressed_listed: Option<Vec<Vec<Vec<&str>>>> = options
            .stress
            .then(|| listed.iter().map(|l| unstressed(l)).collect());
        for width in [None, Some(beam)] {
            let settings = match width {
                None => options.decode.greedy(),
                Some(k) => options.decode.with_beam(k),
            };
            let outputs = decode(context, &model, &vocabularies, &sources, &settings)?;
            let predicted: Vec<Vec<String>> = outputs
                .iter()
                .map(|h| {
                    Ok(phonemes
                        .decode(&h.tokens, true)?
                        .into_iter()
                        .map(str::to_string)
                        .collect())
                })
                .collect::<Result<_>>()?;
            let suffix = width.map_or(String::new(), |k| format!("_beam{k}"));
            let mut insert = |name: &str, rates: ErrorRates| {
                let key = |rate: &str| format!("{split}_{rate}{name}{suffix}");
                metrics.insert(key("wer"), json!(rates.sequence_error_rate));
                metrics.insert(key("per"), json!(rates.token_error_rate));
            };
            insert("", error_rates(&predicted, &firsts)?);
            insert(
                "_any_pronunciation",
                error_rates_against_any(&predicted, &listed)?,
            );
            if let Some(listed) = &unstressed_listed {
                let predicted = unstressed(&predicted);
                let firsts: Vec<&[&str]> = listed.iter().map(|l| l[0].as_slice()).collect();
                insert("_ignoring_stress", error_rates(&predicted, &firsts)?);
                insert(
                    "_ignoring_stress_any_pronunciation",
                    error_rates_against_any(&predicted, listed)?,
                );
            }
            if split == "test" && width.is_none() {
                // One word of 8 to 12 letters, to draw where the decoder looked.
                let example = words
                    .iter()
                    .position(|p| (8..=12).contains(&p.word.chars().count()));
                if let Some(i) = example
                    && let Some(map) =
                        attention_json(&segmenter.tokens(&words[i].word), &outputs[i], phonemes)?
                {
                    metrics.insert("test_attention".into(), map);
                }
            }
            if split == "test" {
                let lines: Vec<String> = words
                    .iter()
                    .zip(&predicted)
                    .map(|(p, out)| format!("{}\t{}", p.word, out.join(" ")))
                    .collect();
                let file = width.map_or("test.greedy.txt".to_string(), |k| {
                    format!("test.beam{k}.txt")
                });
                write_lines(context, &file, &lines)?;
            }
        }
    }
    Ok(metrics)
}

/// Pronunciations with the stress digits removed, to score a stressed model the way
/// stress-free results are scored.
fn unstressed<P: AsRef<[String]>>(pronunciations: &[P]) -> Vec<Vec<&str>> {
    pronunciations
        .iter()
        .map(|p| p.as_ref().iter().map(|ph| without_stress(ph)).collect())
        .collect()
}

/// Each word's first pronunciation, in the dictionary's order, and the other pronunciations
/// of the words that have several.
fn firsts_and_alternates(
    entries: Vec<Pronunciation>,
) -> (Vec<Pronunciation>, HashMap<String, Vec<Vec<String>>>) {
    let mut alternates: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    let mut firsts = Vec::new();
    for entry in entries {
        if entry.variant == 1 {
            firsts.push(entry);
        } else {
            alternates
                .entry(entry.word)
                .or_default()
                .push(entry.phonemes);
        }
    }
    (firsts, alternates)
}

/// The words split into train, dev and test by a seeded shuffle.
fn split(mut entries: Vec<Pronunciation>, options: &G2pOptions) -> [Vec<Pronunciation>; 3] {
    SeededRng::new(options.split_seed).shuffle(&mut entries);
    let n = entries.len();
    let test = ((n as f64) * options.test_fraction).round() as usize;
    let dev = ((n as f64) * options.dev_fraction).round() as usize;
    let mut rest = entries.split_off(test);
    let train = rest.split_off(dev);
    [train, rest, entries]
}
