//! Sentence-classification files: one example per line with its label.
//!
//! - [`read_label_first`]: `LABEL text` (SST's `stsa.*` files).
//! - [`read_trec`]: `COARSE:fine text` (TREC), keeping the coarse or the fine label.
//! - [`read_fasttext`]: `__label__x [__label__y …] text` (fastText's supervised format).
//! - [`read_one_class_files`]: one file per class (MR's `rt-polarity.pos` / `.neg`).
//!
//! Blank lines are skipped (they carry no example); a line with a label but no text, or text
//! but no label, is an error naming file and line.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::source::{Encoding, Lines};
use crate::{Error, Result};

/// One labelled line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledText {
    /// The label as written in the file.
    pub label: String,
    /// The text after the label, trimmed.
    pub text: String,
    /// 1-based line number in its file.
    pub line: usize,
}

/// Which of TREC's two label levels to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrecLabels {
    /// The 6 coarse classes (`DESC`, `ENTY`, `ABBR`, `HUM`, `LOC`, `NUM`).
    #[default]
    Coarse,
    /// The 50 fine classes, written `COARSE:fine` so that they stay unique.
    Fine,
}

/// Reads `LABEL text` lines.
///
/// # Errors
/// [`Error::Malformed`] for a line without text after its label; file and encoding errors as
/// [`Lines`] reports them; [`Error::Empty`] when the file holds no example.
pub fn read_label_first(path: &Path, encoding: Encoding) -> Result<Vec<LabelledText>> {
    read_examples(path, encoding, |text, line| {
        let (label, rest) = split_first_word(text);
        if rest.is_empty() {
            return Err(Error::malformed(
                path,
                line,
                format!("expected `LABEL text`, found only `{label}`"),
            ));
        }
        Ok(vec![LabelledText {
            label: label.to_string(),
            text: rest.to_string(),
            line,
        }])
    })
}

/// Reads TREC's `COARSE:fine question` lines.
///
/// # Errors
/// As [`read_label_first`], plus [`Error::Malformed`] when the label has no `:`.
pub fn read_trec(path: &Path, encoding: Encoding, labels: TrecLabels) -> Result<Vec<LabelledText>> {
    read_examples(path, encoding, |text, line| {
        let (label, rest) = split_first_word(text);
        let Some((coarse, fine)) = label.split_once(':') else {
            return Err(Error::malformed(
                path,
                line,
                format!("expected a `COARSE:fine` label, found `{label}`"),
            ));
        };
        if coarse.is_empty() || fine.is_empty() || rest.is_empty() {
            return Err(Error::malformed(
                path,
                line,
                format!("expected `COARSE:fine question`, found `{text}`"),
            ));
        }
        let label = match labels {
            TrecLabels::Coarse => coarse,
            TrecLabels::Fine => label,
        };
        Ok(vec![LabelledText {
            label: label.to_string(),
            text: rest.to_string(),
            line,
        }])
    })
}

/// A line of fastText's supervised format: all leading `__label__` words are labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiLabelledText {
    /// The labels without their prefix, in file order (at least one).
    pub labels: Vec<String>,
    /// The text after the labels.
    pub text: String,
    /// 1-based line number.
    pub line: usize,
}

/// Reads fastText's `__label__x text` lines (several leading labels allowed).
///
/// # Errors
/// [`Error::Malformed`] for a line with no label, an empty label or no text.
pub fn read_fasttext(path: &Path, encoding: Encoding) -> Result<Vec<MultiLabelledText>> {
    const PREFIX: &str = "__label__";
    read_examples(path, encoding, |text, line| {
        let mut labels = Vec::new();
        let mut rest = text;
        loop {
            let (word, after) = split_first_word(rest);
            let Some(label) = word.strip_prefix(PREFIX) else {
                break;
            };
            if label.is_empty() {
                return Err(Error::malformed(path, line, "empty `__label__`"));
            }
            labels.push(label.to_string());
            rest = after;
        }
        if labels.is_empty() {
            return Err(Error::malformed(
                path,
                line,
                format!("expected `__label__X text`, found `{}`", truncate(text)),
            ));
        }
        if rest.is_empty() {
            return Err(Error::malformed(path, line, "labels but no text"));
        }
        Ok(vec![MultiLabelledText {
            labels,
            text: rest.to_string(),
            line,
        }])
    })
}

/// Reads files that each hold one class, one example per line: `(path, label)` pairs, read in
/// the order given.
///
/// # Errors
/// File and encoding errors as [`Lines`] reports them; [`Error::Empty`] for a file with no
/// examples.
pub fn read_one_class_files(
    files: &[(&Path, &str)],
    encoding: Encoding,
) -> Result<Vec<(LabelledText, usize)>> {
    let mut all = Vec::new();
    for (file_index, (path, label)) in files.iter().enumerate() {
        let examples = read_examples(path, encoding, |text, line| {
            Ok(vec![LabelledText {
                label: label.to_string(),
                text: text.to_string(),
                line,
            }])
        })?;
        all.extend(examples.into_iter().map(|e| (e, file_index)));
    }
    Ok(all)
}

fn read_examples<T>(
    path: &Path,
    encoding: Encoding,
    mut parse: impl FnMut(&str, usize) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let mut lines = Lines::open(path, encoding)?;
    let mut examples = Vec::new();
    let mut text = String::new();
    while let Some(line) = lines.read_line(&mut text)? {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            continue;
        }
        examples.extend(parse(trimmed, line)?);
    }
    if examples.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
            what: "labelled text file",
        });
    }
    Ok(examples)
}

fn split_first_word(text: &str) -> (&str, &str) {
    match text.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim_start()),
        None => (text, ""),
    }
}

fn truncate(text: &str) -> String {
    let mut short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scratch_file;

    #[test]
    fn label_first_reads_sst_lines_and_skips_blank_ones() {
        let path = scratch_file("sst", b"1 a stirring , funny film\n\n0   dull .\n");
        let examples = read_label_first(&path, Encoding::Utf8).unwrap();
        assert_eq!(examples.len(), 2);
        assert_eq!(
            (
                examples[1].label.as_str(),
                examples[1].text.as_str(),
                examples[1].line
            ),
            ("0", "dull .", 3)
        );
    }

    #[test]
    fn label_first_rejects_missing_text_and_empty_files() {
        let err = read_label_first(&scratch_file("sst", b"1 ok\n3\n"), Encoding::Utf8).unwrap_err();
        assert!(
            err.to_string().contains("sst:2: expected `LABEL text`"),
            "{err}"
        );
        let err = read_label_first(&scratch_file("sst", b"\n \n"), Encoding::Utf8).unwrap_err();
        assert!(matches!(err, Error::Empty { .. }), "{err}");
    }

    #[test]
    fn trec_keeps_coarse_or_fine() {
        let path = scratch_file(
            "trec",
            b"DESC:manner How did serfdom develop ?\nLOC:city Which city\xa0? \n",
        );
        let coarse = read_trec(&path, Encoding::Latin1, TrecLabels::Coarse).unwrap();
        assert_eq!(coarse[0].label, "DESC");
        assert_eq!(coarse[1].text, "Which city\u{a0}?");
        let fine = read_trec(&path, Encoding::Latin1, TrecLabels::Fine).unwrap();
        assert_eq!(fine[1].label, "LOC:city");
        let err = read_trec(&path, Encoding::Utf8, TrecLabels::Coarse).unwrap_err();
        assert!(err.to_string().contains("trec:2: invalid UTF-8"), "{err}");
        let err = read_trec(
            &scratch_file("trec", b"DESC How ?\n"),
            Encoding::Utf8,
            TrecLabels::Coarse,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("trec:1: expected a `COARSE:fine` label"),
            "{err}"
        );
    }

    #[test]
    fn fasttext_reads_several_labels() {
        let path = scratch_file("ft", b"__label__a __label__b some text\n__label__c x\n");
        let examples = read_fasttext(&path, Encoding::Utf8).unwrap();
        assert_eq!(examples[0].labels, ["a", "b"]);
        assert_eq!(examples[0].text, "some text");
        for (bad, expected) in [
            (&b"no label here\n"[..], "ft:1: expected `__label__X text`"),
            (b"__label__ text\n", "ft:1: empty `__label__`"),
            (b"__label__a\n", "ft:1: labels but no text"),
        ] {
            let err = read_fasttext(&scratch_file("ft", bad), Encoding::Utf8).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    #[test]
    fn one_class_files_label_each_line() {
        let pos = scratch_file("rt.pos", b"good \x85 film\n");
        let neg = scratch_file("rt.neg", b"bad\nworse\n");
        let examples =
            read_one_class_files(&[(&pos, "pos"), (&neg, "neg")], Encoding::Latin1).unwrap();
        assert_eq!(examples.len(), 3);
        assert_eq!(examples[0].0.text, "good \u{85} film");
        assert_eq!((examples[2].0.label.as_str(), examples[2].1), ("neg", 1));
    }
}
