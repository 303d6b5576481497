//! Model-level tests: a toy task each decoder must learn, greedy against beam search, and the
//! attention rows greedy search returns.

use kindling_core::BackendKind;
use kindling_core::burn::module::Module;
use kindling_core::burn::tensor::{Device, Tensor};
use kindling_core::optim::OptimizerConfig;
use kindling_core::schedule::Goal;
use kindling_core::seed::{SeededRng, build_seeded};
use kindling_core::train::{Batcher, TrainConfig, Trainer};
use kindling_rnn::{CellKind, EncoderConfig};

use crate::attention::AttentionKind;
use crate::batch::{PairBatcher, PairExample};
use crate::model::{Seq2Seq, Seq2SeqConfig};
use crate::search::{SearchConfig, Sources, beam_search, greedy};

const PAD: u32 = 0;
const BOS: u32 = 1;
const EOS: u32 = 2;
const VOCAB: usize = 12;

fn device() -> Device {
    BackendKind::Flex.device().unwrap()
}

fn config(attention: AttentionKind) -> Seq2SeqConfig {
    Seq2SeqConfig {
        embedding: 16,
        encoder: EncoderConfig::new(CellKind::Gru, 16).with_bidirectional(true),
        decoder_hidden: 32,
        attention,
        attention_size: None,
        dropout: 0.0,
        label_smoothing: 0.0,
        teacher_forcing: 1.0,
        seed: 3,
    }
}

/// Sequences of 2–6 symbols from 3..VOCAB whose target is the source reversed.
fn reversal(n: usize, seed: u64) -> Vec<PairExample> {
    let mut rng = SeededRng::new(seed);
    (0..n)
        .map(|_| {
            let len = 2 + rng.below(5) as usize;
            let symbols: Vec<u32> = (0..len)
                .map(|_| 3 + rng.below(VOCAB as u64 - 3) as u32)
                .collect();
            let mut source = symbols.clone();
            source.push(EOS);
            PairExample {
                source,
                target: symbols.into_iter().rev().collect(),
            }
        })
        .collect()
}

fn batcher() -> PairBatcher {
    PairBatcher {
        pad: PAD,
        bos: BOS,
        eos: EOS,
        bucket_pool: Some(4),
    }
}

fn sources(examples: &[PairExample], device: &Device) -> Sources {
    let batch = batcher().batch(examples, device);
    Sources {
        ids: batch.source,
        padding: batch.source_padding,
        lengths: batch.source_lengths,
    }
}

/// Adam at 0.01, keeping the epoch of the lowest dev perplexity.
fn adam_until_dev_perplexity(epochs: usize, batch_size: usize, seed: u64) -> TrainConfig {
    TrainConfig {
        monitor: kindling_core::metrics::Metric::Perplexity,
        goal: Goal::Min,
        ..TrainConfig::new(epochs, batch_size, seed, OptimizerConfig::adam(0.01))
    }
}

fn train(attention: AttentionKind, epochs: usize) -> (Seq2Seq, Vec<PairExample>) {
    let device = device().autodiff();
    let train = reversal(1500, 1);
    let dev = reversal(100, 2);
    let model = build_seeded(&device, 5, || {
        config(attention).init(VOCAB, VOCAB, &device).unwrap()
    });
    let trained = Trainer::new(adam_until_dev_perplexity(epochs, 32, 7), &device)
        .unwrap()
        .with_progress(false)
        .fit(model, &batcher(), &train, Some(&dev))
        .unwrap();
    (trained.best_model.valid(), dev)
}

fn exact_share(model: &Seq2Seq, dev: &[PairExample], beam: Option<usize>) -> f64 {
    let device = device();
    let search = SearchConfig::new(BOS, EOS);
    let outputs = match beam {
        None => greedy(model, &sources(dev, &device), &search).unwrap(),
        Some(width) => beam_search(model, &sources(dev, &device), &search, width).unwrap(),
    };
    let right = outputs
        .iter()
        .zip(dev)
        .filter(|(out, example)| out.tokens == example.target)
        .count();
    right as f64 / dev.len() as f64
}

#[test]
fn every_decoder_learns_to_reverse_sequences() {
    for (attention, epochs, at_least) in [
        (AttentionKind::Bahdanau, 6, 0.9),
        (AttentionKind::LuongGeneral, 8, 0.9),
        (AttentionKind::None, 6, 0.5),
    ] {
        let (model, dev) = train(attention, epochs);
        let greedy_share = exact_share(&model, &dev, None);
        assert!(greedy_share >= at_least, "{attention:?}: {greedy_share}");
        let beam_share = exact_share(&model, &dev, Some(4));
        assert!(
            beam_share >= greedy_share - 0.05,
            "{attention:?}: beam {beam_share} vs greedy {greedy_share}"
        );
        assert_eq!(exact_share(&model, &dev, Some(1)), greedy_share);
        let below = outputs_scoring_below_greedy(&model, &dev, 4);
        assert!(
            below <= 1,
            "{attention:?}: {below} beam outputs score below greedy's"
        );
    }
}

/// How many of beam search's outputs (width `width`, no length normalisation) have a lower
/// log-probability than greedy search's. Beam search keeps the greedy output's prefix unless
/// `width` others beat it, and stops only when no live output can overtake the best finished
/// one, so this is at most a rare eviction.
fn outputs_scoring_below_greedy(model: &Seq2Seq, dev: &[PairExample], width: usize) -> usize {
    let device = device();
    let search = SearchConfig {
        length_penalty: 0.0,
        ..SearchConfig::new(BOS, EOS)
    };
    let sources = sources(dev, &device);
    let greedy = greedy(model, &sources, &search).unwrap();
    let beam = beam_search(model, &sources, &search, width).unwrap();
    greedy
        .iter()
        .zip(&beam)
        .filter(|(g, b)| b.log_probability < g.log_probability - 1e-4)
        .count()
}

#[test]
fn beam_of_one_equals_greedy_search() {
    let device = device();
    let examples = reversal(40, 9);
    for attention in [
        AttentionKind::None,
        AttentionKind::Bahdanau,
        AttentionKind::LuongDot,
    ] {
        let mut config = config(attention);
        if attention == AttentionKind::LuongDot {
            config.decoder_hidden = 32;
        }
        let model = build_seeded(&device, 11, || config.init(VOCAB, VOCAB, &device).unwrap());
        let search = SearchConfig {
            max_len_b: 3,
            ..SearchConfig::new(BOS, EOS)
        };
        let sources = sources(&examples, &device);
        let greedy = greedy(&model, &sources, &search).unwrap();
        let beam = beam_search(&model, &sources, &search, 1).unwrap();
        for (g, b) in greedy.iter().zip(&beam) {
            assert_eq!(g.tokens, b.tokens, "{attention:?}");
            assert!((g.log_probability - b.log_probability).abs() < 1e-6);
        }
        assert!(greedy.iter().any(|g| !g.tokens.is_empty()));
    }
}

#[test]
fn greedy_attention_rows_cover_the_real_source_and_sum_to_one() {
    let device = device();
    let examples = reversal(8, 4);
    let model = build_seeded(&device, 2, || {
        config(AttentionKind::Bahdanau)
            .init(VOCAB, VOCAB, &device)
            .unwrap()
    });
    let outputs = greedy(
        &model,
        &sources(&examples, &device),
        &SearchConfig::new(BOS, EOS),
    )
    .unwrap();
    for (out, example) in outputs.iter().zip(&examples) {
        assert_eq!(
            out.attention.len(),
            out.tokens.len() + usize::from(out.tokens.len() < 2 * example.source.len() + 10)
        );
        for row in &out.attention {
            assert_eq!(row.len(), example.source.len());
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
    }
}

#[test]
fn label_smoothing_changes_the_loss_but_not_the_likelihood() {
    let device = device();
    let examples = reversal(16, 5);
    let batch = batcher().batch(&examples, &device);
    let plain = build_seeded(&device, 1, || {
        config(AttentionKind::Bahdanau)
            .init(VOCAB, VOCAB, &device)
            .unwrap()
    });
    let smoothed = build_seeded(&device, 1, || {
        Seq2SeqConfig {
            label_smoothing: 0.1,
            ..config(AttentionKind::Bahdanau)
        }
        .init(VOCAB, VOCAB, &device)
        .unwrap()
    });
    let (plain_loss, plain_nll) = plain.loss(&batch).unwrap();
    let (smooth_loss, smooth_nll) = smoothed.loss(&batch).unwrap();
    assert!((plain_nll - smooth_nll).abs() < 1e-6 * plain_nll.abs());
    let scalar = |t: Tensor<1>| f64::from(t.into_scalar::<f32>());
    assert!((scalar(plain_loss) - scalar(smooth_loss)).abs() > 1e-4);
}

#[test]
fn a_saved_run_translates_like_the_trained_model() {
    use crate::decode::DecodeSettings;
    use crate::saved::{SavedSeq2Seq, Segmenter, Translator, save_seq2seq};
    use crate::vocab::PairVocabularies;

    let plain = device();
    let device = plain.clone().autodiff();
    let dir = std::env::temp_dir().join(format!("kindling-seq2seq-saved-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Letters reversed, through the library's vocabularies and pair encoding.
    let words = ["abc", "bca", "cab", "acb", "bac", "cba", "aab", "bba"];
    let segmenter = Segmenter::Characters { lowercase: true };
    let token_pairs: Vec<(Vec<String>, Vec<String>)> = words
        .iter()
        .map(|word| {
            let letters = segmenter.tokens(word);
            let reversed = letters.iter().rev().cloned().collect();
            (letters, reversed)
        })
        .collect();
    let vocabularies =
        PairVocabularies::build(token_pairs.iter().map(|(s, t)| (&s[..], &t[..])), 1);
    let pairs: Vec<PairExample> = token_pairs
        .iter()
        .cycle()
        .take(64)
        .map(|(source, target)| vocabularies.encode_pair(source, target).unwrap())
        .collect();
    let config = config(AttentionKind::Bahdanau);
    let (source_len, target_len) = (vocabularies.source().len(), vocabularies.target().len());
    let model = build_seeded(&device, 1, || {
        config.init(source_len, target_len, &device).unwrap()
    });
    let trained = Trainer::new(adam_until_dev_perplexity(2, 16, 1), &device)
        .unwrap()
        .with_output(&dir)
        .with_progress(false)
        .fit(
            model,
            &vocabularies.batcher(None),
            &pairs,
            Some(&pairs[..8]),
        )
        .unwrap();
    let saved_settings = DecodeSettings::default().greedy();
    save_seq2seq(
        &dir,
        &SavedSeq2Seq {
            model: &config,
            segmenter,
            subwords: None,
            vocabularies: &vocabularies,
            decode: &saved_settings,
        },
    )
    .unwrap();
    let translator = Translator::load(&dir, &plain).unwrap();
    assert_eq!(translator.decode_settings(), &saved_settings);
    assert_eq!(translator.vocabularies(), &vocabularies);
    let texts = ["ABC", "cab", "bb"];
    let loaded = translator.translate(&texts).unwrap();
    let encoded: Vec<PairExample> = texts
        .iter()
        .map(|t| PairExample {
            source: translator.encode_source(t).unwrap(),
            target: vec![],
        })
        .collect();
    let search = vocabularies.search();
    let direct = greedy(
        &trained.best_model.valid(),
        &sources(&encoded, &plain),
        &search,
    )
    .unwrap();
    let direct: Vec<String> = direct
        .iter()
        .map(|h| translator.target_text(&h.tokens).unwrap())
        .collect();
    assert_eq!(loaded, direct);

    // n-best: up to 3 different outputs per source, the first the one beam search keeps.
    let nbest = translator
        .translate_nbest(
            &texts,
            &DecodeSettings {
                nbest: 3,
                ..DecodeSettings::default()
            },
        )
        .unwrap();
    let beam5 = translator
        .translate_nbest(&texts, &DecodeSettings::default())
        .unwrap();
    for (outputs, best) in nbest.iter().zip(&beam5) {
        assert!((1..=3).contains(&outputs.len()));
        assert_eq!(best.len(), 1);
        assert_eq!(outputs[0], best[0]);
        for (i, a) in outputs.iter().enumerate() {
            assert!(
                outputs[i + 1..].iter().all(|b| b.text != a.text),
                "{outputs:?}"
            );
        }
    }
    assert!(nbest.iter().any(|outputs| outputs.len() > 1));
    let too_wide = translator.translate_nbest(
        &texts,
        &DecodeSettings::default().with_beam(10_000_000_000_000),
    );
    assert!(matches!(
        too_wide,
        Err(crate::Error::InvalidConfig { field: "beam", .. })
    ));
    assert!(Translator::load(&dir.join("missing"), &plain).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}
