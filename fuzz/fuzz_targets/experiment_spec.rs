//! Experiment files with `--set` overrides: arbitrary text as the TOML file, after leading
//! `--set` lines (`KEY=VALUE`, up to a line `---`), must parse into a checked experiment or give
//! an error naming the file, never panic; a spec that parses serialises, as a run's
//! `config.json` records it.

#![no_main]

use std::path::Path;

use kindling_experiments::overrides::Override;
use kindling_experiments::spec::ExperimentSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (sets, file) = match text.split_once("\n---\n") {
        Some((sets, file)) => (sets, file),
        None => ("", &text[..]),
    };
    let overrides: Vec<Override> = sets.lines().filter_map(|line| line.parse().ok()).collect();
    let path = Path::new("experiments/fuzz.toml");
    if let Ok(spec) = ExperimentSpec::parse_with(file, path, &overrides) {
        serde_json::to_string(&spec).expect("a checked experiment serialises");
    }
});
