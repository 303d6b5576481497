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

/// Runs the runner with `args`; returns its exit code, standard output and standard error.
fn run_out(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kindling-experiments"))
        .args(args)
        .output()
        .expect("the runner starts");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn word_vectors_answer_queries_and_convert_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("kindling-cli-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tiny.vec");
    std::fs::write(
        &file,
        "4 2\nking 1 0.1\nqueen 0.9 0.3\nman 0.2 -1\nwoman 0.1 -0.8\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let (code, out, err) = run_out(&["vectors", file, "nn", "king", "-k", "2"]);
    assert_eq!(code, Some(0), "{err}");
    let first: Vec<&str> = out.lines().next().unwrap().split('\t').collect();
    assert_eq!(first[0], "queen", "{out}");

    let (code, out, err) = run_out(&["vectors", file, "similarity", "king", "king"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "1.0000");

    let (code, out, err) = run_out(&["vectors", file, "print", "man", "woman"]);
    assert_eq!(code, Some(0), "{err}");
    // Each value as the shortest decimal that reads back as the same float.
    assert_eq!(out, "man 0.2 -1\nwoman 0.1 -0.8\n");

    let (code, out, err) = run_out(&[
        "vectors", file, "analogy", "man", "king", "woman", "-k", "1",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("queen\t"), "{out}");

    // Unknown words, bad -k and a file that is not vectors: errors, never panics.
    let (code, _, err) = run_out(&["vectors", file, "nn", "prince"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("prince"), "{err}");
    let (code, _, err) = run_out(&["vectors", file, "nn", "king", "-k", "0"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("-k: must be in 1..="), "{err}");

    // Converted to binary and back, the vectors are the same.
    let bin = dir.join("tiny.bin");
    let (code, _, err) = run_out(&["vectors", file, "convert", bin.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let (_, out, err) = run_out(&["vectors", bin.to_str().unwrap(), "print", "queen"]);
    assert_eq!(out, "queen 0.9 0.3\n", "{err}");

    // Vectors alone cannot become a fastText model; a fastText model gives unknown words
    // vectors and converts to one again.
    let again = dir.join("again.bin");
    let (code, _, err) = run_out(&[
        "vectors",
        file,
        "convert",
        again.to_str().unwrap(),
        "--format",
        "fasttext",
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("needs a subword model"), "{err}");
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../kindling-embed/tests/data/fasttext-skipgram.bin"
    );
    let (code, out, err) = run_out(&["vectors", model, "print", "kätzchen"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.split_whitespace().count(), 9, "{out}");
    let copy = dir.join("copy.bin");
    let (code, _, err) = run_out(&[
        "vectors",
        model,
        "convert",
        copy.to_str().unwrap(),
        "--format",
        "fasttext",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (_, again, _) = run_out(&["vectors", copy.to_str().unwrap(), "print", "kätzchen"]);
    assert_eq!(again, out);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn score_prints_sacrebleu_style_bleu_and_chrf() {
    let dir = std::env::temp_dir().join(format!("kindling-cli-score-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (reference, hypothesis) = (dir.join("ref.txt"), dir.join("hyp.txt"));
    std::fs::write(
        &reference,
        "the cat sat on the mat .\nit is raining today .\n",
    )
    .unwrap();
    std::fs::write(&hypothesis, "the cat sat on a mat .\nit rains today .\n").unwrap();
    let expected = kindling_seq2seq::score::corpus_bleu(
        &["the cat sat on a mat .", "it rains today ."],
        &["the cat sat on the mat .", "it is raining today ."],
    )
    .unwrap();
    let (code, out, err) = run_out(&[
        "score",
        "--ref",
        reference.to_str().unwrap(),
        "--hyp",
        hypothesis.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!("BLEU = {:.2} ", expected.score)),
        "{out}"
    );
    assert!(lines[1].starts_with("chrF2 = "), "{out}");
    std::fs::write(&hypothesis, "one line only\n").unwrap();
    let (code, _, err) = run_out(&[
        "score",
        "--ref",
        reference.to_str().unwrap(),
        "--hyp",
        hypothesis.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--hyp: 1 lines") && err.contains("has 2"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
