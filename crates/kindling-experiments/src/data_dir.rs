//! Where datasets live: `--data DIR`, else `KINDLING_DATA`, else `../shared/data` when it
//! exists, else `./data`.

use std::path::PathBuf;

/// Environment variable naming the data directory.
pub const DATA_ENV: &str = "KINDLING_DATA";

/// Resolves the data directory from an explicit flag, the environment and the defaults.
pub fn resolve(flag: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = flag {
        return dir;
    }
    if let Some(dir) = std::env::var_os(DATA_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let shared = PathBuf::from("../shared/data");
    if shared.is_dir() {
        shared
    } else {
        PathBuf::from("data")
    }
}
