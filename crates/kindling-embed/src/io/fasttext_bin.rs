//! fastText's own model files (`.bin`, as `fasttext skipgram|cbow` writes them), both ways: a
//! read model gives every word, known or not, the vector `fasttext print-word-vectors` prints,
//! and a written [`SubwordModel`] loads in fastText and in gensim's `load_facebook_vectors`.
//!
//! # Format (version 12, little-endian)
//!
//! ```text
//! i32 magic 793712314 | i32 version 12
//! args: i32 dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate | f64 t
//! dictionary: i32 size nwords nlabels | i64 ntokens pruneidx_size
//!             size × (word bytes, NUL, i64 count, i8 type) | pruneidx_size × (i32, i32)
//! u8 quantised input | i64 rows, i64 cols, rows × cols f32   (words, then n-gram buckets)
//! u8 quantised output | i64 rows, i64 cols, rows × cols f32  (one row per word)
//! ```
//!
//! Only unsupervised, unquantised models are read (`skipgram`/`cbow`; not `supervised` or
//! `.ftz`): their rows are kindling's subword layout, and the n-gram hashing is the same
//! ([`crate::subword::ngram_hash`]).

use std::io::{BufRead, Read};
use std::path::Path;

use kindling_data::source::open;
use kindling_data::{Specials, Vocab};

use crate::subword::{Architecture, SubwordConfig, SubwordModel};
use crate::{Error, Result};

/// The first four bytes of a fastText model file (793712314, little-endian).
pub const MAGIC: [u8; 4] = 793_712_314_i32.to_le_bytes();
/// The format version fastText 0.9 writes (and the only one read here).
pub const VERSION: i32 = 12;

/// fastText's `model_name` values.
const CBOW: i32 = 1;
const SKIPGRAM: i32 = 2;
const SUPERVISED: i32 = 3;
/// fastText's `loss_name::ns` (negative sampling).
const NEGATIVE_SAMPLING: i32 = 2;
/// fastText's default `lrUpdateRate`.
const LR_UPDATE_RATE: i32 = 100;
/// Entry type of a word (1 is a label).
const WORD: i8 = 0;

/// Whether `head` (a file's first bytes) starts like a fastText model file.
pub fn is_fasttext_model(head: &[u8]) -> bool {
    head.starts_with(&MAGIC)
}

/// Reads a fastText model file written by `fasttext skipgram` or `cbow` (version 12).
///
/// # Errors
/// [`Error::Format`] naming the file and what is wrong: another magic or version, a supervised
/// or quantised model, sizes that disagree with each other or exceed the file, a truncated
/// file, or trailing bytes. [`Error::Data`] for files that cannot be read.
pub fn read_fasttext_model(path: &Path) -> Result<SubwordModel> {
    let size = std::fs::metadata(path).ok().map(|m| m.len());
    let mut reader = Reader {
        input: open(path)?,
        path,
        size,
    };
    let fail = |problem: String| format_error(path, problem);

    let magic = reader.i32("magic")?;
    if magic.to_le_bytes() != MAGIC {
        return Err(fail(format!(
            "not a fastText model: magic {magic}, expected {}",
            i32::from_le_bytes(MAGIC)
        )));
    }
    let version = reader.i32("version")?;
    if version != VERSION {
        return Err(fail(format!(
            "fastText model format version {version}; only version {VERSION} (fastText 0.9) is read"
        )));
    }
    let args = Args::read(&mut reader)?;
    let architecture = match args.model {
        SKIPGRAM => Architecture::SkipGram,
        CBOW => Architecture::Cbow,
        SUPERVISED => {
            return Err(fail(
                "a supervised (classifier) model; only skipgram and cbow models are read".into(),
            ));
        }
        other => return Err(fail(format!("unknown model type {other}"))),
    };
    let dim = positive(args.dim, "dim", path)?;

    let entries = reader.i32("dictionary size")?;
    let nwords = reader.i32("word count")?;
    let nlabels = reader.i32("label count")?;
    let _ntokens = reader.i64("token count")?;
    let pruned = reader.i64("pruned n-gram count")?;
    if entries < 0 || nwords < 0 || nlabels != 0 || i64::from(nwords) != i64::from(entries) {
        return Err(fail(format!(
            "dictionary of {entries} entries, {nwords} words and {nlabels} labels: an unsupervised model has words only"
        )));
    }
    if pruned >= 0 {
        return Err(fail(
            "a quantised (pruned) model (.ftz); only full models are read".into(),
        ));
    }
    let nwords = nwords as usize;
    // Each entry takes at least 10 bytes (a one-byte word, NUL, count, type).
    reader.claim(nwords as u64 * 10, "the dictionary")?;
    let mut words = Vec::with_capacity(nwords);
    for entry in 0..nwords {
        let word = reader.word(entry)?;
        let count = reader.i64("a word count")?;
        let kind = reader.i8("an entry type")?;
        if kind != WORD {
            return Err(fail(format!(
                "entry {} is not a word (type {kind})",
                entry + 1
            )));
        }
        let count =
            u64::try_from(count).map_err(|_| fail(format!("word `{word}` has count {count}")))?;
        words.push((word, count));
    }
    let vocab = Vocab::from_parts(Specials::none(), words)
        .map_err(|e| fail(format!("the dictionary: {e}")))?;

    let (min_n, max_n) = if args.maxn > 0 && args.minn >= 1 && args.minn <= args.maxn {
        (args.minn as usize, args.maxn as usize)
    } else {
        (0, 0)
    };
    let buckets = if max_n > 0 {
        positive(args.bucket, "bucket", path)?
    } else {
        0
    };
    if reader.u8("the input quantisation flag")? != 0 {
        return Err(fail(
            "a quantised model (.ftz); only full models are read".into(),
        ));
    }
    // Without n-grams fastText may still allocate `bucket` rows; only the word rows are used.
    let allocated = nwords + usize::try_from(args.bucket.max(0)).unwrap_or(0);
    let mut input = reader.matrix("input", &[nwords + buckets, allocated], dim)?;
    input.truncate((nwords + buckets) * dim);
    if reader.u8("the output quantisation flag")? != 0 {
        return Err(fail(
            "a quantised model (.ftz); only full models are read".into(),
        ));
    }
    let output = reader.matrix("output", &[nwords], dim)?;
    let mut rest = [0u8; 1];
    if reader
        .input
        .read(&mut rest)
        .map_err(|e| reader.io_error(e))?
        != 0
    {
        return Err(fail("trailing bytes after the output matrix".into()));
    }

    let config = SubwordConfig {
        architecture,
        dim,
        window: positive(args.ws, "ws", path)?,
        negative: positive(args.neg, "neg", path)?,
        min_count: u64::try_from(args.min_count.max(1)).unwrap_or(1),
        sample: args.t,
        epochs: positive(args.epoch, "epoch", path)?,
        min_n,
        max_n,
        buckets,
        ..SubwordConfig::default()
    };
    config
        .validate()
        .map_err(|e| fail(format!("settings kindling cannot use: {e}")))?;
    Ok(SubwordModel::from_matrices(config, vocab, input, output))
}

/// Writes `model` as a fastText model file (version 12), atomically: `fasttext
/// print-word-vectors`, `fasttext nn` and gensim's `load_facebook_vectors` read it and give
/// the same vectors as [`SubwordModel::word_vector`].
///
/// # Errors
/// [`Error::Invalid`] for a model whose sizes do not fit fastText's 32-bit fields or whose
/// words contain a NUL byte; write failures.
pub fn write_fasttext_model(model: &SubwordModel, path: &Path) -> Result<()> {
    let config = model.config();
    let vocab = model.vocab();
    let invalid = |problem: String| Error::Invalid {
        what: "fastText model",
        problem,
    };
    let int = |value: usize, what: &str| {
        i32::try_from(value).map_err(|_| invalid(format!("{what} {value} does not fit fastText")))
    };
    let buckets = if config.max_n > 0 { config.buckets } else { 0 };
    let [input, output] = model.matrices_for_writing();
    let mut bytes: Vec<u8> = Vec::with_capacity((input.len() + output.len()) * 4 + 4096);
    let put_i32 = |bytes: &mut Vec<u8>, v: i32| bytes.extend_from_slice(&v.to_le_bytes());
    put_i32(&mut bytes, i32::from_le_bytes(MAGIC));
    put_i32(&mut bytes, VERSION);
    for value in [
        int(config.dim, "dim")?,
        int(config.window, "window")?,
        int(config.epochs, "epochs")?,
        i32::try_from(config.min_count).unwrap_or(i32::MAX),
        int(config.negative, "negative")?,
        1, // wordNgrams
        NEGATIVE_SAMPLING,
        match config.architecture {
            Architecture::SkipGram => SKIPGRAM,
            Architecture::Cbow => CBOW,
        },
        int(buckets, "buckets")?,
        int(config.min_n, "min_n")?,
        int(config.max_n, "max_n")?,
        LR_UPDATE_RATE,
    ] {
        put_i32(&mut bytes, value);
    }
    bytes.extend_from_slice(&config.sample.to_le_bytes());

    let nwords = int(vocab.len(), "vocabulary size")?;
    put_i32(&mut bytes, nwords);
    put_i32(&mut bytes, nwords);
    put_i32(&mut bytes, 0); // labels
    let tokens: u64 = vocab.counts().iter().sum();
    bytes.extend_from_slice(&i64::try_from(tokens).unwrap_or(i64::MAX).to_le_bytes());
    bytes.extend_from_slice(&(-1i64).to_le_bytes()); // not pruned
    for (word, &count) in vocab.tokens().iter().zip(vocab.counts()) {
        if word.as_bytes().contains(&0) {
            return Err(invalid(format!("the word {word:?} contains a NUL byte")));
        }
        bytes.extend_from_slice(word.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(&i64::try_from(count).unwrap_or(i64::MAX).to_le_bytes());
        bytes.push(WORD as u8);
    }
    for matrix in [input, output] {
        bytes.push(0); // not quantised
        let rows = matrix.len() / config.dim;
        bytes.extend_from_slice(&(rows as i64).to_le_bytes());
        bytes.extend_from_slice(&(config.dim as i64).to_le_bytes());
        for value in matrix {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
    Ok(kindling_io::write_atomic(path, &bytes)?)
}

/// The fields of fastText's `Args` that a model file holds.
struct Args {
    dim: i32,
    ws: i32,
    epoch: i32,
    min_count: i32,
    neg: i32,
    model: i32,
    bucket: i32,
    minn: i32,
    maxn: i32,
    t: f64,
}

impl Args {
    fn read(reader: &mut Reader<'_>) -> Result<Self> {
        let mut next = |what| reader.i32(what);
        let dim = next("dim")?;
        let ws = next("ws")?;
        let epoch = next("epoch")?;
        let min_count = next("minCount")?;
        let neg = next("neg")?;
        let _word_ngrams = next("wordNgrams")?;
        let _loss = next("loss")?;
        let model = next("model")?;
        let bucket = next("bucket")?;
        let minn = next("minn")?;
        let maxn = next("maxn")?;
        let _lr_update_rate = next("lrUpdateRate")?;
        let t = f64::from_le_bytes(reader.bytes::<8>("t")?);
        Ok(Self {
            dim,
            ws,
            epoch,
            min_count,
            neg,
            model,
            bucket,
            minn,
            maxn,
            t,
        })
    }
}

/// Reads fastText's fields in order, each error naming the file and the field.
struct Reader<'a> {
    input: Box<dyn BufRead + Send>,
    path: &'a Path,
    /// The file's size when it is a plain file: no claim may exceed it.
    size: Option<u64>,
}

impl Reader<'_> {
    fn io_error(&self, e: std::io::Error) -> Error {
        format_error(self.path, format!("read failed: {e}"))
    }

    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        self.input.read_exact(&mut out).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                format_error(self.path, format!("the file ends before {what}"))
            } else {
                self.io_error(e)
            }
        })?;
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.bytes::<1>(what)?[0])
    }

    fn i8(&mut self, what: &str) -> Result<i8> {
        Ok(i8::from_le_bytes(self.bytes::<1>(what)?))
    }

    fn i32(&mut self, what: &str) -> Result<i32> {
        Ok(i32::from_le_bytes(self.bytes::<4>(what)?))
    }

    fn i64(&mut self, what: &str) -> Result<i64> {
        Ok(i64::from_le_bytes(self.bytes::<8>(what)?))
    }

    /// Refuses a size the file cannot hold, before anything is allocated for it.
    fn claim(&self, bytes: u64, what: &str) -> Result<()> {
        match self.size {
            Some(size) if bytes > size => Err(format_error(
                self.path,
                format!("{what} would take {bytes} bytes, more than the file's {size}"),
            )),
            _ => Ok(()),
        }
    }

    /// A NUL-terminated UTF-8 word (the `entry`-th, from 0).
    fn word(&mut self, entry: usize) -> Result<String> {
        let mut bytes = Vec::new();
        self.input
            .read_until(0, &mut bytes)
            .map_err(|e| self.io_error(e))?;
        if bytes.pop() != Some(0) {
            return Err(format_error(
                self.path,
                format!("the file ends inside word {}", entry + 1),
            ));
        }
        String::from_utf8(bytes).map_err(|e| {
            format_error(
                self.path,
                format!(
                    "word {} is not UTF-8 (byte {})",
                    entry + 1,
                    e.utf8_error().valid_up_to()
                ),
            )
        })
    }

    /// A dense matrix of `dim` columns and one of `rows` rows (the first is what the rest of the
    /// file implies; fastText may allocate more, listed after it).
    fn matrix(&mut self, what: &str, rows: &[usize], dim: usize) -> Result<Vec<f32>> {
        let found_rows = self.i64("a matrix's row count")?;
        let found_cols = self.i64("a matrix's column count")?;
        let fits = usize::try_from(found_rows).is_ok_and(|r| rows.contains(&r))
            && usize::try_from(found_cols) == Ok(dim);
        if !fits {
            return Err(format_error(
                self.path,
                format!(
                    "the {what} matrix is {found_rows} × {found_cols}, expected {} × {dim} from the settings and the dictionary",
                    rows[0]
                ),
            ));
        }
        let values = found_rows as usize * dim;
        self.claim(values as u64 * 4, &format!("the {what} matrix"))?;
        let mut data = vec![0f32; values];
        let mut chunk = vec![0u8; 4 * dim];
        for row in data.chunks_mut(dim) {
            self.input.read_exact(&mut chunk).map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    format_error(self.path, format!("the file ends inside the {what} matrix"))
                } else {
                    self.io_error(e)
                }
            })?;
            for (value, bytes) in row.iter_mut().zip(chunk.chunks_exact(4)) {
                *value = f32::from_le_bytes(bytes.try_into().expect("four bytes"));
            }
        }
        if data.iter().any(|v| !v.is_finite()) {
            return Err(format_error(
                self.path,
                format!("the {what} matrix holds a NaN or infinite value"),
            ));
        }
        Ok(data)
    }
}

fn positive(value: i32, field: &str, path: &Path) -> Result<usize> {
    usize::try_from(value)
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| {
            format_error(
                path,
                format!("`{field}` is {value}, expected a positive number"),
            )
        })
}

/// A format error in a binary file: `line` 0 (the file as a whole).
fn format_error(path: &Path, problem: String) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        line: 0,
        problem,
    }
}
