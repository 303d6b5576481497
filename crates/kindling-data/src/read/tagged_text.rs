//! Sentences with a tag on every word, in the two layouts taggers are trained from:
//!
//! - **CoNLL-style columns**: one token per line, `word TAB tag` (or more columns: the first is
//!   the word, the last the tag), a blank line between sentences, `#` comment lines skipped
//!   (CoNLL-U's sentence headers);
//! - **`word/TAG` lines**: one sentence per line, tokens separated by spaces, each ending with
//!   `/TAG` (the last `/` splits, so `1/2/CD` is the word `1/2`).

use std::path::Path;

use crate::source::{Encoding, Lines};
use crate::{Error, Result};

/// How a tagged file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaggedLayout {
    /// One `word TAB … TAB tag` line per token, sentences separated by blank lines.
    Columns,
    /// One sentence per line of `word/TAG` tokens.
    Slashed,
}

/// One tagged sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedSentence {
    /// The words.
    pub words: Vec<String>,
    /// One tag per word.
    pub tags: Vec<String>,
    /// The 1-based line where the sentence starts.
    pub line: usize,
}

/// Writes `sentences` of `(word, tag)` pairs to `path` atomically in the columns layout that
/// [`read_tagged`] reads with [`TaggedLayout::Columns`]: `word TAB tag` lines, a blank line
/// after each sentence.
///
/// # Errors
/// A word or tag holding a tab or a line break (it would not read back), naming the sentence;
/// write failures.
pub fn write_columns(path: &Path, sentences: &[Vec<(String, String)>]) -> Result<()> {
    let mut text = String::new();
    for (i, sentence) in sentences.iter().enumerate() {
        for (word, tag) in sentence {
            if [word, tag].iter().any(|s| s.contains(['\t', '\n', '\r'])) {
                return Err(Error::invalid(
                    "tagged sentence",
                    format!(
                        "sentence {} holds a tab or line break in `{word}`/`{tag}`",
                        i + 1
                    ),
                ));
            }
            text.push_str(word);
            text.push('\t');
            text.push_str(tag);
            text.push('\n');
        }
        text.push('\n');
    }
    kindling_io::atomic::write_atomic(path, text.as_bytes())?;
    Ok(())
}

/// Reads every sentence of a (possibly gzipped) tagged file.
///
/// # Errors
/// [`Error::Malformed`] naming the file and line for a token without a tag (a columns line
/// with one column, a `word/TAG` token without `/`, an empty word or tag); [`Error::Empty`]
/// for a file without sentences; I/O and encoding errors naming the file.
pub fn read_tagged(
    path: &Path,
    layout: TaggedLayout,
    encoding: Encoding,
) -> Result<Vec<TaggedSentence>> {
    let mut sentences = Vec::new();
    let mut current: Option<TaggedSentence> = None;
    for line in Lines::open(path, encoding)? {
        let line = line?;
        let text = line.text.trim_end_matches('\r');
        match layout {
            TaggedLayout::Columns => {
                if text.trim().is_empty() {
                    sentences.extend(current.take());
                    continue;
                }
                if text.starts_with('#') {
                    continue;
                }
                let columns: Vec<&str> = text.split('\t').map(str::trim).collect();
                let (word, tag) = match columns.as_slice() {
                    [word, .., tag] if !word.is_empty() && !tag.is_empty() => (*word, *tag),
                    _ => {
                        return Err(Error::malformed(
                            path,
                            line.number,
                            format!(
                                "expected `word<TAB>tag` (a blank line between sentences), got `{}`",
                                excerpt(text)
                            ),
                        ));
                    }
                };
                let sentence = current.get_or_insert_with(|| TaggedSentence {
                    words: Vec::new(),
                    tags: Vec::new(),
                    line: line.number,
                });
                sentence.words.push(word.to_string());
                sentence.tags.push(tag.to_string());
            }
            TaggedLayout::Slashed => {
                if text.trim().is_empty() {
                    continue;
                }
                let mut sentence = TaggedSentence {
                    words: Vec::new(),
                    tags: Vec::new(),
                    line: line.number,
                };
                for token in text.split_whitespace() {
                    match token.rsplit_once('/') {
                        Some((word, tag)) if !word.is_empty() && !tag.is_empty() => {
                            sentence.words.push(word.to_string());
                            sentence.tags.push(tag.to_string());
                        }
                        _ => {
                            return Err(Error::malformed(
                                path,
                                line.number,
                                format!("token `{}` is not `word/TAG`", excerpt(token)),
                            ));
                        }
                    }
                }
                sentences.push(sentence);
            }
        }
    }
    sentences.extend(current);
    if sentences.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
            what: "tagged sentences",
        });
    }
    Ok(sentences)
}

/// At most 60 characters of `text`, for error messages.
fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(60).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kindling-tagged-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn columns_with_comments_extra_columns_and_crlf() {
        let path = file(
            "a.conll",
            "# sent 1\nThe\tDET\r\ndog\tx\tNOUN\n\n\nruns\tVERB\n",
        );
        let sentences = read_tagged(&path, TaggedLayout::Columns, Encoding::Utf8).unwrap();
        assert_eq!(sentences.len(), 2);
        assert_eq!(sentences[0].words, ["The", "dog"]);
        assert_eq!(sentences[0].tags, ["DET", "NOUN"]);
        assert_eq!(sentences[0].line, 2);
        assert_eq!(sentences[1].words, ["runs"]);
        assert_eq!(sentences[1].line, 6);
    }

    #[test]
    fn slashed_lines_split_at_the_last_slash() {
        let path = file("b.txt", "The/DT 1/2/CD cats/NNS\n\nrun/VB\n");
        let sentences = read_tagged(&path, TaggedLayout::Slashed, Encoding::Utf8).unwrap();
        assert_eq!(sentences[0].words, ["The", "1/2", "cats"]);
        assert_eq!(sentences[0].tags, ["DT", "CD", "NNS"]);
        assert_eq!(sentences[1].line, 3);
    }

    #[test]
    fn untagged_tokens_and_empty_files_are_errors_naming_the_line() {
        let path = file("c.conll", "The\tDET\ndog\n");
        let err = read_tagged(&path, TaggedLayout::Columns, Encoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.conll") && err.contains(":2"), "{err}");
        let path = file("d.txt", "The/DT dog\n");
        let err = read_tagged(&path, TaggedLayout::Slashed, Encoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`dog` is not `word/TAG`"), "{err}");
        let path = file("e.txt", "\n\n");
        assert!(read_tagged(&path, TaggedLayout::Slashed, Encoding::Utf8).is_err());
    }
}
