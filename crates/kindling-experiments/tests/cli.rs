//! Values typed on the command line are range-checked before any work: each bad value is an
//! error naming the flag and the allowed range, with exit status 1, never a panic or an abort.

use std::process::Command;

/// Runs the runner with `args`; returns its exit code and standard error.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kindling-experiments"))
        .args(args)
        .output()
        .expect("the runner starts");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn out_of_range_values_are_errors_naming_the_flag() {
    // The run folder does not exist: each value must be refused before it is looked at.
    let run_dir = "/nonexistent/kindling-run";
    let cases: [(&[&str], &str); 9] = [
        (
            &["translate", run_dir, "--beam", "10000000000000"],
            "--beam: must be in 1..=1024",
        ),
        (
            &["pronounce", run_dir, "--beam", "0"],
            "--beam: must be in 1..=1024",
        ),
        (
            &["translate", run_dir, "--max-len-a", "inf"],
            "--max-len-a: must be in [0, 1000]",
        ),
        (&["translate", run_dir, "--max-len-a", "NaN"], "--max-len-a"),
        (
            &["translate", run_dir, "--length-penalty=-1"],
            "--length-penalty",
        ),
        (&["translate", run_dir, "--batch-size", "0"], "--batch-size"),
        (&["translate", run_dir, "--nbest", "5000"], "--nbest"),
        (
            &["generate", run_dir, "--words", "10000000000000"],
            "--words: must be at most",
        ),
        (
            &["generate", run_dir, "--temperature", "1e-300"],
            "--temperature: must be in",
        ),
    ];
    for (args, expected) in cases {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected `{expected}` in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_missing_run_folder_is_an_error_naming_it() {
    let (code, stderr) = run(&["translate", "/nonexistent/kindling-run", "hallo"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("/nonexistent/kindling-run"), "{stderr}");
}
