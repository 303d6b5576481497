//! Token counts and vocabularies: deterministic order, kept counts, special tokens,
//! encode/decode, and a readable file format.
//!
//! Order is specials first (in the order configured), then tokens by count descending and,
//! within a count, by byte-wise lexicographic order, so the same corpus always gives the same
//! ids whatever the hash map did.
//!
//! # File format
//!
//! UTF-8 text: a header line `#kindling-vocab v1`, one line per special token
//! `#special ROLE TOKEN` (roles `pad`, `unk`, `bos`, `eos`), then one line per token in id order,
//! `TOKEN<TAB>COUNT`. Tokens may not contain tabs or line breaks. A `.json` path writes and
//! reads the same content as JSON instead.

use std::collections::HashMap;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::source::{Encoding, Lines};
use crate::tokenize::Tokenizer;
use crate::{Error, Result};

/// How often each token occurs.
#[derive(Debug, Clone, Default)]
pub struct TokenCounts {
    counts: FxHashMap<Box<str>, u64>,
    total: u64,
}

impl TokenCounts {
    /// No tokens yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one occurrence of `token`.
    pub fn add(&mut self, token: &str) {
        self.add_n(token, 1);
    }

    /// Counts `n` occurrences of `token`.
    pub fn add_n(&mut self, token: &str, n: u64) {
        self.total += n;
        if let Some(count) = self.counts.get_mut(token) {
            *count += n;
        } else {
            self.counts.insert(token.into(), n);
        }
    }

    /// Counts every token `tokenizer` finds in `text`.
    pub fn add_text(&mut self, tokenizer: &dyn Tokenizer, text: &str) {
        tokenizer.for_each_token(text, &mut |token| self.add(token));
    }

    /// Adds another set of counts to these.
    pub fn merge(&mut self, other: &TokenCounts) {
        for (token, &n) in &other.counts {
            self.add_n(token, n);
        }
    }

    /// Occurrences of `token`.
    pub fn get(&self, token: &str) -> u64 {
        self.counts.get(token).copied().unwrap_or(0)
    }

    /// Number of distinct tokens.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }

    /// Number of tokens counted, repeats included.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Tokens with their counts, most frequent first, ties in lexicographic order.
    pub fn sorted(&self) -> Vec<(&str, u64)> {
        let mut entries: Vec<(&str, u64)> = self.counts.iter().map(|(t, &n)| (&**t, n)).collect();
        entries.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        entries
    }
}

impl<S: AsRef<str>> FromIterator<S> for TokenCounts {
    fn from_iter<T: IntoIterator<Item = S>>(iter: T) -> Self {
        let mut counts = Self::new();
        for token in iter {
            counts.add(token.as_ref());
        }
        counts
    }
}

/// The special tokens of a vocabulary; each is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Specials {
    /// Padding, id 0 when present.
    pub pad: Option<String>,
    /// What unknown tokens map to.
    pub unk: Option<String>,
    /// Beginning of sequence.
    pub bos: Option<String>,
    /// End of sequence.
    pub eos: Option<String>,
}

impl Default for Specials {
    /// `<pad>` and `<unk>`: what a classifier needs.
    fn default() -> Self {
        Self {
            pad: Some("<pad>".into()),
            unk: Some("<unk>".into()),
            bos: None,
            eos: None,
        }
    }
}

impl Specials {
    /// No special tokens (word2vec's vocabulary).
    pub fn none() -> Self {
        Self {
            pad: None,
            unk: None,
            bos: None,
            eos: None,
        }
    }

    /// `<pad>`, `<unk>`, `<bos>`, `<eos>`: what a sequence-to-sequence model needs.
    pub fn seq2seq() -> Self {
        Self {
            bos: Some("<bos>".into()),
            eos: Some("<eos>".into()),
            ..Self::default()
        }
    }

    fn roles(&self) -> [(&'static str, Option<&str>); 4] {
        [
            ("pad", self.pad.as_deref()),
            ("unk", self.unk.as_deref()),
            ("bos", self.bos.as_deref()),
            ("eos", self.eos.as_deref()),
        ]
    }

    fn present(&self) -> impl Iterator<Item = &str> {
        self.roles().into_iter().filter_map(|(_, t)| t)
    }

    fn set(&mut self, role: &str, token: String) -> bool {
        let slot = match role {
            "pad" => &mut self.pad,
            "unk" => &mut self.unk,
            "bos" => &mut self.bos,
            "eos" => &mut self.eos,
            _ => return false,
        };
        *slot = Some(token);
        true
    }
}

/// Settings for building a [`Vocab`] from counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VocabConfig {
    /// Tokens seen fewer times are left out.
    pub min_count: u64,
    /// At most this many ordinary (non-special) tokens, the most frequent kept.
    pub max_size: Option<usize>,
    /// The special tokens, placed first.
    pub specials: Specials,
}

impl Default for VocabConfig {
    fn default() -> Self {
        Self {
            min_count: 1,
            max_size: None,
            specials: Specials::default(),
        }
    }
}

/// What [`Vocab::encode`] does with a token outside the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnUnknown {
    /// Map it to the unknown token; an error if the vocabulary has none.
    #[default]
    MapToUnk,
    /// Leave it out.
    Skip,
    /// Return [`Error::UnknownToken`].
    Error,
}

/// A bijection between tokens and dense ids, with counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "VocabFile", into = "VocabFile")]
pub struct Vocab {
    tokens: Vec<String>,
    counts: Vec<u64>,
    specials: Specials,
    index: HashMap<String, u32>,
}

#[derive(Serialize, Deserialize)]
struct VocabFile {
    specials: Specials,
    tokens: Vec<(String, u64)>,
}

impl From<Vocab> for VocabFile {
    fn from(vocab: Vocab) -> Self {
        let specials = vocab.specials.present().count();
        Self {
            tokens: vocab
                .tokens
                .into_iter()
                .zip(vocab.counts)
                .skip(specials)
                .collect(),
            specials: vocab.specials,
        }
    }
}

impl TryFrom<VocabFile> for Vocab {
    type Error = Error;
    fn try_from(file: VocabFile) -> Result<Self> {
        Vocab::from_parts(file.specials, file.tokens)
    }
}

impl Vocab {
    /// Builds a vocabulary from counts.
    pub fn build(counts: &TokenCounts, config: &VocabConfig) -> Self {
        let specials: Vec<&str> = config.specials.present().collect();
        let kept = counts
            .sorted()
            .into_iter()
            .filter(|(token, n)| *n >= config.min_count && !specials.contains(token))
            .take(config.max_size.unwrap_or(usize::MAX))
            .map(|(t, n)| (t.to_string(), n));
        Self::from_parts(config.specials.clone(), kept.collect())
            .expect("counts hold distinct tokens")
    }

    /// A vocabulary of exactly these tokens in this order, after the specials.
    ///
    /// # Errors
    /// [`Error::Invalid`] when a token repeats (or repeats a special token).
    pub fn from_parts(specials: Specials, tokens: Vec<(String, u64)>) -> Result<Self> {
        let mut vocab = Self {
            tokens: Vec::with_capacity(tokens.len() + 4),
            counts: Vec::with_capacity(tokens.len() + 4),
            index: HashMap::with_capacity(tokens.len() + 4),
            specials: specials.clone(),
        };
        let special_tokens = specials.present().map(|t| (t.to_string(), 0));
        for (token, count) in special_tokens.chain(tokens) {
            let id = vocab.tokens.len() as u32;
            if vocab.index.insert(token.clone(), id).is_some() {
                return Err(Error::invalid(
                    "vocabulary",
                    format!("token `{token}` appears twice"),
                ));
            }
            vocab.tokens.push(token);
            vocab.counts.push(count);
        }
        Ok(vocab)
    }

    /// Number of ids, specials included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when there are no tokens at all.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The special tokens.
    pub fn specials(&self) -> &Specials {
        &self.specials
    }

    /// Id of `token`, if present.
    pub fn id(&self, token: &str) -> Option<u32> {
        self.index.get(token).copied()
    }

    /// Token of `id`, if in range.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// Corpus count of the token with this id (0 for specials).
    pub fn count(&self, id: u32) -> u64 {
        self.counts.get(id as usize).copied().unwrap_or(0)
    }

    /// All tokens in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// All counts in id order.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Id of the padding token.
    pub fn pad_id(&self) -> Option<u32> {
        self.special_id(self.specials.pad.as_deref())
    }

    /// Id of the unknown token.
    pub fn unk_id(&self) -> Option<u32> {
        self.special_id(self.specials.unk.as_deref())
    }

    /// Id of the beginning-of-sequence token.
    pub fn bos_id(&self) -> Option<u32> {
        self.special_id(self.specials.bos.as_deref())
    }

    /// Id of the end-of-sequence token.
    pub fn eos_id(&self) -> Option<u32> {
        self.special_id(self.specials.eos.as_deref())
    }

    fn special_id(&self, token: Option<&str>) -> Option<u32> {
        token.and_then(|t| self.id(t))
    }

    /// True for the ids of special tokens.
    pub fn is_special(&self, id: u32) -> bool {
        (id as usize) < self.specials.present().count()
    }

    /// Ids of `tokens`, unknown tokens handled as `on_unknown` says.
    ///
    /// # Errors
    /// [`Error::UnknownToken`] for an unknown token under [`OnUnknown::Error`], or under
    /// [`OnUnknown::MapToUnk`] when there is no unknown token.
    pub fn encode<S: AsRef<str>>(&self, tokens: &[S], on_unknown: OnUnknown) -> Result<Vec<u32>> {
        let mut ids = Vec::with_capacity(tokens.len());
        for token in tokens {
            self.encode_one(token.as_ref(), on_unknown, &mut ids)?;
        }
        Ok(ids)
    }

    /// Tokenises `text` and encodes it in one pass, without owning the tokens.
    ///
    /// # Errors
    /// As [`Vocab::encode`].
    pub fn encode_text(
        &self,
        tokenizer: &dyn Tokenizer,
        text: &str,
        on_unknown: OnUnknown,
    ) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        let mut failure = None;
        tokenizer.for_each_token(text, &mut |token| {
            if failure.is_none()
                && let Err(e) = self.encode_one(token, on_unknown, &mut ids)
            {
                failure = Some(e);
            }
        });
        failure.map_or(Ok(ids), Err)
    }

    fn encode_one(&self, token: &str, on_unknown: OnUnknown, ids: &mut Vec<u32>) -> Result<()> {
        match (self.id(token), on_unknown) {
            (Some(id), _) => ids.push(id),
            (None, OnUnknown::Skip) => {}
            (None, OnUnknown::MapToUnk) if self.unk_id().is_some() => {
                ids.push(self.unk_id().expect("checked"));
            }
            (None, _) => return Err(Error::UnknownToken(token.to_string())),
        }
        Ok(())
    }

    /// Tokens of `ids`; with `skip_specials`, padding and the other specials are left out.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for an id outside the vocabulary.
    pub fn decode(&self, ids: &[u32], skip_specials: bool) -> Result<Vec<&str>> {
        let mut tokens = Vec::with_capacity(ids.len());
        for &id in ids {
            let token = self.token(id).ok_or(Error::UnknownId {
                id,
                size: self.len(),
            })?;
            if !(skip_specials && self.is_special(id)) {
                tokens.push(token);
            }
        }
        Ok(tokens)
    }

    /// Writes the vocabulary atomically: JSON when `path` ends in `.json`, else the text format
    /// described in the [module docs](self).
    ///
    /// # Errors
    /// [`Error::Invalid`] when a token cannot be written in the text format; [`Error::Io`] when
    /// the write fails.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = if path.extension().is_some_and(|e| e == "json") {
            serde_json::to_vec_pretty(self).expect("a vocabulary serialises")
        } else {
            self.to_text()?.into_bytes()
        };
        crate::source::write_atomic(path, &bytes)
    }

    fn to_text(&self) -> Result<String> {
        let mut out = String::from("#kindling-vocab v1\n");
        for (role, token) in self.specials.roles() {
            if let Some(token) = token {
                check_writable(token)?;
                out.push_str(&format!("#special {role} {token}\n"));
            }
        }
        let specials = self.specials.present().count();
        for (token, count) in self.tokens.iter().zip(&self.counts).skip(specials) {
            check_writable(token)?;
            out.push_str(&format!("{token}\t{count}\n"));
        }
        Ok(out)
    }

    /// Reads a vocabulary written by [`Vocab::save`].
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the line for a bad header, special or count line, and
    /// [`Error::Io`] / [`Error::Encoding`] as for any file.
    pub fn load(path: &Path) -> Result<Self> {
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
            return serde_json::from_slice(&bytes)
                .map_err(|e| Error::malformed(path, e.line(), e.to_string()));
        }
        let mut lines = Lines::open(path, Encoding::Utf8)?;
        let mut specials = Specials::none();
        let mut tokens = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut text = String::new();
        while let Some(number) = lines.read_line(&mut text)? {
            if number == 1 {
                if text != "#kindling-vocab v1" {
                    return Err(Error::malformed(
                        path,
                        1,
                        format!("expected the header `#kindling-vocab v1`, found `{text}`"),
                    ));
                }
                continue;
            }
            if let Some(rest) = text.strip_prefix("#special ") {
                let Some((role, token)) = rest.split_once(' ') else {
                    return Err(Error::malformed(
                        path,
                        number,
                        format!("expected `#special ROLE TOKEN`, found `{text}`"),
                    ));
                };
                if !tokens.is_empty()
                    || !specials.set(role, token.to_string())
                    || seen.insert(token.to_string(), number).is_some()
                {
                    return Err(Error::malformed(
                        path,
                        number,
                        format!(
                            "unknown or misplaced special role `{role}` (pad, unk, bos, eos come first)"
                        ),
                    ));
                }
                continue;
            }
            let Some((token, count)) = text.rsplit_once('\t') else {
                return Err(Error::malformed(
                    path,
                    number,
                    format!("expected `TOKEN<TAB>COUNT`, found `{text}`"),
                ));
            };
            let count = count.parse::<u64>().map_err(|_| {
                Error::malformed(
                    path,
                    number,
                    format!("count `{count}` is not a non-negative integer"),
                )
            })?;
            if let Some(first) = seen.insert(token.to_string(), number) {
                return Err(Error::malformed(
                    path,
                    number,
                    format!("token `{token}` already appears on line {first}"),
                ));
            }
            tokens.push((token.to_string(), count));
        }
        if lines.number() == 0 {
            return Err(Error::Empty {
                path: path.to_path_buf(),
                what: "vocabulary file",
            });
        }
        Self::from_parts(specials, tokens)
    }
}

fn check_writable(token: &str) -> Result<()> {
    if token.is_empty() || token.contains(['\t', '\n', '\r']) {
        return Err(Error::invalid(
            "vocabulary token",
            format!("{token:?} is empty or holds a tab or line break and cannot be saved as text"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scratch_file;
    use crate::tokenize::Whitespace;
    use proptest::prelude::*;

    fn counts(text: &str) -> TokenCounts {
        let mut counts = TokenCounts::new();
        counts.add_text(&Whitespace::default(), text);
        counts
    }

    #[test]
    fn order_is_specials_then_count_then_lexicographic() {
        let vocab = Vocab::build(&counts("b a c b a d b"), &VocabConfig::default());
        assert_eq!(vocab.tokens(), ["<pad>", "<unk>", "b", "a", "c", "d"]);
        assert_eq!(vocab.counts(), [0, 0, 3, 2, 1, 1]);
        assert_eq!(
            (vocab.pad_id(), vocab.unk_id(), vocab.bos_id()),
            (Some(0), Some(1), None)
        );
    }

    #[test]
    fn min_count_and_max_size_cut_the_tail() {
        let config = VocabConfig {
            min_count: 2,
            max_size: Some(1),
            specials: Specials::seq2seq(),
        };
        let vocab = Vocab::build(&counts("b a c b a d b"), &config);
        assert_eq!(vocab.tokens(), ["<pad>", "<unk>", "<bos>", "<eos>", "b"]);
    }

    #[test]
    fn encode_handles_unknowns_as_asked() {
        let vocab = Vocab::build(&counts("a b"), &VocabConfig::default());
        assert_eq!(
            vocab
                .encode(&["a", "zz", "b"], OnUnknown::MapToUnk)
                .unwrap(),
            [2, 1, 3]
        );
        assert_eq!(vocab.encode(&["a", "zz"], OnUnknown::Skip).unwrap(), [2]);
        let err = vocab.encode(&["zz"], OnUnknown::Error).unwrap_err();
        assert!(err.to_string().contains("`zz`"), "{err}");
        let bare = Vocab::build(
            &counts("a"),
            &VocabConfig {
                specials: Specials::none(),
                ..Default::default()
            },
        );
        assert!(bare.encode(&["zz"], OnUnknown::MapToUnk).is_err());
        assert_eq!(vocab.decode(&[0, 2, 1], true).unwrap(), ["a"]);
        assert!(matches!(
            vocab.decode(&[9], false),
            Err(Error::UnknownId { id: 9, size: 4 })
        ));
        assert_eq!(
            vocab
                .encode_text(&Whitespace::default(), "b q", OnUnknown::MapToUnk)
                .unwrap(),
            [3, 1]
        );
    }

    #[test]
    fn text_and_json_files_round_trip() {
        let vocab = Vocab::build(
            &counts("x y y z é"),
            &VocabConfig {
                specials: Specials::seq2seq(),
                ..Default::default()
            },
        );
        for name in ["vocab.txt", "vocab.json"] {
            let path = scratch_file(name, b"");
            vocab.save(&path).unwrap();
            assert_eq!(Vocab::load(&path).unwrap(), vocab, "{name}");
        }
    }

    #[test]
    fn bad_files_name_the_line() {
        let cases: [(&[u8], &str); 5] = [
            (b"", "is empty"),
            (b"tokens\n", ":1: expected the header"),
            (
                b"#kindling-vocab v1\na\t1\nb 2\n",
                ":3: expected `TOKEN<TAB>COUNT`",
            ),
            (b"#kindling-vocab v1\na\t-1\n", ":2: count `-1`"),
            (
                b"#kindling-vocab v1\n#special cls <cls>\n",
                ":2: unknown or misplaced special role",
            ),
        ];
        for (content, expected) in cases {
            let path = scratch_file("bad.vocab", content);
            let err = Vocab::load(&path).unwrap_err().to_string();
            assert!(err.contains(expected), "{err} should contain {expected}");
        }
        let dup = scratch_file("dup.vocab", b"#kindling-vocab v1\na\t1\na\t1\n");
        let err = Vocab::load(&dup).unwrap_err().to_string();
        assert!(
            err.contains("dup.vocab:3: token `a` already appears on line 2"),
            "{err}"
        );
    }

    #[test]
    fn unsaveable_tokens_are_refused() {
        let mut counts = TokenCounts::new();
        counts.add("tab\there");
        let vocab = Vocab::build(&counts, &VocabConfig::default());
        assert!(vocab.save(&scratch_file("tab.vocab", b"")).is_err());
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(words in proptest::collection::vec("[a-zé]{1,6}", 1..40)) {
            let counts: TokenCounts = words.iter().collect();
            let vocab = Vocab::build(&counts, &VocabConfig::default());
            let ids = vocab.encode(&words, OnUnknown::Error).unwrap();
            prop_assert_eq!(vocab.decode(&ids, false).unwrap(), words.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(counts.total(), words.len() as u64);
        }
    }
}
