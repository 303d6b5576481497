//! Loading a saved run of each model family (`Classifier`, `SavedTagger`, `SavedLanguageModel`,
//! `Translator`) with one of its files replaced by arbitrary bytes, then using it: `Ok` and a
//! working model, or an error, never a panic or an allocation the files merely claim.
//!
//! Input: byte 0 picks the family, byte 1 the file of its run folder; the rest is the file's
//! new contents. The folders are small valid runs (untrained weights) made once per process.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kindling_core::BackendKind;
use kindling_core::burn::module::Module;
use kindling_core::burn::tensor::Device;
use kindling_core::checkpoint::Checkpoint;
use kindling_core::optim::OptimizerConfig;
use kindling_core::train::files;
use kindling_data::tokenize::KimClean;
use kindling_data::{LabelSet, TokenCounts, Vocab, VocabConfig};
use kindling_rnn::saved::{SavedLanguageModel, SavedTagger, TextPreparation};
use kindling_rnn::{CellKind, EncoderConfig, LanguageModelConfig, TaggerConfig};
use kindling_seq2seq::subword::Subwords;
use kindling_seq2seq::{
    AttentionKind, DecodeSettings, PairVocabularies, SavedSeq2Seq, Segmenter, Seq2SeqConfig,
    Translator,
};
use kindling_textcnn::{Channels, Classifier, ClassifierConfig, TextCnnConfig};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const FAMILIES: [&str; 4] = ["classifier", "tagger", "language-model", "translator"];

fn vocab(words: &[&str]) -> Vocab {
    let mut counts = TokenCounts::new();
    for word in words {
        counts.add(word);
    }
    Vocab::build(
        &counts,
        &VocabConfig::default(),
    )
}

/// Writes `model` as the run's `best.ckpt`.
fn save_weights<M: Module>(dir: &Path, model: &M) {
    let optimizer = OptimizerConfig::adam(0.01)
    .init()
    .unwrap();
    Checkpoint::capture(model, &optimizer, json!({}), json!({}))
        .unwrap()
        .save(&dir.join(files::BEST))
        .unwrap();
}

fn make_runs(root: &Path, device: &Device) {
    let words = ["the", "cat", "sat", "a", "dog"];

    let dir = root.join(FAMILIES[0]);
    std::fs::create_dir_all(&dir).unwrap();
    let cnn = TextCnnConfig::new(4)
        .with_channels(Channels::Rand)
        .with_filter_widths(vec![1, 2])
        .with_feature_maps(3);
    let vocabulary = vocab(&words);
    save_weights(&dir, &cnn.init(vocabulary.len(), 2, device).unwrap());
    let labels = LabelSet::new(["neg", "pos"]).unwrap();
    kindling_textcnn::save_classifier(
        &dir,
        &ClassifierConfig::Cnn(cnn),
        &labels,
        &KimClean { lowercase: true },
        &vocabulary,
    )
    .unwrap();

    let dir = root.join(FAMILIES[1]);
    std::fs::create_dir_all(&dir).unwrap();
    let tagger = TaggerConfig::new(4, EncoderConfig::new(CellKind::Lstm, 3).with_bidirectional(true));
    save_weights(&dir, &tagger.init(vocabulary.len(), 2, device).unwrap());
    kindling_rnn::saved::save_tagger(
        &dir,
        &tagger,
        TextPreparation::words(true),
        &["DET".to_string(), "NOUN".to_string()],
        &vocabulary,
    )
    .unwrap();

    let dir = root.join(FAMILIES[2]);
    std::fs::create_dir_all(&dir).unwrap();
    let characters = vocab(&["a", "b", "c", "▁", "<eos>"]);
    let lm = LanguageModelConfig::new(4, 4);
    save_weights(&dir, &lm.init(characters.len(), device).unwrap());
    kindling_rnn::saved::save_language_model(
        &dir,
        &lm,
        TextPreparation::characters(true),
        &characters,
    )
    .unwrap();

    let dir = root.join(FAMILIES[3]);
    std::fs::create_dir_all(&dir).unwrap();
    let lines = ["a b c", "c b a", "b a c"];
    let subwords = Subwords::train(lines.iter(), 8, 1).unwrap();
    let tokens: Vec<Vec<String>> = lines
        .iter()
        .map(|l| l.split(' ').map(str::to_string).collect())
        .collect();
    let vocabularies =
        PairVocabularies::build(tokens.iter().map(|t| (&t[..], &t[..])), 1);
    let seq2seq = Seq2SeqConfig {
        embedding: 4,
        encoder: EncoderConfig::new(CellKind::Gru, 3).with_bidirectional(true),
        decoder_hidden: 4,
        attention: AttentionKind::Bahdanau,
        attention_size: None,
        dropout: 0.0,
        label_smoothing: 0.0,
        teacher_forcing: 1.0,
        seed: 1,
    };
    save_weights(
        &dir,
        &seq2seq
            .init(vocabularies.source().len(), vocabularies.target().len(), device)
            .unwrap(),
    );
    kindling_seq2seq::save_seq2seq(
        &dir,
        &SavedSeq2Seq {
            model: &seq2seq,
            segmenter: Segmenter::Words { lowercase: true },
            subwords: Some(&subwords),
            vocabularies: &vocabularies,
            decode: &DecodeSettings::default().with_beam(2),
        },
    )
    .unwrap();
}

struct Runs {
    template: PathBuf,
    work: PathBuf,
    device: Device,
}

fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        // burn's record parsing panics on some malformed sections, and kindling turns those
        // panics into errors: this hook reports each in one line without aborting (libFuzzer's
        // aborts even on a caught panic); a panic that escapes still fails the run.
        std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
        let root = std::env::temp_dir().join(format!("kindling-fuzz-runs-{}", std::process::id()));
        let device = BackendKind::Flex.device().unwrap();
        make_runs(&root.join("template"), &device);
        Runs {
            template: root.join("template"),
            work: root.join("work"),
            device,
        }
    })
}

fn files_of(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Loads the run of `family` in `dir` and uses it; errors are fine, panics are not.
fn load_and_use(family: &str, dir: &Path, device: &Device) {
    match family {
        "classifier" => {
            if let Ok(model) = Classifier::load(dir, device) {
                let _ = model.classify(&["the cat sat", "", "unseen words here"]);
            }
        }
        "tagger" => {
            if let Ok(model) = SavedTagger::load(dir, device) {
                let _ = model.tag_text(&["the cat", "x"]);
            }
        }
        "language-model" => {
            if let Ok(model) = SavedLanguageModel::load(dir, device) {
                let _ = model.continue_text("ab", 3, 1.0, 1);
                let _ = model.perplexity(&["abc", "cab"], 2);
            }
        }
        _ => {
            if let Ok(model) = Translator::load(dir, device) {
                let _ = model.translate(&["a b", "c"]);
                let _ = model.translate_nbest(&["b a"], &DecodeSettings::default().with_beam(2));
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [family, file, contents @ ..] = data else {
        return;
    };
    let runs = runs();
    let family = FAMILIES[usize::from(*family) % FAMILIES.len()];
    let template = runs.template.join(family);
    let work = runs.work.join(family);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let originals = files_of(&template);
    for original in &originals {
        std::fs::copy(original, work.join(original.file_name().unwrap())).unwrap();
    }
    let replaced = &originals[usize::from(*file) % originals.len()];
    std::fs::write(work.join(replaced.file_name().unwrap()), contents).unwrap();
    load_and_use(family, &work, &runs.device);
});
