//! Corpus BLEU and chrF equal sacreBLEU's (2.5.1, default settings) on the cases of
//! `data/scoring_cases.json`; `data/sacrebleu_scores.py` printed the pasted numbers.

use kindling_seq2seq::score::{corpus_bleu, corpus_chrf};

/// `(case, BLEU, chrF)` as sacreBLEU printed them.
const SACREBLEU: [(&str, f64, f64); 7] = [
    ("captions", 91.8941688899249, 95.2713073442154),
    ("short-hypotheses", 18.53316074622875, 36.77527719372053),
    ("no-long-matches", 0.0, 27.964858872760125),
    ("smoothed-orders", 13.235982096417468, 47.900953169014),
    (
        "punctuation-and-numbers",
        84.23163970721458,
        81.83427091744309,
    ),
    (
        "longer-hypotheses-and-unicode",
        55.41614277409342,
        90.82354016184195,
    ),
    (
        "an-empty-hypothesis",
        23.462487683180832,
        44.670436551597284,
    ),
];

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    hypotheses: Vec<String>,
    references: Vec<String>,
}

#[test]
fn bleu_and_chrf_equal_sacrebleu() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/scoring_cases.json");
    let cases: Vec<Case> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(cases.len(), SACREBLEU.len());
    for (case, (name, bleu, chrf)) in cases.iter().zip(SACREBLEU) {
        assert_eq!(case.name, name);
        let ours = corpus_bleu(&case.hypotheses, &case.references).unwrap();
        assert!(
            (ours.score - bleu).abs() < 1e-9,
            "{name}: BLEU {} vs sacreBLEU {bleu}: {ours:?}",
            ours.score
        );
        let ours = corpus_chrf(&case.hypotheses, &case.references).unwrap();
        assert!(
            (ours.score - chrf).abs() < 1e-9,
            "{name}: chrF {} vs sacreBLEU {chrf}: {ours:?}",
            ours.score
        );
    }
}
