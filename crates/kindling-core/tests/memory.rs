//! `keep_freed_memory` in a process of its own (its settings are process-wide), on the main
//! thread (no test harness: the settings are for a program's main thread and the threads it
//! starts afterwards).

/// Minor page faults of this process so far (field 10 of `/proc/self/stat`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let after_name = &stat[stat.rfind(')').expect("closing parenthesis") + 2..];
    after_name
        .split(' ')
        .nth(7)
        .expect("field 10")
        .parse()
        .expect("a count")
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn main() {
    a_freed_large_block_is_reused_without_new_page_faults();
    println!("test a_freed_large_block_is_reused_without_new_page_faults ... ok");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() {
    assert!(!kindling_core::memory::keep_freed_memory());
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn a_freed_large_block_is_reused_without_new_page_faults() {
    const BYTES: usize = 96 << 20;
    const PAGES: u64 = (BYTES / 4096) as u64;
    let touch = || {
        let block = vec![1u8; BYTES];
        std::hint::black_box(&block);
    };
    // Default glibc: a block this size is a fresh mapping each time, one fault per page (per
    // 2 MB page where the kernel backs it with transparent huge pages: 48 then).
    touch();
    let before = minor_faults();
    touch();
    let default_faults = minor_faults() - before;
    assert!(
        default_faults >= 40,
        "{default_faults} faults for {PAGES} pages"
    );

    assert!(kindling_core::memory::keep_freed_memory());
    touch();
    let before = minor_faults();
    touch();
    let kept_faults = minor_faults() - before;
    assert!(
        kept_faults * 10 < default_faults,
        "{kept_faults} faults kept against {default_faults} by default"
    );
}
