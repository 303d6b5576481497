//! The CMU Pronouncing Dictionary: `word PH1 PH2 …`, alternates as `word(2)`, optional
//! trailing `# comment`, ARPAbet phonemes with stress digits on vowels (`AH0`, `EY1`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::source::{Encoding, Lines};
use crate::{Error, Result};

/// One pronunciation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pronunciation {
    /// The word without its `(n)` suffix.
    pub word: String,
    /// 1 for the first pronunciation of a word, n for `word(n)`.
    pub variant: u32,
    /// Phonemes, stress digits kept or stripped as asked.
    pub phonemes: Vec<String>,
    /// 1-based line number.
    pub line: usize,
}

/// How to read the dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CmudictOptions {
    /// Removes the stress digits 0/1/2 from vowels (`AH0` → `AH`).
    pub strip_stress: bool,
    /// Keeps only the first pronunciation of each word.
    pub first_only: bool,
}

/// An ARPAbet phoneme without its stress digit (`AH0` → `AH`; `K` stays `K`).
///
/// ```
/// use kindling_data::read::cmudict::without_stress;
/// assert_eq!(without_stress("EY1"), "EY");
/// assert_eq!(without_stress("K"), "K");
/// ```
pub fn without_stress(phoneme: &str) -> &str {
    phoneme.trim_end_matches(['0', '1', '2'])
}

/// Reads a CMUdict file.
///
/// # Errors
/// [`Error::Malformed`] naming the line for a word without phonemes, a malformed `(n)`
/// suffix or a phoneme that is not ARPAbet-shaped (capital letters, then at most one stress
/// digit 0–2); [`Error::Empty`] for a file without entries.
pub fn read_cmudict(path: &Path, options: CmudictOptions) -> Result<Vec<Pronunciation>> {
    let mut lines = Lines::open(path, Encoding::Utf8)?;
    let mut text = String::new();
    let mut entries = Vec::new();
    while let Some(line) = lines.read_line(&mut text)? {
        if let Some(entry) =
            parse_line(&text, options).map_err(|p| Error::malformed(path, line, p))?
        {
            let entry = Pronunciation { line, ..entry };
            if options.first_only && entry.variant > 1 {
                continue;
            }
            entries.push(entry);
        }
    }
    if entries.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
            what: "pronouncing dictionary",
        });
    }
    Ok(entries)
}

/// Reads a tab-separated lexicon: `word TAB p1 p2 …` per line, phones separated by spaces
/// and written in any alphabet (ARPAbet, IPA, …); blank lines are skipped. A word's second
/// and later lines are its alternates (variants 2, 3, … in file order).
///
/// # Errors
/// [`Error::Malformed`] naming the line for a line without a tab, an empty word or no phones;
/// [`Error::Empty`] for a file without entries.
pub fn read_tab_lexicon(path: &Path) -> Result<Vec<Pronunciation>> {
    let mut lines = Lines::open(path, Encoding::Utf8)?;
    let mut text = String::new();
    let mut entries = Vec::new();
    let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    while let Some(line) = lines.read_line(&mut text)? {
        let content = text.trim_end_matches(['\r', '\n']);
        if content.trim().is_empty() {
            continue;
        }
        let Some((word, phones)) = content.split_once('\t') else {
            return Err(Error::malformed(
                path,
                line,
                "expected `word<TAB>phones separated by spaces`",
            ));
        };
        let word = word.trim();
        let phonemes: Vec<String> = phones.split_whitespace().map(str::to_string).collect();
        if word.is_empty() || phonemes.is_empty() {
            return Err(Error::malformed(
                path,
                line,
                "a lexicon line needs a word and at least one phone",
            ));
        }
        let variant = seen.entry(word.to_string()).or_insert(0);
        *variant += 1;
        entries.push(Pronunciation {
            word: word.to_string(),
            variant: *variant,
            phonemes,
            line,
        });
    }
    if entries.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
            what: "lexicon",
        });
    }
    Ok(entries)
}

/// Parses one dictionary line; `None` for blank and comment lines.
///
/// # Errors
/// A description of what is wrong with the line.
pub fn parse_line(text: &str, options: CmudictOptions) -> Result<Option<Pronunciation>, String> {
    let content = text
        .split_once('#')
        .map_or(text, |(before, _)| before)
        .trim();
    if content.is_empty() || content.starts_with(";;;") {
        return Ok(None);
    }
    let mut fields = content.split_whitespace();
    let head = fields.next().expect("content is not blank");
    let (word, variant) = match head.strip_suffix(')').and_then(|h| h.rsplit_once('(')) {
        Some((word, n)) => match n.parse::<u32>() {
            Ok(n) if n >= 2 && !word.is_empty() => (word, n),
            _ => {
                return Err(format!(
                    "`{head}`: an alternate is written `word(n)` with n ≥ 2"
                ));
            }
        },
        None => (head, 1),
    };
    let mut phonemes = Vec::new();
    for phoneme in fields {
        let letters = without_stress(phoneme);
        let stress = &phoneme[letters.len()..];
        if letters.is_empty()
            || !letters.bytes().all(|b| b.is_ascii_uppercase())
            || stress.len() > 1
        {
            return Err(format!("`{phoneme}` is not an ARPAbet phoneme"));
        }
        phonemes.push(
            if options.strip_stress {
                letters
            } else {
                phoneme
            }
            .to_string(),
        );
    }
    if phonemes.is_empty() {
        return Err(format!("`{word}` has no phonemes"));
    }
    Ok(Some(Pronunciation {
        word: word.to_string(),
        variant,
        phonemes,
        line: 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scratch_file;

    const SAMPLE: &[u8] = b";;; old-style comment\naalborg AO1 L B AO0 R G # place, danish\naalborg(2) AA1 L B AO0 R G\n\nd'artagnan D AH0 T AE1 NY AH0 N\n";

    #[test]
    fn reads_alternates_comments_and_stress() {
        let path = scratch_file("cmu.dict", SAMPLE);
        let all = read_cmudict(&path, CmudictOptions::default()).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            (all[1].word.as_str(), all[1].variant, all[1].line),
            ("aalborg", 2, 3)
        );
        assert_eq!(all[0].phonemes, ["AO1", "L", "B", "AO0", "R", "G"]);
        let stripped = read_cmudict(
            &path,
            CmudictOptions {
                strip_stress: true,
                first_only: true,
            },
        )
        .unwrap();
        assert_eq!(stripped.len(), 2);
        assert_eq!(stripped[0].phonemes, ["AO", "L", "B", "AO", "R", "G"]);
        assert_eq!(stripped[1].word, "d'artagnan");
    }

    #[test]
    fn malformed_entries_name_the_line() {
        for (content, expected) in [
            (&b"ok AH0\nlonely\n"[..], "cmu:2: `lonely` has no phonemes"),
            (b"word(x) AH0\n", "cmu:1: `word(x)`: an alternate"),
            (b"word AH3\n", "cmu:1: `AH3` is not an ARPAbet phoneme"),
            (b"word ah0\n", "cmu:1: `ah0` is not an ARPAbet phoneme"),
        ] {
            let err =
                read_cmudict(&scratch_file("cmu", content), CmudictOptions::default()).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} / {expected}");
        }
        let err = read_cmudict(
            &scratch_file("cmu", b"# only comments\n"),
            CmudictOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Empty { .. }));
    }

    #[test]
    fn tab_lexicons_take_any_phones_and_number_alternates() {
        let dir = std::env::temp_dir().join(format!("kindling-lexicon-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lexicon.tsv");
        std::fs::write(
            &path,
            "tomato\tt ə m ɑː t əʊ\r\n\ntomato\tt ə m eɪ t oʊ\ncat\tk æ t\n",
        )
        .unwrap();
        let entries = read_tab_lexicon(&path).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].phonemes, ["t", "ə", "m", "ɑː", "t", "əʊ"]);
        assert_eq!(
            (entries[1].word.as_str(), entries[1].variant),
            ("tomato", 2)
        );
        assert_eq!(
            (
                entries[2].word.as_str(),
                entries[2].variant,
                entries[2].line
            ),
            ("cat", 1, 4)
        );
        std::fs::write(&path, "cat k æ t\n").unwrap();
        let err = read_tab_lexicon(&path).unwrap_err().to_string();
        assert!(
            err.contains("lexicon.tsv:1") && err.contains("<TAB>"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
