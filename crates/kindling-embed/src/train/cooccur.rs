//! Word–word co-occurrence counting for GloVe, in bounded memory.
//!
//! Each thread counts its share of the corpus lines into a hash map; when a map holds more than
//! its share of the entry budget it is sorted and spilled to a run file in a scratch directory.
//! The runs (on disk and in memory) are then merged in key order, summing equal pairs, into one
//! sorted table. Peak memory is the budget plus the final table (12 bytes per distinct pair),
//! whatever the corpus size.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use kindling_data::Vocab;
use kindling_data::read::corpus::Corpus;
use kindling_data::tokenize::Tokenizer;

use crate::Result;

/// One co-occurrence: words `row` and `col` were seen together with summed weight `value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cooccurrence {
    pub(crate) row: u32,
    pub(crate) col: u32,
    pub(crate) value: f32,
}

/// How to count.
pub(crate) struct CountSettings<'a> {
    /// Words on each side that count as context.
    pub(crate) window: usize,
    /// Weight `1 / distance` (GloVe) rather than 1.
    pub(crate) distance_weighting: bool,
    /// Count both orders of each pair (a symmetric context).
    pub(crate) symmetric: bool,
    /// Entries held in memory, all threads together, before spilling to disk.
    pub(crate) memory_entries: usize,
    pub(crate) threads: usize,
    /// Where run files go (a fresh subdirectory is made and removed).
    pub(crate) scratch: &'a Path,
}

/// What counting did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CountStats {
    /// Corpus tokens, in vocabulary or not.
    pub(crate) raw_words: u64,
    /// Runs written to disk.
    pub(crate) spilled_runs: usize,
}

/// One counting thread's result: its spilled runs, the sorted rest and the tokens it read.
struct ThreadCounts {
    spilled: Vec<PathBuf>,
    rest: Vec<(u64, f32)>,
    raw_words: u64,
}

/// A scratch directory removed when dropped, so spilled runs never outlive counting.
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key(row: u32, col: u32) -> u64 {
    (u64::from(row) << 32) | u64::from(col)
}

fn io_error(path: &Path, action: &'static str, e: std::io::Error) -> kindling_data::Error {
    kindling_data::Error::io(action, path, e)
}

/// Writes `map`'s entries sorted by key to a new run file.
fn spill(map: &mut HashMap<u64, f32>, path: &Path) -> kindling_data::Result<()> {
    let mut entries: Vec<(u64, f32)> = map.drain().collect();
    entries.sort_unstable_by_key(|&(k, _)| k);
    let file = File::create(path).map_err(|e| io_error(path, "creating", e))?;
    let mut out = BufWriter::new(file);
    for (k, v) in entries {
        out.write_all(&k.to_le_bytes())
            .and_then(|()| out.write_all(&v.to_le_bytes()))
            .map_err(|e| io_error(path, "writing", e))?;
    }
    out.flush().map_err(|e| io_error(path, "writing", e))
}

/// A sorted run: a file written by [`spill`] or a sorted vector.
enum Run {
    File(BufReader<File>, PathBuf),
    Memory(std::vec::IntoIter<(u64, f32)>),
}

impl Run {
    fn next(&mut self) -> kindling_data::Result<Option<(u64, f32)>> {
        match self {
            Run::Memory(entries) => Ok(entries.next()),
            Run::File(reader, path) => {
                let mut record = [0u8; 12];
                match reader.read_exact(&mut record) {
                    Ok(()) => Ok(Some((
                        u64::from_le_bytes(record[..8].try_into().expect("8 bytes")),
                        f32::from_le_bytes(record[8..].try_into().expect("4 bytes")),
                    ))),
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(io_error(path, "reading", e)),
                }
            }
        }
    }
}

/// Merges sorted runs, summing the values of equal keys.
fn merge(mut runs: Vec<Run>) -> Result<Vec<Cooccurrence>> {
    let mut heap = BinaryHeap::new();
    for (i, run) in runs.iter_mut().enumerate() {
        if let Some((k, v)) = run.next()? {
            heap.push(Reverse((k, i, v.to_bits())));
        }
    }
    let mut table: Vec<Cooccurrence> = Vec::new();
    let mut last = None;
    while let Some(Reverse((k, i, bits))) = heap.pop() {
        let v = f32::from_bits(bits);
        if last == Some(k) {
            table.last_mut().expect("an entry").value += v;
        } else {
            table.push(Cooccurrence {
                row: (k >> 32) as u32,
                col: k as u32,
                value: v,
            });
            last = Some(k);
        }
        if let Some((k, v)) = runs[i].next()? {
            heap.push(Reverse((k, i, v.to_bits())));
        }
    }
    Ok(table)
}

/// Counts the co-occurrences of vocabulary words in `corpus`: for each word and each earlier
/// word at distance `d <= window` on the same line, weight `1/d` (or 1) is added to the pair
/// (and to its mirror when symmetric). Words outside the vocabulary are dropped before windows
/// are taken, as GloVe's `cooccur` does. The table is sorted by `(row, col)`.
pub(crate) fn count(
    corpus: &Corpus,
    tokenizer: &dyn Tokenizer,
    vocab: &Vocab,
    settings: &CountSettings<'_>,
) -> Result<(Vec<Cooccurrence>, CountStats)> {
    let unique = format!(
        "kindling-cooccur-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let scratch = ScratchDir(settings.scratch.join(unique));
    std::fs::create_dir_all(&scratch.0).map_err(|e| io_error(&scratch.0, "creating", e))?;
    let budget = (settings.memory_entries / settings.threads).max(64);
    let outcomes: Vec<Result<ThreadCounts>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..settings.threads)
            .map(|t| {
                let scratch = &scratch.0;
                scope.spawn(move || {
                    let mut map: HashMap<u64, f32> = HashMap::new();
                    let mut files = Vec::new();
                    let mut ids = Vec::new();
                    let (mut line_no, mut raw) = (0usize, 0u64);
                    corpus.for_each_line(|line| {
                        line_no += 1;
                        if line_no % settings.threads != t {
                            return Ok(());
                        }
                        ids.clear();
                        tokenizer.for_each_token(line, &mut |token| {
                            raw += 1;
                            if let Some(id) = vocab.id(token) {
                                ids.push(id);
                            }
                        });
                        for (j, &word) in ids.iter().enumerate() {
                            for d in 1..=settings.window.min(j) {
                                let context = ids[j - d];
                                let weight = if settings.distance_weighting {
                                    1.0 / d as f32
                                } else {
                                    1.0
                                };
                                *map.entry(key(context, word)).or_insert(0.0) += weight;
                                if settings.symmetric {
                                    *map.entry(key(word, context)).or_insert(0.0) += weight;
                                }
                            }
                        }
                        if map.len() > budget {
                            let path = scratch.join(format!("run-{t}-{}", files.len()));
                            spill(&mut map, &path)?;
                            files.push(path);
                        }
                        Ok(())
                    })?;
                    let mut rest: Vec<(u64, f32)> = map.into_iter().collect();
                    rest.sort_unstable_by_key(|&(k, _)| k);
                    Ok(ThreadCounts {
                        spilled: files,
                        rest,
                        raw_words: raw,
                    })
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("counting thread panicked"))
            .collect()
    });
    let mut runs = Vec::new();
    let mut stats = CountStats {
        raw_words: 0,
        spilled_runs: 0,
    };
    for outcome in outcomes {
        let ThreadCounts {
            spilled: files,
            rest,
            raw_words,
        } = outcome?;
        stats.raw_words += raw_words;
        stats.spilled_runs += files.len();
        for path in files {
            let file = File::open(&path).map_err(|e| io_error(&path, "opening", e))?;
            runs.push(Run::File(BufReader::new(file), path));
        }
        runs.push(Run::Memory(rest.into_iter()));
    }
    Ok((merge(runs)?, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_data::read::corpus::CorpusFile;
    use kindling_data::source::Encoding;
    use kindling_data::tokenize::Whitespace;
    use kindling_data::{Specials, VocabConfig};

    fn setup(text: &str) -> (Corpus, Vocab, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "kindling-cooccur-test-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("corpus.txt");
        std::fs::write(&path, text).unwrap();
        let corpus = Corpus::new(vec![CorpusFile::Text(path)], Encoding::Utf8).unwrap();
        let counts = corpus.count_tokens(&Whitespace::default()).unwrap();
        let vocab = Vocab::build(
            &counts,
            &VocabConfig {
                min_count: 2,
                max_size: None,
                specials: Specials::none(),
            },
        );
        (corpus, vocab, dir)
    }

    fn as_map(table: &[Cooccurrence], vocab: &Vocab) -> HashMap<(String, String), f32> {
        table
            .iter()
            .map(|c| {
                let name = |id| vocab.token(id).unwrap().to_owned();
                ((name(c.row), name(c.col)), c.value)
            })
            .collect()
    }

    #[test]
    fn counts_by_hand_with_out_of_vocabulary_words_dropped() {
        // `x` occurs once (min_count 2): dropped, so `a` and `b` become neighbours.
        let (corpus, vocab, dir) = setup("a x b c\na b\nc c\n");
        let settings = CountSettings {
            window: 2,
            distance_weighting: true,
            symmetric: true,
            memory_entries: 1 << 20,
            threads: 1,
            scratch: &dir,
        };
        let (table, stats) = count(&corpus, &Whitespace::default(), &vocab, &settings).unwrap();
        assert_eq!(stats.raw_words, 8);
        let map = as_map(&table, &vocab);
        let get = |a: &str, b: &str| map.get(&(a.into(), b.into())).copied().unwrap_or(0.0);
        // Line 1 → a b c: (a,b) 1, (b,c) 1, (a,c) 1/2. Line 2: (a,b) 1. Line 3: (c,c) 1 twice.
        assert_eq!(get("a", "b"), 2.0);
        assert_eq!(get("b", "a"), 2.0);
        assert_eq!(get("b", "c"), 1.0);
        assert_eq!(get("a", "c"), 0.5);
        assert_eq!(get("c", "c"), 2.0);
        assert_eq!(map.len(), 7);
        assert!(
            table
                .windows(2)
                .all(|w| key(w[0].row, w[0].col) < key(w[1].row, w[1].col))
        );
    }

    #[test]
    fn spilling_and_threads_give_the_same_table() {
        let mut text = String::new();
        for i in 0..400 {
            text.push_str(&format!("w{} w{} w{} w{}\n", i % 17, i % 5, i % 11, i % 3));
        }
        let (corpus, vocab, dir) = setup(&text);
        let run = |memory_entries, threads| {
            let settings = CountSettings {
                window: 3,
                distance_weighting: true,
                symmetric: true,
                memory_entries,
                threads,
                scratch: &dir,
            };
            count(&corpus, &Whitespace::default(), &vocab, &settings).unwrap()
        };
        let (whole, none) = run(1 << 20, 1);
        assert_eq!(none.spilled_runs, 0);
        let (spilled, stats) = run(1, 2);
        assert!(stats.spilled_runs > 10, "{stats:?}");
        assert_eq!(whole.len(), spilled.len());
        for (a, b) in whole.iter().zip(&spilled) {
            assert_eq!((a.row, a.col), (b.row, b.col));
            assert!((a.value - b.value).abs() < 1e-3, "{a:?} {b:?}");
        }
        // Scratch files are gone.
        let leftovers = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("kindling-cooccur-")
            })
            .count();
        assert_eq!(leftovers, 0);
    }
}
