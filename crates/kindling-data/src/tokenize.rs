//! Tokenizers behind one small trait.
//!
//! | tokenizer | for | `"It's a T-shirt, (isn't it?)"` |
//! |---|---|---|
//! | [`Whitespace`] | pre-tokenised files (SST, TREC, Multi30k after preprocessing) | `It's` `a` `T-shirt,` `(isn't` `it?)` |
//! | [`KimClean`] | sentence classification as in Kim (2014) | `it` `'s` `a` `t` `shirt` `,` `(` `is` `n't` `it` `?` `)` |
//! | [`Words`] (punctuation kept) | translation | `It's` `a` `T-shirt` `,` `(` `isn't` `it` `?` `)` |
//! | [`Words`] (lowercased, punctuation dropped) | embedding corpora | `it's` `a` `t-shirt` `isn't` `it` |
//! | [`Chars`] | grapheme-to-phoneme, character models | `I` `t` `'` `s` … |
//!
//! Tokenizers emit borrowed `&str` tokens through a callback, so counting a corpus allocates
//! only for new word types; [`Tokenizer::tokenize`] collects owned tokens when that is simpler.

use serde::{Deserialize, Serialize};

/// Splits text into tokens.
pub trait Tokenizer: Send + Sync + std::fmt::Debug {
    /// Calls `emit` with each token of `text`, in order.
    fn for_each_token(&self, text: &str, emit: &mut dyn FnMut(&str));

    /// The tokens of `text` as owned strings.
    fn tokenize(&self, text: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        self.for_each_token(text, &mut |t| tokens.push(t.to_string()));
        tokens
    }
}

/// Splits on Unicode whitespace, optionally lowercasing.
///
/// ```
/// use kindling_data::tokenize::{Tokenizer, Whitespace};
/// assert_eq!(Whitespace { lowercase: true }.tokenize(" A  b\tC "), ["a", "b", "c"]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Whitespace {
    /// Lowercases every token (full Unicode lowercasing).
    pub lowercase: bool,
}

impl Tokenizer for Whitespace {
    fn for_each_token(&self, text: &str, emit: &mut dyn FnMut(&str)) {
        let mut lowered = String::new();
        for token in text.split_whitespace() {
            emit_cased(token, self.lowercase, &mut lowered, emit);
        }
    }
}

/// Kim's (2014) `clean_str` as one pass over the text, token for token the same as the
/// regular expressions of his `process_data.py`:
///
/// 1. every character outside `A-Z a-z 0-9 ( ) , ! ? ' `` ` `` is a separator;
/// 2. the clitics `'s 've 're 'd 'll` (lowercase, as the patterns are) and `n't` start a new
///    token;
/// 3. `, ! ( ) ?` are tokens of their own;
/// 4. the result is lowercased unless `lowercase` is false (Kim keeps case for TREC).
///
/// The one deliberate difference: Kim's replacement strings `" \( "`, `" \) "` and `" \? "`
/// leave a backslash in Python's output (`\(`); ours emits the bare `(`, `)` and `?`.
///
/// ```
/// use kindling_data::tokenize::{KimClean, Tokenizer};
/// let kim = KimClean { lowercase: true };
/// assert_eq!(kim.tokenize("Don't you've seen it's \"great\"?"),
///            ["do", "n't", "you", "'ve", "seen", "it", "'s", "great", "?"]);
/// assert_eq!(kim.tokenize("IT'S café"), ["it's", "caf"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KimClean {
    /// Lowercases the output (Kim does for every dataset except TREC).
    pub lowercase: bool,
}

impl Default for KimClean {
    fn default() -> Self {
        Self { lowercase: true }
    }
}

/// Byte classes of [`KimClean`]: 0 separator, 1 word byte, 2 punctuation token.
const KIM_CLASS: [u8; 256] = {
    let mut class = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'\'' || c == b'`' {
            class[b] = 1;
        } else if matches!(c, b',' | b'!' | b'(' | b')' | b'?') {
            class[b] = 2;
        }
        b += 1;
    }
    class
};

impl KimClean {
    fn starts_clitic(rest: &[u8]) -> bool {
        matches!(rest.first(), Some(b's' | b'd'))
            || rest.starts_with(b"ve")
            || rest.starts_with(b"re")
            || rest.starts_with(b"ll")
    }
}

impl Tokenizer for KimClean {
    fn for_each_token(&self, text: &str, emit: &mut dyn FnMut(&str)) {
        // Tokens never join what the text separates, so each is a slice of `text` (word bytes
        // are ASCII, so slice ends are character boundaries); only tokens with capitals are
        // copied, to be lowercased.
        let bytes = text.as_bytes();
        let mut lowered = String::new();
        let mut start: Option<usize> = None;
        let mut has_upper = false;
        let mut flush =
            |start: &mut Option<usize>, end: usize, has_upper: bool, emit: &mut dyn FnMut(&str)| {
                if let Some(s) = start.take() {
                    emit_cased(
                        &text[s..end],
                        self.lowercase && has_upper,
                        &mut lowered,
                        emit,
                    );
                }
            };
        for (i, &b) in bytes.iter().enumerate() {
            match KIM_CLASS[usize::from(b)] {
                1 => {
                    let splits = (b == b'\'' && Self::starts_clitic(&bytes[i + 1..]))
                        || (b == b'n' && bytes[i + 1..].starts_with(b"'t"));
                    if splits {
                        flush(&mut start, i, has_upper, emit);
                    }
                    if start.is_none() {
                        start = Some(i);
                        has_upper = false;
                    }
                    has_upper |= b.is_ascii_uppercase();
                }
                2 => {
                    flush(&mut start, i, has_upper, emit);
                    emit(&text[i..=i]);
                }
                _ => flush(&mut start, i, has_upper, emit),
            }
        }
        flush(&mut start, bytes.len(), has_upper, emit);
    }
}

/// Words as runs of letters and digits, keeping `'`, `-`, `.`, `,` and `’` inside a word when
/// a letter or digit follows (`isn't`, `T-shirt`, `3.5`, `1,000`); every other
/// non-space character is a token of its own or, with `keep_punctuation` off, dropped.
///
/// ```
/// use kindling_data::tokenize::{Tokenizer, Words};
/// assert_eq!(Words::translation().tokenize("Two men, one 3.5m T-shirt."),
///            ["Two", "men", ",", "one", "3.5m", "T-shirt", "."]);
/// assert_eq!(Words::corpus().tokenize("\"Isn't it?\" -- Ishmael"), ["isn't", "it", "ishmael"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    /// Lowercases every token.
    pub lowercase: bool,
    /// Emits punctuation and symbols as tokens; drops them when false.
    pub keep_punctuation: bool,
}

impl Words {
    /// Cased, punctuation kept: the translation tokenizer.
    pub fn translation() -> Self {
        Self {
            lowercase: false,
            keep_punctuation: true,
        }
    }

    /// Lowercased, punctuation dropped: the tokenizer of the embedding corpora.
    pub fn corpus() -> Self {
        Self {
            lowercase: true,
            keep_punctuation: false,
        }
    }

    fn joins(c: char) -> bool {
        matches!(c, '\'' | '-' | '.' | ',' | '\u{2019}')
    }
}

impl Tokenizer for Words {
    fn for_each_token(&self, text: &str, emit: &mut dyn FnMut(&str)) {
        let mut lowered = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            if c.is_alphanumeric() {
                let mut end = start + c.len_utf8();
                while let Some(&(i, next)) = chars.peek() {
                    if next.is_alphanumeric() {
                        chars.next();
                        end = i + next.len_utf8();
                        continue;
                    }
                    if Self::joins(next) {
                        let after = text[i + next.len_utf8()..].chars().next();
                        if after.is_some_and(char::is_alphanumeric) {
                            chars.next();
                            end = i + next.len_utf8();
                            continue;
                        }
                    }
                    break;
                }
                emit_cased(&text[start..end], self.lowercase, &mut lowered, emit);
            } else if !c.is_whitespace() && self.keep_punctuation {
                emit(&text[start..start + c.len_utf8()]);
            }
        }
    }
}

/// One token per character.
///
/// ```
/// use kindling_data::tokenize::{Chars, Tokenizer};
/// assert_eq!(Chars { lowercase: true, keep_whitespace: false }.tokenize("Ab c"), ["a", "b", "c"]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Chars {
    /// Lowercases each character.
    pub lowercase: bool,
    /// Emits whitespace characters as tokens; skips them when false.
    pub keep_whitespace: bool,
}

impl Tokenizer for Chars {
    fn for_each_token(&self, text: &str, emit: &mut dyn FnMut(&str)) {
        let mut lowered = String::new();
        for (i, c) in text.char_indices() {
            if c.is_whitespace() && !self.keep_whitespace {
                continue;
            }
            if self.lowercase && c.is_uppercase() {
                lowered.clear();
                lowered.extend(c.to_lowercase());
                emit(&lowered);
            } else {
                emit(&text[i..i + c.len_utf8()]);
            }
        }
    }
}

/// A tokenizer chosen by name in a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenizerKind {
    /// [`Whitespace`], case kept.
    Whitespace,
    /// [`Whitespace`], lowercased.
    WhitespaceLower,
    /// [`KimClean`], lowercased.
    Kim,
    /// [`KimClean`], case kept (Kim's TREC setting).
    KimCased,
    /// [`Words::translation`].
    Translation,
    /// [`Words::corpus`].
    Corpus,
    /// [`Chars`], lowercased, whitespace skipped.
    Chars,
}

impl TokenizerKind {
    /// The tokenizer this names.
    pub fn build(self) -> Box<dyn Tokenizer> {
        match self {
            Self::Whitespace => Box::new(Whitespace { lowercase: false }),
            Self::WhitespaceLower => Box::new(Whitespace { lowercase: true }),
            Self::Kim => Box::new(KimClean { lowercase: true }),
            Self::KimCased => Box::new(KimClean { lowercase: false }),
            Self::Translation => Box::new(Words::translation()),
            Self::Corpus => Box::new(Words::corpus()),
            Self::Chars => Box::new(Chars {
                lowercase: true,
                keep_whitespace: false,
            }),
        }
    }
}

/// Emits `token`, first lowercased into `buffer` when `lowercase` is set and the token has
/// anything that could change (an ASCII capital, or any non-ASCII character).
fn emit_cased(token: &str, lowercase: bool, buffer: &mut String, emit: &mut dyn FnMut(&str)) {
    if !lowercase
        || token
            .bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        emit(token);
        return;
    }
    buffer.clear();
    if token.is_ascii() {
        buffer.push_str(token);
        buffer.make_ascii_lowercase();
    } else {
        buffer.extend(token.chars().flat_map(char::to_lowercase));
    }
    emit(buffer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Kim's `clean_str`, pattern for pattern, with the regex crate.
    fn clean_str_reference(text: &str, lowercase: bool) -> Vec<String> {
        use regex::Regex;
        let steps: [(&str, &str); 12] = [
            (r"[^A-Za-z0-9(),!?'`]", " "),
            (r"'s", " 's"),
            (r"'ve", " 've"),
            (r"n't", " n't"),
            (r"'re", " 're"),
            (r"'d", " 'd"),
            (r"'ll", " 'll"),
            (r",", " , "),
            (r"!", " ! "),
            (r"\(", " ( "),
            (r"\)", " ) "),
            (r"\?", " ? "),
        ];
        let mut s = text.to_string();
        for (pattern, replacement) in steps {
            s = Regex::new(pattern)
                .unwrap()
                .replace_all(&s, replacement)
                .into_owned();
        }
        let s = Regex::new(r"\s{2,}").unwrap().replace_all(&s, " ");
        let s = s.trim();
        let s = if lowercase {
            s.to_lowercase()
        } else {
            s.to_string()
        };
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn kim_matches_the_reference_on_contractions_and_punctuation() {
        for text in [
            "the rock is destined to be the 21st century's new \" conan \" and that he's going",
            "I can't won't shouldn't 've 'd 'll 're 's n't",
            "IT'S DON'T we'RE ''s n''t `quoted' (a,b)!?",
            "sister\u{a0}city naïve — em-dash … \t tab\nnewline",
            "",
            "   ",
            "n'tn't's's",
        ] {
            for lowercase in [true, false] {
                assert_eq!(
                    KimClean { lowercase }.tokenize(text),
                    clean_str_reference(text, lowercase),
                    "{text:?}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn kim_equals_clean_str_on_arbitrary_text(
            text in "([a-zA-Z0-9 '`(),!?.\"\\-ñé\t]|n't|'s|'ve|'re|'d|'ll){0,40}",
            lowercase: bool,
        ) {
            prop_assert_eq!(KimClean { lowercase }.tokenize(&text), clean_str_reference(&text, lowercase));
        }

        #[test]
        fn kim_never_panics_on_any_unicode(text in "\\PC{0,60}") {
            let _ = KimClean::default().tokenize(&text);
        }

        #[test]
        fn words_tokens_are_substrings_without_whitespace(text in "\\PC{0,60}") {
            let tokens = Words::translation().tokenize(&text);
            for token in tokens {
                prop_assert!(!token.is_empty() && !token.contains(char::is_whitespace));
                prop_assert!(text.contains(&token));
            }
        }
    }

    #[test]
    fn the_module_table_is_what_they_do() {
        let text = "It's a T-shirt, (isn't it?)";
        assert_eq!(
            Whitespace::default().tokenize(text),
            ["It's", "a", "T-shirt,", "(isn't", "it?)"]
        );
        assert_eq!(
            KimClean::default().tokenize(text),
            [
                "it", "'s", "a", "t", "shirt", ",", "(", "is", "n't", "it", "?", ")"
            ]
        );
        assert_eq!(
            Words::translation().tokenize(text),
            ["It's", "a", "T-shirt", ",", "(", "isn't", "it", "?", ")"]
        );
        assert_eq!(
            Words::corpus().tokenize(text),
            ["it's", "a", "t-shirt", "isn't", "it"]
        );
        assert_eq!(Chars::default().tokenize("It's")[..3], ["I", "t", "'"]);
    }

    #[test]
    fn whitespace_lowercases_unicode() {
        assert_eq!(
            Whitespace { lowercase: true }.tokenize("ÉCOLE  Straße\u{a0}X"),
            ["école", "straße", "x"]
        );
        assert_eq!(Whitespace::default().tokenize("A b"), ["A", "b"]);
    }

    #[test]
    fn words_keep_joined_words_and_split_punctuation() {
        let t = Words::translation();
        assert_eq!(
            t.tokenize("Ein Mann, der 1,000 Äpfel isst... 'quoted' well-"),
            [
                "Ein", "Mann", ",", "der", "1,000", "Äpfel", "isst", ".", ".", ".", "'", "quoted",
                "'", "well", "-"
            ]
        );
        assert_eq!(
            Words::corpus().tokenize("ÄPFEL und Birnen!"),
            ["äpfel", "und", "birnen"]
        );
    }

    #[test]
    fn chars_can_keep_whitespace() {
        let chars = Chars {
            lowercase: false,
            keep_whitespace: true,
        };
        assert_eq!(chars.tokenize("Aé b"), ["A", "é", " ", "b"]);
    }

    #[test]
    fn kinds_parse_from_config_names() {
        let kind: TokenizerKind = serde_json::from_str("\"kim-cased\"").unwrap();
        assert_eq!(kind, TokenizerKind::KimCased);
        assert_eq!(kind.build().tokenize("It's"), ["It", "'s"]);
    }
}
