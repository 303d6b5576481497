//! The Brown corpus in NLTK's layout: files `c[a-r]NN` of `word/TAG` tokens, one sentence per
//! (tab-indented) line, and `cats.txt` mapping each file to its genre.

use std::path::{Path, PathBuf};

use crate::source::{Encoding, Lines};
use crate::{Error, Result};

/// A word with its part-of-speech tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedWord {
    /// The word as written (case kept).
    pub word: String,
    /// The Brown tag, e.g. `nn-tl`.
    pub tag: String,
}

/// One Brown document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrownDocument {
    /// File id, e.g. `ca01`.
    pub id: String,
    /// Genre from `cats.txt`, e.g. `news`.
    pub genre: String,
    /// Sentences of tagged words.
    pub sentences: Vec<Vec<TaggedWord>>,
}

impl BrownDocument {
    /// Every word of the document in order, tags dropped.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.sentences.iter().flatten().map(|w| w.word.as_str())
    }
}

/// The non-empty sentences of `documents` as `(word, base tag)` pairs ([`base_tag`]), words
/// as written: what the part-of-speech tagging experiments train on.
pub fn base_tagged_sentences(documents: &[BrownDocument]) -> Vec<Vec<(String, String)>> {
    documents
        .iter()
        .flat_map(|d| &d.sentences)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.iter()
                .map(|w| (w.word.clone(), base_tag(&w.tag).to_string()))
                .collect()
        })
        .collect()
}

/// The base of a Brown tag: without the `fw-` (foreign word) prefix and any `-tl` (title),
/// `-hl` (headline) and `-nc` (cited) suffixes (`nn-tl` → `nn`, `fw-in` → `in`; compound
/// tags such as `ppss+md` stay).
pub fn base_tag(tag: &str) -> &str {
    let mut tag = tag.strip_prefix("fw-").unwrap_or(tag);
    while let Some(rest) = ["-tl", "-hl", "-nc"]
        .iter()
        .find_map(|suffix| tag.strip_suffix(suffix))
    {
        tag = rest;
    }
    tag
}

/// The `(file id, genre)` pairs of `<dir>/cats.txt`, in file order.
///
/// # Errors
/// [`Error::Missing`] without `cats.txt`; [`Error::Malformed`] for a line that is not
/// `FILE GENRE`; [`Error::Empty`] when it lists nothing.
pub fn read_categories(dir: &Path) -> Result<Vec<(String, String)>> {
    let cats = dir.join("cats.txt");
    let mut lines = open_required(&cats, "Brown category list")?;
    let mut text = String::new();
    let mut listing = Vec::new();
    while let Some(line) = lines.read_line(&mut text)? {
        let mut fields = text.split_whitespace();
        match (fields.next(), fields.next(), fields.next()) {
            (None, ..) => {}
            (Some(id), Some(genre), None) if !id.contains(['/', '\\']) && id != ".." => {
                listing.push((id.to_string(), genre.to_string()));
            }
            _ => {
                return Err(Error::malformed(
                    &cats,
                    line,
                    format!("expected `FILE GENRE`, found `{text}`"),
                ));
            }
        }
    }
    if listing.is_empty() {
        return Err(Error::Empty {
            path: cats,
            what: "Brown category list",
        });
    }
    Ok(listing)
}

/// Reads every document listed in `<dir>/cats.txt`, in listing order.
///
/// # Errors
/// As [`read_categories`], plus [`Error::Missing`] for a listed file that is absent and
/// [`Error::Malformed`] for a token that is not `WORD/TAG`.
pub fn read_brown(dir: &Path) -> Result<Vec<BrownDocument>> {
    read_categories(dir)?
        .into_iter()
        .map(|(id, genre)| {
            let sentences = read_tagged_file(&dir.join(&id))?;
            Ok(BrownDocument {
                id,
                genre,
                sentences,
            })
        })
        .collect()
}

/// Reads one tagged file: a sentence per non-blank line.
///
/// # Errors
/// As [`read_brown`].
pub fn read_tagged_file(path: &Path) -> Result<Vec<Vec<TaggedWord>>> {
    let mut lines = open_required(path, "Brown document")?;
    let mut text = String::new();
    let mut sentences = Vec::new();
    while let Some(line) = lines.read_line(&mut text)? {
        let sentence = text
            .split_whitespace()
            .map(|token| parse_token(token).map_err(|p| Error::malformed(path, line, p)))
            .collect::<Result<Vec<_>>>()?;
        if !sentence.is_empty() {
            sentences.push(sentence);
        }
    }
    Ok(sentences)
}

/// Splits `word/TAG` at its last slash (`w/o/in` is the word `w/o`).
///
/// # Errors
/// A description when there is no slash or either side is empty.
pub fn parse_token(token: &str) -> Result<TaggedWord, String> {
    match token.rsplit_once('/') {
        Some((word, tag)) if !word.is_empty() && !tag.is_empty() => Ok(TaggedWord {
            word: word.to_string(),
            tag: tag.to_string(),
        }),
        _ => Err(format!("token `{token}` is not WORD/TAG")),
    }
}

fn open_required(path: &Path, what: &str) -> Result<Lines> {
    if !path.is_file() {
        return Err(Error::Missing {
            what: what.to_string(),
            path: PathBuf::from(path),
            hint: crate::registry::DatasetName::Brown.fetch_hint().to_string(),
        });
    }
    Lines::open(path, Encoding::Utf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scratch_dir;

    #[test]
    fn reads_documents_sentences_and_tags() {
        let dir = scratch_dir(&[
            ("cats.txt", b"ca01 news\n\ncb01 editorial\n"),
            (
                "ca01",
                b"\n\tThe/at Jury/nn-tl said/vbd ./.\n\n\tIt/pps ran/vbd\n",
            ),
            ("cb01", b"\tA/at w/o/in\n"),
        ]);
        let docs = read_brown(&dir).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].genre, "news");
        assert_eq!(docs[0].sentences.len(), 2);
        assert_eq!(
            docs[0].sentences[0][1],
            TaggedWord {
                word: "Jury".into(),
                tag: "nn-tl".into()
            }
        );
        assert_eq!(docs[1].words().collect::<Vec<_>>(), ["A", "w/o"]);
    }

    #[test]
    fn malformed_and_missing_input_name_file_and_line() {
        let dir = scratch_dir(&[("cats.txt", b"ca01 news\n"), ("ca01", b"ok/at\nbroken\n")]);
        let err = read_brown(&dir).unwrap_err().to_string();
        assert!(err.contains("ca01:2: token `broken`"), "{err}");

        let dir = scratch_dir(&[("cats.txt", b"ca01\n")]);
        assert!(
            read_brown(&dir)
                .unwrap_err()
                .to_string()
                .contains("cats.txt:1: expected `FILE GENRE`")
        );

        let dir = scratch_dir(&[("cats.txt", b"zz99 news\n")]);
        let err = read_brown(&dir).unwrap_err().to_string();
        assert!(
            err.contains("missing Brown document")
                && err.contains("zz99")
                && err.contains("cargo xtask data fetch brown"),
            "{err}"
        );

        let dir = scratch_dir(&[("cats.txt", b"ca02 news\n"), ("ca02", b"a/at\n\xff/nn\n")]);
        assert!(
            read_brown(&dir)
                .unwrap_err()
                .to_string()
                .contains("ca02:2: invalid UTF-8")
        );

        let dir = scratch_dir(&[("cats.txt", b"../etc/passwd news\n")]);
        assert!(read_brown(&dir).is_err());
    }

    #[test]
    fn base_tags_lose_their_decorations() {
        assert_eq!(base_tag("nn-tl"), "nn");
        assert_eq!(base_tag("nn-tl-hl"), "nn");
        assert_eq!(base_tag("fw-in"), "in");
        assert_eq!(base_tag("fw-nn-tl"), "nn");
        assert_eq!(base_tag("ppss+md"), "ppss+md");
        assert_eq!(base_tag("-"), "-");
        assert_eq!(base_tag("np$"), "np$");
    }
}
