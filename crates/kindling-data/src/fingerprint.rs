//! What data a run read, by content: the files that [`crate::source::open`] opened on a
//! thread, and each file's size and checksum.
//!
//! A run records its data before training ([`Recording`]) and saves the fingerprints
//! ([`fingerprint`]) beside its checkpoints; a resumed run fingerprints what it read this time
//! and refuses to continue on other data ([`compare`]), wherever the files now live.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};
use std::sync::Mutex;
use std::time::SystemTime;

use kindling_io::fnv::Fnv1a;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

type Files = Rc<RefCell<BTreeSet<PathBuf>>>;

thread_local! {
    /// The recordings alive on this thread; [`record_opened`] adds to each.
    static RECORDINGS: RefCell<Vec<Weak<RefCell<BTreeSet<PathBuf>>>>> =
        const { RefCell::new(Vec::new()) };
}

/// Records every file that [`crate::source::open`] opens on this thread while it is alive
/// (recordings nest: each sees every file opened during its life).
///
/// ```
/// # use kindling_data::fingerprint::Recording;
/// # let dir = std::env::temp_dir().join(format!("kindling-doc-rec-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("train.txt");
/// # std::fs::write(&path, "a b\n").unwrap();
/// let recording = Recording::start();
/// kindling_data::source::read_lines(&path, Default::default()).unwrap();
/// assert_eq!(recording.files(), vec![path]);
/// ```
pub struct Recording {
    files: Files,
}

impl Recording {
    /// Starts recording on the calling thread.
    pub fn start() -> Self {
        let files = Files::default();
        RECORDINGS.with(|recordings| recordings.borrow_mut().push(Rc::downgrade(&files)));
        Self { files }
    }

    /// The files opened so far, sorted, each once.
    pub fn files(&self) -> Vec<PathBuf> {
        self.files.borrow().iter().cloned().collect()
    }
}

/// Notes that `path` was opened for reading (called by [`crate::source::open`]).
pub(crate) fn record_opened(path: &Path) {
    RECORDINGS.with(|recordings| {
        let mut recordings = recordings.borrow_mut();
        recordings.retain(|files| files.strong_count() > 0);
        for files in recordings.iter().filter_map(Weak::upgrade) {
            files.borrow_mut().insert(path.to_path_buf());
        }
    });
}

/// One data file by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFingerprint {
    /// Where the file was read from (for messages; files are compared by content).
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// FNV-1a 64 of its bytes, as 16 hex digits.
    pub fnv1a: String,
}

/// Checksums already computed in this process, by path, size and modification time: a
/// cross-validated run fingerprints the same files once, not once per fold.
static KNOWN: Mutex<Option<HashMap<FileVersion, String>>> = Mutex::new(None);

/// A file as it is now: path, size and modification time.
type FileVersion = (PathBuf, u64, SystemTime);

/// The fingerprint of each of `paths`, in their order.
///
/// # Errors
/// [`Error::Io`] naming a file that cannot be read.
pub fn fingerprint(paths: &[PathBuf]) -> Result<Vec<FileFingerprint>> {
    paths.iter().map(|path| fingerprint_file(path)).collect()
}

fn fingerprint_file(path: &Path) -> Result<FileFingerprint> {
    let metadata = std::fs::metadata(path).map_err(|e| Error::io("reading", path, e))?;
    let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let key = (path.to_path_buf(), metadata.len(), modified);
    let known = KNOWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .and_then(|known| known.get(&key).cloned());
    let fnv1a = match known {
        Some(sum) => sum,
        None => {
            let sum = checksum(path)?;
            KNOWN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get_or_insert_with(HashMap::new)
                .insert(key, sum.clone());
            sum
        }
    };
    Ok(FileFingerprint {
        path: path.to_path_buf(),
        bytes: metadata.len(),
        fnv1a,
    })
}

/// FNV-1a 64 of the file's bytes (streamed), as 16 hex digits.
fn checksum(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut buffer = vec![0u8; 1 << 16];
    let mut hash = Fnv1a::new();
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|e| Error::io("reading", path, e))?;
        if read == 0 {
            return Ok(format!("{:016x}", hash.finish()));
        }
        hash.update(&buffer[..read]);
    }
}

/// Compares the data a run read before (`saved`) with what it reads now (`current`) by content
/// alone: files may have moved or been renamed, but the same contents must be there.
///
/// # Errors
/// A message naming the files whose contents are new, and those no longer read.
pub fn compare(
    saved: &[FileFingerprint],
    current: &[FileFingerprint],
) -> std::result::Result<(), String> {
    let content = |f: &FileFingerprint| (f.bytes, f.fnv1a.clone());
    let saved_contents: BTreeSet<_> = saved.iter().map(content).collect();
    let current_contents: BTreeSet<_> = current.iter().map(content).collect();
    let changed: Vec<String> = current
        .iter()
        .filter(|f| !saved_contents.contains(&content(f)))
        .map(|f| format!("{} ({} bytes)", f.path.display(), f.bytes))
        .collect();
    let gone: Vec<String> = saved
        .iter()
        .filter(|f| !current_contents.contains(&content(f)))
        .map(|f| format!("{} ({} bytes)", f.path.display(), f.bytes))
        .collect();
    if changed.is_empty() && gone.is_empty() {
        return Ok(());
    }
    let mut message = String::from("the data differs from what the run was trained on:");
    if !changed.is_empty() {
        message.push_str(&format!(
            " now read with other contents: {};",
            changed.join(", ")
        ));
    }
    if !gone.is_empty() {
        message.push_str(&format!(" read before, not found now: {}", gone.join(", ")));
    }
    Err(message.trim_end_matches(';').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Encoding, read_lines};

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "kindling-fingerprint-{name}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_recording_sees_the_files_opened_on_its_thread_while_it_lives() {
        let dir = dir("record");
        let (a, b) = (dir.join("a.txt"), dir.join("b.txt"));
        std::fs::write(&a, "x\n").unwrap();
        std::fs::write(&b, "y\n").unwrap();
        read_lines(&a, Encoding::Utf8).unwrap();
        let outer = Recording::start();
        read_lines(&b, Encoding::Utf8).unwrap();
        let inner = Recording::start();
        read_lines(&a, Encoding::Utf8).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| read_lines(&b, Encoding::Utf8).unwrap());
        });
        assert_eq!(outer.files(), vec![a.clone(), b.clone()]);
        assert_eq!(inner.files(), vec![a]);
    }

    #[test]
    fn contents_decide_not_paths() {
        let dir = dir("compare");
        let (a, moved) = (dir.join("train.txt"), dir.join("moved.txt"));
        std::fs::write(&a, "the cat sat\n").unwrap();
        let before = fingerprint(std::slice::from_ref(&a)).unwrap();
        assert_eq!(before[0].bytes, 12);
        std::fs::copy(&a, &moved).unwrap();
        let after = fingerprint(std::slice::from_ref(&moved)).unwrap();
        assert_eq!(compare(&before, &after), Ok(()));

        // Same size, one byte changed: the checksum tells.
        std::fs::write(&moved, "the rat sat\n").unwrap();
        let edited = fingerprint(std::slice::from_ref(&moved)).unwrap();
        assert_eq!(edited[0].bytes, 12);
        let message = compare(&before, &edited).unwrap_err();
        assert!(message.contains("moved.txt (12 bytes)"), "{message}");
        assert!(message.contains("train.txt"), "{message}");
    }

    #[test]
    fn the_checksum_is_fnv1a_of_the_whole_file() {
        let dir = dir("sum");
        let path = dir.join("big.bin");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let print = fingerprint(std::slice::from_ref(&path)).unwrap();
        assert_eq!(
            print[0].fnv1a,
            format!("{:016x}", kindling_io::fnv::fnv1a(&bytes))
        );
    }
}
