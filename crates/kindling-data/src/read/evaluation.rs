//! Word-vector evaluation sets: analogy questions (`: section` headers, then `a b c d` lines,
//! as in Mikolov's `questions-words.txt`) and scored word pairs (WordSim-353 and its kin:
//! `w1 w2 score`, `#` comments).

use std::path::Path;

use crate::source::{Encoding, Lines};
use crate::{Error, Result};

/// A named group of analogy questions `a : b :: c : d`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalogySection {
    /// The header without its `: ` (e.g. `capital-common-countries`).
    pub name: String,
    /// The questions, words as written.
    pub questions: Vec<[String; 4]>,
}

/// Reads an analogy file.
///
/// # Errors
/// [`Error::Malformed`] for a question before any section header, a question without exactly
/// four words or a header without a name; [`Error::Empty`] when there are no questions.
pub fn read_analogies(path: &Path) -> Result<Vec<AnalogySection>> {
    let mut lines = Lines::open(path, Encoding::Utf8)?;
    let mut text = String::new();
    let mut sections: Vec<AnalogySection> = Vec::new();
    while let Some(line) = lines.read_line(&mut text)? {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix(':') {
            let name = name.trim();
            if name.is_empty() {
                return Err(Error::malformed(
                    path,
                    line,
                    "section header without a name",
                ));
            }
            sections.push(AnalogySection {
                name: name.to_string(),
                questions: Vec::new(),
            });
            continue;
        }
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        let Ok(words) = <[&str; 4]>::try_from(words.as_slice()) else {
            return Err(Error::malformed(
                path,
                line,
                format!("expected four words, found `{trimmed}`"),
            ));
        };
        let Some(section) = sections.last_mut() else {
            return Err(Error::malformed(
                path,
                line,
                "question before the first `: section` header",
            ));
        };
        section.questions.push(words.map(str::to_string));
    }
    if sections.iter().all(|s| s.questions.is_empty()) {
        return Err(Error::Empty {
            path: path.to_path_buf(),
            what: "analogy file",
        });
    }
    Ok(sections)
}

/// A scored word pair.
#[derive(Debug, Clone, PartialEq)]
pub struct WordPair {
    /// First word.
    pub first: String,
    /// Second word.
    pub second: String,
    /// Human similarity score.
    pub score: f64,
    /// 1-based line number.
    pub line: usize,
}

/// Reads `w1 w2 score` lines (tab- or space-separated; `#` starts a comment line).
///
/// # Errors
/// [`Error::Malformed`] for a line without three fields or with a score that is not a finite
/// number; [`Error::Empty`] when there are no pairs.
pub fn read_word_pairs(path: &Path) -> Result<Vec<WordPair>> {
    let mut lines = Lines::open(path, Encoding::Utf8)?;
    let mut text = String::new();
    let mut pairs = Vec::new();
    while let Some(line) = lines.read_line(&mut text)? {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        let [first, second, score] = fields.as_slice() else {
            return Err(Error::malformed(
                path,
                line,
                format!("expected `word word score`, found `{trimmed}`"),
            ));
        };
        let score = score
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite())
            .ok_or_else(|| {
                Error::malformed(path, line, format!("score `{score}` is not a number"))
            })?;
        pairs.push(WordPair {
            first: first.to_string(),
            second: second.to_string(),
            score,
            line,
        });
    }
    if pairs.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
            what: "word-pair file",
        });
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scratch_file;

    #[test]
    fn reads_analogy_sections() {
        let path = scratch_file(
            "q.txt",
            b": capitals\nAthens Greece Baghdad Iraq\n: gram1\na b c d\ne f g h\n",
        );
        let sections = read_analogies(&path).unwrap();
        assert_eq!(sections.len(), 2);
        assert_eq!(
            sections[1].questions[1],
            ["e", "f", "g", "h"].map(String::from)
        );
        for (bad, expected) in [
            (&b"a b c d\n"[..], "q:1: question before the first"),
            (b": s\na b c\n", "q:2: expected four words"),
            (b":\n", "q:1: section header without a name"),
            (b": s\n", "is empty"),
        ] {
            let err = read_analogies(&scratch_file("q", bad))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{err} / {expected}");
        }
    }

    #[test]
    fn reads_scored_pairs() {
        let path = scratch_file("ws.tsv", b"# header\nlove\tsex\t6.77\ntiger cat 7.35\n");
        let pairs = read_word_pairs(&path).unwrap();
        assert_eq!(
            pairs[1],
            WordPair {
                first: "tiger".into(),
                second: "cat".into(),
                score: 7.35,
                line: 3
            }
        );
        for (bad, expected) in [
            (&b"a b\n"[..], "ws:1: expected `word word score`"),
            (b"a b x\n", "ws:1: score `x`"),
            (b"a b NaN\n", "score `NaN`"),
        ] {
            let err = read_word_pairs(&scratch_file("ws", bad))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{err} / {expected}");
        }
    }
}
