//! Plain-text corpora streamed line by line, never loaded whole: each pass re-opens the
//! files, so a corpus of any size costs one line buffer.

use std::path::{Path, PathBuf};

use crate::read::brown::parse_token;
use crate::source::{Encoding, Lines};
use crate::tokenize::Tokenizer;
use crate::vocab::TokenCounts;
use crate::{Error, Result};

/// How one corpus file is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorpusFile {
    /// Plain text, gzip or not; each line is passed on as is.
    Text(PathBuf),
    /// A Brown-style `word/TAG` file; each line is passed on as its words joined by spaces.
    Tagged(PathBuf),
}

impl CorpusFile {
    /// The file's path.
    pub fn path(&self) -> &Path {
        match self {
            Self::Text(p) | Self::Tagged(p) => p,
        }
    }
}

/// An ordered list of files read as one stream of lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corpus {
    files: Vec<CorpusFile>,
    encoding: Encoding,
}

impl Corpus {
    /// A corpus of these files, read in order.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty list.
    pub fn new(files: Vec<CorpusFile>, encoding: Encoding) -> Result<Self> {
        if files.is_empty() {
            return Err(Error::invalid("corpus", "no files"));
        }
        Ok(Self { files, encoding })
    }

    /// The files, in reading order.
    pub fn files(&self) -> &[CorpusFile] {
        &self.files
    }

    /// Calls `visit` with every line of every file, in order (blank lines included).
    ///
    /// # Errors
    /// The first error from reading, or from `visit`.
    pub fn for_each_line(&self, mut visit: impl FnMut(&str) -> Result<()>) -> Result<()> {
        let mut text = String::new();
        let mut joined = String::new();
        for file in &self.files {
            let mut lines = Lines::open(file.path(), self.encoding)?;
            while let Some(line) = lines.read_line(&mut text)? {
                match file {
                    CorpusFile::Text(_) => visit(&text)?,
                    CorpusFile::Tagged(path) => {
                        joined.clear();
                        for token in text.split_whitespace() {
                            let tagged =
                                parse_token(token).map_err(|p| Error::malformed(path, line, p))?;
                            if !joined.is_empty() {
                                joined.push(' ');
                            }
                            joined.push_str(&tagged.word);
                        }
                        visit(&joined)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Counts the tokens of the whole corpus in one streamed pass.
    ///
    /// # Errors
    /// As [`Corpus::for_each_line`].
    pub fn count_tokens(&self, tokenizer: &dyn Tokenizer) -> Result<TokenCounts> {
        let mut counts = TokenCounts::new();
        self.for_each_line(|line| {
            counts.add_text(tokenizer, line);
            Ok(())
        })?;
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{gzip, scratch_file};
    use crate::tokenize::Words;

    #[test]
    fn streams_text_and_tagged_files_in_order() {
        let text = scratch_file("c.txt.gz", &gzip(b"Call me Ishmael.\n\nSome years ago\n"));
        let tagged = scratch_file("ca01", b"\tThe/at Jury/nn ./.\n");
        let corpus = Corpus::new(
            vec![CorpusFile::Text(text), CorpusFile::Tagged(tagged)],
            Encoding::Utf8,
        )
        .unwrap();
        let mut lines = Vec::new();
        corpus
            .for_each_line(|l| {
                lines.push(l.to_string());
                Ok(())
            })
            .unwrap();
        assert_eq!(
            lines,
            ["Call me Ishmael.", "", "Some years ago", "The Jury ."]
        );
        let counts = corpus.count_tokens(&Words::corpus()).unwrap();
        assert_eq!(
            (counts.total(), counts.get("the"), counts.get(".")),
            (8, 1, 0)
        );
    }

    #[test]
    fn errors_carry_file_and_line() {
        let tagged = scratch_file("cb01", b"ok/at\nnotag\n");
        let corpus = Corpus::new(vec![CorpusFile::Tagged(tagged)], Encoding::Utf8).unwrap();
        let err = corpus
            .count_tokens(&Words::corpus())
            .unwrap_err()
            .to_string();
        assert!(err.contains("cb01:2"), "{err}");
        assert!(Corpus::new(vec![], Encoding::Utf8).is_err());
    }
}
