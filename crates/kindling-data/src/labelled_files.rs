//! A sentence-classification dataset from the user's own files: a training file, and optionally
//! dev and test files, in one of the common one-example-per-line layouts.
//!
//! The classes are the labels of the training file (sorted); a dev or test line with a label
//! the training file never uses is an error naming its file and line, as is every malformed
//! line. What the caller does without a dev or test file (a seeded slice of train, k-fold
//! cross-validation) is up to it: [`LabelledFiles::load`] leaves those splits `None`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::labels::LabelSet;
use crate::read::labelled::{LabelledText, read_fasttext, read_label_first, read_one_class_files};
use crate::read::table::{Delimiter, read_table};
use crate::registry::{ClassificationData, TextExample, to_examples};
use crate::source::Encoding;
use crate::{Error, Result};

/// How the examples are laid out in the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelledFormat {
    /// fastText's supervised format, `__label__X text`; one label per line.
    Fasttext,
    /// `LABEL text`: the first word is the label (SST's `stsa.*` files).
    LabelFirst,
    /// Tab-separated with a header row naming a `label` column and a `text` or `sentence`
    /// column (other columns are ignored), as GLUE's SST-2 files are.
    Tsv,
    /// A directory per split holding one file per class, one example per line; the file's
    /// name is the label (MR's `rt-polarity.pos` / `.neg`).
    OneFilePerClass,
}

impl LabelledFormat {
    /// The name used in experiment files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fasttext => "fasttext",
            Self::LabelFirst => "label-first",
            Self::Tsv => "tsv",
            Self::OneFilePerClass => "one-file-per-class",
        }
    }
}

impl std::str::FromStr for LabelledFormat {
    type Err = String;
    fn from_str(name: &str) -> std::result::Result<Self, String> {
        [
            Self::Fasttext,
            Self::LabelFirst,
            Self::Tsv,
            Self::OneFilePerClass,
        ]
        .into_iter()
        .find(|f| f.name() == name)
        .ok_or_else(|| {
            format!(
                "unknown format `{name}` (expected fasttext, label-first, tsv or one-file-per-class)"
            )
        })
    }
}

/// The files of a classification dataset (`dataset = { format, train, dev, test }` in an
/// experiment file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledFiles {
    /// How the files are laid out.
    pub format: LabelledFormat,
    /// The training examples (a directory for [`LabelledFormat::OneFilePerClass`]).
    pub train: PathBuf,
    /// Dev examples, if the user has a dev set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<PathBuf>,
    /// Test examples, if the user has a test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<PathBuf>,
    /// The files' text encoding (default UTF-8).
    #[serde(default)]
    pub encoding: Encoding,
}

impl LabelledFiles {
    /// Reads the files: the label set from the training file, every split's examples.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming file and line for a malformed line, a fastText line with
    /// several labels, or a dev/test label the training file does not have; [`Error::Empty`]
    /// for a file without examples; file and encoding errors naming the file.
    pub fn load(&self) -> Result<ClassificationData> {
        let train = self.read(&self.train)?;
        let labels = LabelSet::from_observed(train.iter().map(|e| e.label.as_str()))?;
        let examples = |lines: Vec<LabelledText>, path: &Path| to_examples(lines, &labels, path);
        let optional = |path: &Option<PathBuf>| -> Result<Option<Vec<TextExample>>> {
            path.as_deref()
                .map(|path| examples(self.read(path)?, path))
                .transpose()
        };
        let dev = optional(&self.dev)?;
        let test = optional(&self.test)?;
        let train = examples(train, &self.train)?;
        Ok(ClassificationData {
            labels,
            train,
            dev,
            test,
        })
    }

    /// The labelled lines of one split.
    fn read(&self, path: &Path) -> Result<Vec<LabelledText>> {
        match self.format {
            LabelledFormat::Fasttext => read_fasttext(path, self.encoding)?
                .into_iter()
                .map(|mut e| {
                    if e.labels.len() > 1 {
                        return Err(Error::malformed(
                            path,
                            e.line,
                            format!(
                                "{} labels ({}); a classifier needs one per line",
                                e.labels.len(),
                                e.labels.join(", ")
                            ),
                        ));
                    }
                    Ok(LabelledText {
                        label: e.labels.remove(0),
                        text: e.text,
                        line: e.line,
                    })
                })
                .collect(),
            LabelledFormat::LabelFirst => read_label_first(path, self.encoding),
            LabelledFormat::Tsv => read_tsv(path, self.encoding),
            LabelledFormat::OneFilePerClass => read_class_directory(path, self.encoding),
        }
    }
}

/// A TSV file's `label` and `text` (or `sentence`) columns.
fn read_tsv(path: &Path, encoding: Encoding) -> Result<Vec<LabelledText>> {
    let table = read_table(path, Delimiter::Tab, encoding)?;
    let in_file = |e: Error| match e {
        Error::Invalid { problem, .. } => Error::malformed(path, 1, problem),
        other => other,
    };
    let label = table.column_index("label").map_err(in_file)?;
    let text = match table.column_index("text") {
        Ok(index) => index,
        Err(_) => table.column_index("sentence").map_err(|_| {
            Error::malformed(
                path,
                1,
                format!(
                    "no `text` or `sentence` column (columns: {})",
                    table.columns.join(", ")
                ),
            )
        })?,
    };
    let mut examples = Vec::with_capacity(table.rows.len());
    for (row, &line) in table.rows.iter().zip(&table.lines) {
        let (label, text) = (row[label].trim(), row[text].trim());
        if label.is_empty() || text.is_empty() {
            return Err(Error::malformed(
                path,
                line,
                if label.is_empty() {
                    "empty label"
                } else {
                    "empty text"
                },
            ));
        }
        examples.push(LabelledText {
            label: label.to_string(),
            text: text.to_string(),
            line,
        });
    }
    if examples.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
            what: "labelled TSV file (a header but no rows)",
        });
    }
    Ok(examples)
}

/// One file per class in `dir`, named by its label, read in name order.
fn read_class_directory(dir: &Path, encoding: Encoding) -> Result<Vec<LabelledText>> {
    let listing = |source| Error::Io {
        action: "listing",
        path: dir.to_path_buf(),
        source,
    };
    let entries = std::fs::read_dir(dir).map_err(listing)?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(listing)?;
        let path = entry.path();
        if path.is_file() {
            let label = entry.file_name().to_string_lossy().into_owned();
            if !label.starts_with('.') {
                files.push((path, label));
            }
        }
    }
    files.sort();
    if files.len() < 2 {
        return Err(Error::Empty {
            path: dir.to_path_buf(),
            what: "directory of class files (one file per class, at least two)",
        });
    }
    let pairs: Vec<(&Path, &str)> = files
        .iter()
        .map(|(path, label)| (path.as_path(), label.as_str()))
        .collect();
    Ok(read_one_class_files(&pairs, encoding)?
        .into_iter()
        .map(|(example, _)| example)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scratch_dir;

    fn files(format: LabelledFormat, train: &Path) -> LabelledFiles {
        LabelledFiles {
            format,
            train: train.to_path_buf(),
            dev: None,
            test: None,
            encoding: Encoding::Utf8,
        }
    }

    #[test]
    fn reads_each_format_with_labels_from_train() {
        let dir = scratch_dir(&[
            (
                "ft.train",
                b"__label__pos good film\n\n__label__neg bad film\n",
            ),
            ("ft.test", b"__label__neg awful\n"),
            ("lf.train", b"1 good\n0 bad\n"),
            ("t.tsv", b"sentence\tlabel\ngood film\t1\nbad\t0\n"),
            ("classes/pos", b"good\nfine\n"),
            ("classes/neg", b"bad\n"),
        ]);
        let ft = LabelledFiles {
            test: Some(dir.join("ft.test")),
            ..files(LabelledFormat::Fasttext, &dir.join("ft.train"))
        }
        .load()
        .unwrap();
        assert_eq!(ft.labels.names(), ["neg", "pos"]);
        assert_eq!(
            ft.train[0],
            TextExample {
                text: "good film".into(),
                label: 1
            }
        );
        assert_eq!(ft.test.unwrap()[0].label, 0);
        assert!(ft.dev.is_none());

        let lf = files(LabelledFormat::LabelFirst, &dir.join("lf.train"))
            .load()
            .unwrap();
        assert_eq!(
            (lf.labels.names(), lf.train[1].label),
            (&["0".to_string(), "1".into()][..], 0)
        );

        let tsv = files(LabelledFormat::Tsv, &dir.join("t.tsv"))
            .load()
            .unwrap();
        assert_eq!(tsv.train[0].text, "good film");
        assert_eq!(tsv.train[0].label, 1);

        let classes = files(LabelledFormat::OneFilePerClass, &dir.join("classes"))
            .load()
            .unwrap();
        assert_eq!(classes.labels.names(), ["neg", "pos"]);
        let labels: Vec<u32> = classes.train.iter().map(|e| e.label).collect();
        assert_eq!(labels, [0, 1, 1]);
    }

    #[test]
    fn bad_lines_name_file_line_and_problem() {
        let dir = scratch_dir(&[
            ("train", b"__label__a x\n__label__b y\n"),
            ("dev", b"__label__a x\n__label__c z\n"),
            ("multi", b"__label__a __label__b x\n"),
            ("no-text.tsv", b"label\ttext\na\t\n"),
            ("no-column.tsv", b"label\tbody\na\tx\n"),
        ]);
        let err = LabelledFiles {
            dev: Some(dir.join("dev")),
            ..files(LabelledFormat::Fasttext, &dir.join("train"))
        }
        .load()
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("dev:2: unknown label `c` (known: a, b)"),
            "{err}"
        );
        let err = files(LabelledFormat::Fasttext, &dir.join("multi"))
            .load()
            .unwrap_err()
            .to_string();
        assert!(err.contains("multi:1: 2 labels (a, b)"), "{err}");
        let err = files(LabelledFormat::Tsv, &dir.join("no-text.tsv"))
            .load()
            .unwrap_err()
            .to_string();
        assert!(err.contains("no-text.tsv:2: empty text"), "{err}");
        let err = files(LabelledFormat::Tsv, &dir.join("no-column.tsv"))
            .load()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no `text` or `sentence` column (columns: label, body)"),
            "{err}"
        );
        let err = files(LabelledFormat::LabelFirst, &dir.join("absent"))
            .load()
            .unwrap_err()
            .to_string();
        assert!(err.contains("absent"), "{err}");
    }

    #[test]
    fn formats_parse_from_their_names() {
        for format in ["fasttext", "label-first", "tsv", "one-file-per-class"] {
            assert_eq!(format.parse::<LabelledFormat>().unwrap().name(), format);
        }
        assert!(
            "csv"
                .parse::<LabelledFormat>()
                .unwrap_err()
                .contains("unknown format `csv`")
        );
        let parsed: LabelledFiles =
            serde_json::from_str(r#"{"format": "tsv", "train": "a.tsv", "test": "b.tsv"}"#)
                .unwrap();
        assert_eq!(parsed.test.as_deref(), Some(Path::new("b.tsv")));
        let misspelt = r#"{"format": "tsv", "train": "a", "tset": "b"}"#;
        assert!(serde_json::from_str::<LabelledFiles>(misspelt).is_err());
    }
}
