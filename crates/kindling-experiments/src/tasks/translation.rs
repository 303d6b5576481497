//! Translation with an encoder–decoder ([`kindling_seq2seq`]) on a parallel corpus of
//! line-aligned files, e.g. Multi30k German→English.
//!
//! Options ([`TranslationOptions`]): `data` names the languages and the split files (paths under
//! the data directory, `{lang}` standing for each language code), `lowercase` and `min_count`
//! shape the word vocabularies (words and punctuation marks; tokens of the training side seen
//! fewer times become `<unk>`), `bpe_vocabulary` splits words into byte-pair-encoding subwords
//! learned jointly on both training sides (pieces joined back into words before scoring),
//! `model` is the [`Seq2SeqConfig`], `decode` the search settings and `bucket_pool` the length
//! bucketing of training batches.
//!
//! Metrics: `test_perplexity` (per target token, `</s>` included), `test_bleu` (greedy),
//! `test_bleu_beamK`, `test_chrf` (greedy), the same for dev, BLEU by source length (up to 10,
//! 11–20, over 20 words) for both searches, and `test_reference_unknown_share`: the share of test
//! reference words outside the word-level target vocabulary, which a word-level model cannot
//! produce (with subwords also `test_reference_unknown_pieces_share`). BLEU and chrF are
//! sacreBLEU's defaults over the outputs' tokens joined by spaces against the raw references
//! (lowercased when the vocabulary is). The test outputs are written to
//! `test.greedy.txt` and `test.beamK.txt`; the model to `translate`'s files.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use kindling_data::read::parallel::{SentencePair, read_parallel};
use kindling_data::split::split_off_holdout;
use kindling_data::{Encoding, Vocab};
use kindling_seq2seq::score::{corpus_bleu, corpus_chrf};
use kindling_seq2seq::search::Hypothesis;
use kindling_seq2seq::subword::Subwords;
use kindling_seq2seq::{
    DecodeSettings, PairExample, PairVocabularies, SavedSeq2Seq, Segmenter, Seq2SeqConfig,
    save_seq2seq, seq2seq_vocabulary, target_text,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::seq2seq::{attention_json, decode, perplexity, train, write_lines};
use crate::Result;
use crate::runner::TaskContext;

fn yes() -> bool {
    true
}

fn two() -> u64 {
    2
}

fn twentieth() -> f64 {
    0.05
}

fn pool() -> Option<usize> {
    Some(20)
}

/// The files of a parallel corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParallelFiles {
    /// Source language code, e.g. `de`.
    pub source: String,
    /// Target language code, e.g. `en`.
    pub target: String,
    /// Training files, `{lang}` standing for the language code (relative paths are under the
    /// data directory).
    pub train: String,
    /// Dev files (default: a seeded `dev_fraction` of the training pairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// Test files (default: none; the run reports dev scores only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
}

impl ParallelFiles {
    /// The source and target files of `split` (one of `train`, `dev`, `test`, a pattern with
    /// `{lang}`): absolute paths as they are, relative ones under `data_dir`.
    pub fn paths(&self, split: &str, data_dir: &Path) -> (PathBuf, PathBuf) {
        let path = |lang: &str| {
            let file = PathBuf::from(split.replace("{lang}", lang));
            if file.is_absolute() {
                file
            } else {
                data_dir.join(file)
            }
        };
        (path(&self.source), path(&self.target))
    }
}

/// Options of the `translation` task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranslationOptions {
    /// The corpus.
    pub data: ParallelFiles,
    /// Share of the training pairs held out (seeded, seed 1) as dev when `data.dev` is not
    /// given (default 0.05).
    #[serde(default = "twentieth")]
    pub dev_fraction: f64,
    /// Lowercase both sides (default true).
    #[serde(default = "yes")]
    pub lowercase: bool,
    /// Training-side tokens seen fewer times are `<unk>` (default 2).
    #[serde(default = "two")]
    pub min_count: u64,
    /// Split words further into byte-pair-encoding subwords learned jointly on both training
    /// sides, with a vocabulary of this many pieces (default: whole words).
    #[serde(default)]
    pub bpe_vocabulary: Option<usize>,
    /// The model.
    pub model: Seq2SeqConfig,
    /// Decoding: `beam` is the width of the beam-search scores (greedy scores are always
    /// given) and what `translate` uses by default.
    #[serde(default)]
    pub decode: DecodeSettings,
    /// Length bucketing of training batches (default pools of 20 batches).
    #[serde(default = "pool")]
    pub bucket_pool: Option<usize>,
}

impl TranslationOptions {
    /// A valid model, decoding and vocabulary threshold.
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        if self.min_count == 0 {
            return Err("min_count: expected at least 1".into());
        }
        if self.bpe_vocabulary == Some(0) {
            return Err("bpe_vocabulary: expected at least 1 piece".into());
        }
        if self.bucket_pool == Some(0) {
            return Err("bucket_pool: expected at least 1 batch per pool".into());
        }
        if !(self.dev_fraction > 0.0 && self.dev_fraction < 1.0) {
            return Err(format!(
                "dev_fraction: expected a fraction in (0, 1), got {}",
                self.dev_fraction
            ));
        }
        for (key, path) in [
            ("train", Some(&self.data.train)),
            ("dev", self.data.dev.as_ref()),
            ("test", self.data.test.as_ref()),
        ] {
            let Some(path) = path else { continue };
            if !path.contains("{lang}") {
                return Err(format!(
                    "data.{key}: `{path}` needs `{{lang}}` where the language code goes"
                ));
            }
        }
        self.decode.validate().map_err(|e| format!("decode: {e}"))?;
        self.model.validate().map_err(|e| format!("model: {e}"))
    }
}

/// A sentence pair as source and target tokens.
type TokenPair = (Vec<String>, Vec<String>);

/// Source-length buckets of the BLEU breakdown: name and the largest length (in words).
const LENGTH_BUCKETS: [(&str, usize); 3] = [("1_10", 10), ("11_20", 20), ("21_up", usize::MAX)];

pub(super) fn run(
    context: &TaskContext<'_>,
    options: &TranslationOptions,
) -> Result<Map<String, Value>> {
    let files = |split: &str| -> Result<Vec<SentencePair>> {
        let (source, target) = options.data.paths(split, &context.data_dir);
        Ok(read_parallel(&source, &target, Encoding::Utf8)?)
    };
    let (mut train_pairs, mut dev_pairs) = match &options.data.dev {
        Some(dev) => (files(&options.data.train)?, files(dev)?),
        None => split_off_holdout(files(&options.data.train)?, options.dev_fraction, 1)?,
    };
    let mut test_pairs = match &options.data.test {
        Some(test) => files(test)?,
        None => Vec::new(),
    };
    if let Some(max) = context.max_examples {
        train_pairs.truncate(max);
        dev_pairs.truncate(max / 4 + 1);
        test_pairs.truncate(max / 4 + 1);
    }
    let segmenter = Segmenter::Words {
        lowercase: options.lowercase,
    };
    let tokenized = |pairs: &[SentencePair]| -> Vec<TokenPair> {
        pairs
            .iter()
            .map(|p| (segmenter.tokens(&p.source), segmenter.tokens(&p.target)))
            .collect()
    };
    let (train_tokens, dev_tokens, test_tokens) = (
        tokenized(&train_pairs),
        tokenized(&dev_pairs),
        tokenized(&test_pairs),
    );
    // What a word-level model could produce, whatever this one's units.
    let target_words =
        seq2seq_vocabulary(train_tokens.iter().flat_map(|p| &p.1), options.min_count);
    let subwords = match options.bpe_vocabulary {
        Some(size) => {
            let lines = train_tokens
                .iter()
                .flat_map(|(source, target)| [source.join(" "), target.join(" ")]);
            Some(Subwords::train(lines, size, options.min_count)?)
        }
        None => None,
    };
    let (train_units, dev_units, test_units) = (
        units(&train_tokens, subwords.as_ref())?,
        units(&dev_tokens, subwords.as_ref())?,
        units(&test_tokens, subwords.as_ref())?,
    );
    let vocabularies = PairVocabularies::build(
        train_units.iter().map(|(s, t)| (&s[..], &t[..])),
        options.min_count,
    );
    let encode = |pairs: &[TokenPair]| -> Result<Vec<PairExample>> {
        pairs
            .iter()
            .map(|(source, target)| Ok(vocabularies.encode_pair(source, target)?))
            .collect()
    };
    let (train_set, dev_set, test_set) = (
        encode(&train_units)?,
        encode(&dev_units)?,
        encode(&test_units)?,
    );
    let batcher = vocabularies.batcher(options.bucket_pool);
    save_seq2seq(
        &context.out_dir,
        &SavedSeq2Seq {
            model: &options.model,
            segmenter,
            subwords: subwords.as_ref(),
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
    let target_vocab = vocabularies.target();
    metrics.insert(
        "source_vocabulary".into(),
        json!(vocabularies.source().len()),
    );
    metrics.insert("target_vocabulary".into(), json!(target_vocab.len()));
    let reference = |pair: &SentencePair| {
        if options.lowercase {
            pair.target.to_lowercase()
        } else {
            pair.target.clone()
        }
    };
    let beam = options.decode.beam;
    for (split, set, pairs, tokens) in [
        ("dev", &dev_set, &dev_pairs, &dev_tokens),
        ("test", &test_set, &test_pairs, &test_tokens),
    ] {
        if set.is_empty() {
            // No test files: the run reports dev scores only.
            continue;
        }
        metrics.insert(
            format!("{split}_perplexity"),
            json!(perplexity(context, &model, &batcher, set)?),
        );
        let references: Vec<String> = pairs.iter().map(reference).collect();
        let sources: Vec<Vec<u32>> = set.iter().map(|p| p.source.clone()).collect();
        let source_lengths: Vec<usize> = tokens.iter().map(|(s, _)| s.len()).collect();
        for (name, width) in [("", None), ("_beam", Some(beam))] {
            let settings = match width {
                None => options.decode.greedy(),
                Some(k) => options.decode.with_beam(k),
            };
            let outputs = decode(context, &model, &vocabularies, &sources, &settings)?;
            let hypotheses = texts(&vocabularies, &outputs, subwords.is_some())?;
            let suffix = match width {
                Some(k) => format!("{name}{k}"),
                None => String::new(),
            };
            let bleu = corpus_bleu(&hypotheses, &references)?;
            metrics.insert(format!("{split}_bleu{suffix}"), json!(bleu.score));
            metrics.insert(
                format!("{split}_chrf{suffix}"),
                json!(corpus_chrf(&hypotheses, &references)?.score),
            );
            metrics.insert(
                format!("{split}_length_ratio{suffix}"),
                json!(bleu.hypothesis_length as f64 / bleu.reference_length as f64),
            );
            let mut low = 0;
            for (bucket, high) in LENGTH_BUCKETS {
                let pick: Vec<usize> = (0..sources.len())
                    .filter(|&i| source_lengths[i] > low && source_lengths[i] <= high)
                    .collect();
                low = high;
                if pick.is_empty() {
                    continue;
                }
                let hyps: Vec<&String> = pick.iter().map(|&i| &hypotheses[i]).collect();
                let refs: Vec<&String> = pick.iter().map(|&i| &references[i]).collect();
                metrics.insert(
                    format!("{split}_bleu{suffix}_source_{bucket}"),
                    json!(corpus_bleu(&hyps, &refs)?.score),
                );
                metrics.insert(format!("{split}_pairs_source_{bucket}"), json!(pick.len()));
            }
            if split == "test" && width.is_none() {
                // One sentence of 8 to 16 words, to draw where the decoder looked.
                let example = (0..sources.len()).find(|&i| (8..=16).contains(&source_lengths[i]));
                if let Some(i) = example
                    && let Some(map) = attention_json(&tokens[i].0, &outputs[i], target_vocab)?
                {
                    metrics.insert("test_attention".into(), map);
                }
            }
            if split == "test" {
                let file = match width {
                    Some(k) => format!("test.beam{k}.txt"),
                    None => "test.greedy.txt".to_string(),
                };
                write_lines(context, &file, &hypotheses)?;
            }
        }
    }
    let unknown_share = |vocab: &Vocab, sentences: &[TokenPair]| {
        let (unknown, total) = sentences
            .iter()
            .flat_map(|(_, target)| target)
            .fold((0usize, 0usize), |(unknown, total), token| {
                (unknown + usize::from(vocab.id(token).is_none()), total + 1)
            });
        unknown as f64 / total.max(1) as f64
    };
    if !test_tokens.is_empty() {
        metrics.insert(
            "test_reference_unknown_share".into(),
            json!(unknown_share(&target_words, &test_tokens)),
        );
    }
    if let Some(subwords) = &subwords {
        metrics.insert("bpe_pieces".into(), json!(subwords.vocabulary_size()));
        if !test_units.is_empty() {
            metrics.insert(
                "test_reference_unknown_pieces_share".into(),
                json!(unknown_share(target_vocab, &test_units)),
            );
        }
    }
    Ok(metrics)
}

/// The model's units of `pairs`: the words themselves, or their subwords.
fn units<'a>(pairs: &'a [TokenPair], subwords: Option<&Subwords>) -> Result<Cow<'a, [TokenPair]>> {
    let Some(subwords) = subwords else {
        return Ok(Cow::Borrowed(pairs));
    };
    pairs
        .iter()
        .map(|(source, target)| Ok((subwords.split(source)?, subwords.split(target)?)))
        .collect::<Result<Vec<_>>>()
        .map(Cow::Owned)
}

/// Outputs as text, tokens joined by spaces (subwords first joined into words).
fn texts(
    vocabularies: &PairVocabularies,
    outputs: &[Hypothesis],
    subwords: bool,
) -> Result<Vec<String>> {
    outputs
        .iter()
        .map(|h| Ok(target_text(vocabularies, &h.tokens, subwords)?))
        .collect()
}
