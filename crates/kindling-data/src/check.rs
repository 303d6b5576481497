//! Verifying the datasets present in a data directory against their published sizes.

use std::fmt::Write as _;

use crate::read::cmudict::CmudictOptions;
use crate::read::labelled::TrecLabels;
use crate::registry::{ClassificationData, DataDir, DatasetName};
use crate::source::{Encoding, Lines};
use crate::tokenize::Words;
use crate::{Error, Result};

/// Outcome of checking one dataset.
#[derive(Debug)]
pub enum CheckStatus {
    /// Not in the data directory (not a failure: not every directory holds everything).
    Missing(Error),
    /// Present and as published; the text says what was counted.
    Verified(String),
    /// Present but unreadable or not as published.
    Failed(Error),
}

/// Checks every dataset, in [`DatasetName::ALL`] order.
pub fn check_all(data: &DataDir) -> Vec<(DatasetName, CheckStatus)> {
    DatasetName::ALL
        .into_iter()
        .map(|d| (d, check(data, d)))
        .collect()
}

/// Reads `dataset` whole and compares its counts with the published ones.
pub fn check(data: &DataDir, dataset: DatasetName) -> CheckStatus {
    if let Some(missing) = dataset
        .files()
        .iter()
        .find_map(|f| data.file(dataset, f).err())
    {
        return CheckStatus::Missing(missing);
    }
    match verify(data, dataset) {
        Ok(summary) => CheckStatus::Verified(summary),
        Err(e) => CheckStatus::Failed(e),
    }
}

fn verify(data: &DataDir, dataset: DatasetName) -> Result<String> {
    let expect = |what: &str, found: usize, expected: usize| -> Result<()> {
        if found == expected {
            Ok(())
        } else {
            Err(Error::Check {
                dataset: dataset.to_string(),
                problem: format!("{what}: found {found}, expected {expected}"),
            })
        }
    };
    let split_sizes = |d: &ClassificationData| {
        [Some(&d.train), d.dev.as_ref(), d.test.as_ref()].map(|s| s.map_or(0, Vec::len))
    };
    Ok(match dataset {
        DatasetName::Mr => {
            let mr = data.mr()?;
            let positive = mr.train.iter().filter(|e| e.label == 1).count();
            expect("positive sentences", positive, 5331)?;
            expect("negative sentences", mr.train.len() - positive, 5331)?;
            "5331 pos + 5331 neg (Latin-1)".into()
        }
        DatasetName::Sst1 | DatasetName::Sst2 => {
            let fine = dataset == DatasetName::Sst1;
            let sst = data.sst(fine)?;
            let expected = if fine {
                [8544, 1101, 2210]
            } else {
                [6920, 872, 1821]
            };
            for ((name, found), expected) in ["train", "dev", "test"]
                .iter()
                .zip(split_sizes(&sst))
                .zip(expected)
            {
                expect(name, found, expected)?;
            }
            format!(
                "{} / {} / {}, {} labels",
                expected[0],
                expected[1],
                expected[2],
                sst.labels.len()
            )
        }
        DatasetName::Trec => {
            let coarse = data.trec(TrecLabels::Coarse)?;
            let fine = data.trec(TrecLabels::Fine)?;
            let [train, _, test] = split_sizes(&coarse);
            expect("train", train, 5452)?;
            expect("test", test, 500)?;
            let used = |d: &ClassificationData| {
                let mut ids: Vec<u32> = d.train.iter().map(|e| e.label).collect();
                ids.sort_unstable();
                ids.dedup();
                ids.len()
            };
            expect("coarse labels", used(&coarse), 6)?;
            expect("fine labels", fine.labels.len(), 50)?;
            "5452 / 500, 6 coarse / 50 fine labels (Latin-1)".into()
        }
        DatasetName::Multi30kDeEn => {
            let m = data.multi30k()?;
            expect("train pairs", m.train.len(), 29000)?;
            expect("val pairs", m.dev.len(), 1014)?;
            expect("test pairs", m.test.len(), 1000)?;
            "29000 / 1014 / 1000 aligned pairs".into()
        }
        DatasetName::Cmudict => {
            let entries = data.cmudict(CmudictOptions::default())?;
            let words = entries.iter().filter(|e| e.variant == 1).count();
            expect("entries", entries.len(), 135_166)?;
            expect("words", words, 126_052)?;
            "135166 pronunciations of 126052 words".into()
        }
        DatasetName::Brown => {
            let docs = data.brown()?;
            let mut genres: Vec<&str> = docs.iter().map(|d| d.genre.as_str()).collect();
            genres.sort_unstable();
            genres.dedup();
            let tokens: usize = docs.iter().map(|d| d.words().count()).sum();
            expect("documents", docs.len(), 500)?;
            expect("genres", genres.len(), 15)?;
            expect("tokens", tokens, 1_161_192)?;
            "500 documents, 15 genres, 1161192 tokens".into()
        }
        DatasetName::CorpusEn => {
            let counts = data.corpus_en()?.count_tokens(&Words::corpus())?;
            expect("tokens", counts.total() as usize, CORPUS_EN_TOKENS)?;
            format!(
                "{} tokens, {} types (corpus tokenizer)",
                counts.total(),
                counts.distinct()
            )
        }
        DatasetName::Analogy => {
            let sections = data.analogy()?;
            let questions: usize = sections.iter().map(|s| s.questions.len()).sum();
            expect("sections", sections.len(), 14)?;
            expect("questions", questions, 19544)?;
            "19544 questions in 14 sections".into()
        }
        DatasetName::Wordsim353 => {
            expect("pairs", data.wordsim353()?.len(), 353)?;
            "353 pairs".into()
        }
        DatasetName::Glove6b50d => {
            let path = data.glove_6b_50d()?;
            let mut lines = Lines::open(&path, Encoding::Utf8)?;
            let mut text = String::new();
            let mut vectors = 0;
            while let Some(line) = lines.read_line(&mut text)? {
                let fields = text.split(' ').count();
                if fields != 51 {
                    return Err(Error::malformed(
                        &path,
                        line,
                        format!("{fields} fields, expected a word and 50 numbers"),
                    ));
                }
                vectors += 1;
            }
            expect("vectors", vectors, 100_000)?;
            "100000 vectors of 50 dimensions".into()
        }
    })
}

/// Tokens of corpus-en under [`Words::corpus`].
pub const CORPUS_EN_TOKENS: usize = 3_018_230;

/// Renders check results as a Markdown table.
pub fn render(results: &[(DatasetName, CheckStatus)]) -> String {
    let mut out = String::from("| dataset | status | contents |\n|---|---|---|\n");
    for (dataset, status) in results {
        let (state, detail) = match status {
            CheckStatus::Verified(summary) => ("ok", summary.clone()),
            CheckStatus::Missing(e) => ("missing", e.to_string()),
            CheckStatus::Failed(e) => ("FAILED", e.to_string()),
        };
        let _ = writeln!(out, "| {dataset} | {state} | {detail} |");
    }
    out
}
