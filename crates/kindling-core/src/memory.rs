//! How the process hands freed memory back to the operating system.
//!
//! A training step allocates and frees the same large buffers every time: a word language
//! model's `[tokens, vocabulary]` scores and their gradient are about 70 MB each. glibc's
//! `malloc` serves any request above 32 MB with a fresh `mmap` and unmaps it on `free`, so every
//! step touches those pages anew and the kernel zero-fills each one on first write: on the
//! Brown 2 × 200 LSTM language model that cost a third of the step (320 → 233 ms, 2 threads).
//! [`keep_freed_memory`] makes `malloc` take every block from its heap and keep what is freed
//! there for the next request. Peak memory is unchanged; what changes is that the process keeps
//! its peak until it exits.
//!
//! jemalloc does not help here: blocks above its `oversize_threshold` (8 MB) go to an arena that
//! purges them on `free`, with the same page faults (the language model ran at 3.3k tokens/s
//! under jemalloc, 6.1k under glibc with these settings; the text CNN at 3.2k and 5.0k
//! sentences/s).

/// The same settings for a child process that reads them at start-up (glibc's tunables), so that
/// a program compared against ours runs under the same allocator behaviour.
pub const GLIBC_TUNABLES: &str =
    "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647:glibc.malloc.arena_max=1";

/// Makes `malloc` keep freed memory for reuse instead of returning it to the system (see the
/// module docs). Returns whether the settings took effect: `false` off glibc (other C
/// libraries and allocators keep their own policies).
///
/// Call it first thing in `main`, before other threads start: glibc fixes how many heaps its
/// threads share when the second thread first allocates, and only the main heap can grow
/// without `mmap`, so the settings reach the threads started after this call.
pub fn keep_freed_memory() -> bool {
    imp::keep_freed_memory()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod imp {
    pub(super) fn keep_freed_memory() -> bool {
        // SAFETY: `mallopt` takes two integers and no pointers, so there is no memory for Rust
        // to reason about; glibc takes the allocator's locks itself, so calling it while other
        // threads allocate is allowed. The settings only choose where future blocks come from
        // (the one main heap, never `mmap`) and when the heap's free top is returned to the
        // system (never); blocks already handed out are not touched.
        unsafe {
            libc::mallopt(libc::M_MMAP_MAX, 0) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
                && libc::mallopt(libc::M_ARENA_MAX, 1) == 1
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub(super) fn keep_freed_memory() -> bool {
        false
    }
}
