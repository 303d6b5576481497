//! The attention encoder–decoder next to the same model in PyTorch: training sentences per
//! second and beam-search decoding sentences per second, on Multi30k German→English.
//!
//! The model is the one of a finished `seq2seq-multi30k-de-en-bahdanau` run (its settings,
//! vocabularies and trained weights are read from the run's folder): a bidirectional GRU
//! encoder, a GRU decoder with additive attention, dropout on the word vectors and before the
//! output layer. PyTorch runs it the way its users write it: `nn.GRU` over packed sequences
//! for the encoder, an `nn.GRUCell` step loop for the decoder, the output layer applied to the
//! real target positions only (kindling does the same).
//!
//! - **Training.** A fresh model of the run's settings, initialised by kindling and handed to
//!   PyTorch ([`super::start_weights`]), trains on the first [`Settings::train_batches`]
//!   length-bucketed batches of a seeded epoch plan, the same batches in the same order for
//!   both, with Adam 10⁻³ and gradients clipped to norm 1. Both report the dev perplexity
//!   afterwards: equal up to rounding and dropout draws when they computed the same function.
//! - **Decoding.** The run's trained weights, in both tools, beam-search the test sources in
//!   the same batches (sorted by length, [`Settings::decode_batch`] at a time) with the same
//!   rule (the `2k` best continuations of each beam, per-token length normalisation, at most
//!   `2 · source length + 10` tokens). Kindling scores both tools' outputs with the same BLEU,
//!   and counts the sentences where the outputs are identical.
//!
//! Training time is the training loop only (kindling's trainer time includes preparing the
//! batches; PyTorch's loop starts from tensors built before its clock); decoding time covers
//! the search over every batch, not the scoring.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use kindling_core::burn::tensor::Device;
use kindling_core::optim::{GradientClip, OptimizerConfig};
use kindling_core::schedule::Goal;
use kindling_core::seed::{SeededRng, try_build_seeded};
use kindling_core::train::{Batcher, TrainConfig, Trainer, evaluate};
use kindling_data::DataDir;
use kindling_data::Encoding;
use kindling_data::read::parallel::{SentencePair, read_parallel};
use kindling_seq2seq::score::corpus_bleu;
use kindling_seq2seq::{
    AttentionKind, DecodeSettings, PairBatch, PairBatcher, PairExample, Seq2SeqConfig, Translator,
    decode_batches,
};
use serde::Serialize;

use super::start_weights::{self, Parameter, TorchName, TorchTensor, torch_lstm_name};
use super::{torch_number as number, torch_tool, write_text};
use crate::{Error, Result};
use kindling_experiments::tasks::TranslationOptions;

const SCRIPT: &str = concat!(
    include_str!("torch_common.py"),
    include_str!("torch_seq2seq.py")
);

/// What to run.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// The finished Bahdanau run whose settings, vocabularies and weights are used.
    pub run: PathBuf,
    /// Training batches per seed (from the start of a seeded epoch plan).
    pub train_batches: usize,
    /// Pairs per training batch.
    pub batch_size: usize,
    /// Beam width of the decoding comparison.
    pub beam: usize,
    /// Test sources decoded together.
    pub decode_batch: usize,
    /// Decode only the first this many test sources (default all).
    pub test_sentences: Option<usize>,
    /// Threads for PyTorch (kindling uses the machine's cores; run on a machine with this
    /// many).
    pub threads: usize,
    /// Seeds of the training comparison (batch plan, initial weights, dropout).
    pub seeds: Vec<u64>,
    /// Where the data files for PyTorch go.
    pub work_dir: PathBuf,
}

/// One tool's training on one seed.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSide {
    /// Which tool.
    pub tool: String,
    /// Training pairs per second.
    pub pairs_per_second: f64,
    /// Seconds of training.
    pub seconds: f64,
    /// Dev perplexity per target token (`</s>` included) of the initial weights (no dropout):
    /// the same in both tools when they compute the same function.
    pub start_dev_perplexity: f64,
    /// Dev perplexity after the training batches.
    pub dev_perplexity: f64,
}

/// One tool's beam search over the test sources.
#[derive(Debug, Clone, Serialize)]
pub struct DecodeSide {
    /// Which tool.
    pub tool: String,
    /// Sources decoded per second.
    pub sentences_per_second: f64,
    /// Seconds of search.
    pub seconds: f64,
    /// Test BLEU of the outputs (sacreBLEU's defaults).
    pub bleu: f64,
}

/// Both tools, training on every seed and decoding once.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Per seed: kindling, then PyTorch when it ran.
    pub training: Vec<(u64, Vec<TrainSide>)>,
    /// Kindling, then PyTorch when it ran.
    pub decoding: Vec<DecodeSide>,
    /// Test sentences where both tools' outputs are the same tokens (when PyTorch ran).
    pub identical_outputs: Option<usize>,
    /// Test sentences decoded.
    pub test_sentences: usize,
    /// Pairs and target tokens (`</s>` included) of the training batches.
    pub train_pairs: usize,
    /// See `train_pairs`.
    pub train_target_tokens: usize,
    /// The model's settings.
    pub model: Seq2SeqConfig,
    /// Source and target vocabulary sizes.
    pub vocabularies: (usize, usize),
    /// Settings used.
    pub settings: Settings,
}

/// The run's model with a fixed list of batches: the trainer gets exactly these, in order.
struct FixedPlan {
    batcher: PairBatcher,
    plan: Vec<Vec<usize>>,
}

impl Batcher<PairExample> for FixedPlan {
    type Batch = PairBatch;

    fn batch(&self, items: &[PairExample], device: &Device) -> PairBatch {
        self.batcher.batch(items, device)
    }

    fn plan(&self, _: &[PairExample], _: usize, _: Option<&mut SeededRng>) -> Vec<Vec<usize>> {
        self.plan.clone()
    }
}

/// The Multi30k splits of the run, read through its vocabularies.
struct Corpus {
    train: Vec<PairExample>,
    dev: Vec<PairExample>,
    test_sources: Vec<Vec<u32>>,
    test_references: Vec<String>,
    options: TranslationOptions,
}

fn load_corpus(data: &DataDir, run: &Path, translator: &Translator) -> Result<Corpus> {
    let path = run.join("config.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Bench(format!("reading {}: {e}", path.display())))?;
    let config: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Bench(format!("{}: not a run config: {e}", path.display())))?;
    let options: TranslationOptions =
        serde_json::from_value(config["experiment"]["options"].clone()).map_err(|e| {
            Error::Bench(format!(
                "{}: not a translation run's config: {e}",
                path.display()
            ))
        })?;
    let files = |split: &str| -> Result<Vec<SentencePair>> {
        let (source, target) = options.data.paths(split, data.root());
        Ok(read_parallel(&source, &target, Encoding::Utf8)?)
    };
    let encode = |pairs: &[SentencePair]| -> Result<Vec<PairExample>> {
        pairs
            .iter()
            .map(|p| {
                Ok(PairExample {
                    source: translator.encode_source(&p.source)?,
                    target: translator.encode_target(&p.target)?,
                })
            })
            .collect()
    };
    let split = |files: &Option<String>, name: &str| {
        files.clone().ok_or_else(|| {
            Error::Bench(format!(
                "{}: the benchmark needs the run's {name} files, and this run had none",
                path.display()
            ))
        })
    };
    let test = files(&split(&options.data.test, "test")?)?;
    Ok(Corpus {
        train: encode(&files(&options.data.train)?)?,
        dev: encode(&files(&split(&options.data.dev, "dev")?)?)?,
        test_sources: test
            .iter()
            .map(|p| translator.encode_source(&p.source))
            .collect::<std::result::Result<_, _>>()?,
        test_references: test
            .iter()
            .map(|p| {
                if options.lowercase {
                    p.target.to_lowercase()
                } else {
                    p.target.clone()
                }
            })
            .collect(),
        options,
    })
}

/// Runs both comparisons.
///
/// # Errors
/// A run folder that is not a finished Bahdanau translation run, missing data, write
/// failures, or a PyTorch script that fails.
pub fn compare(
    data: &DataDir,
    device: &Device,
    python: &str,
    settings: &Settings,
) -> Result<Report> {
    if settings.seeds.is_empty() || settings.train_batches == 0 || settings.beam == 0 {
        return Err(Error::Bench(
            "needs a seed, a training batch and a beam of at least 1".into(),
        ));
    }
    std::fs::create_dir_all(&settings.work_dir)
        .map_err(|e| Error::Bench(format!("creating {}: {e}", settings.work_dir.display())))?;
    let translator = Translator::load(&settings.run, &device.clone().without_autodiff())
        .map_err(|e| {
            Error::Bench(format!(
                "{}: not a finished translation run ({e}); train one with `cargo xtask experiment seq2seq-multi30k-de-en-bahdanau`",
                settings.run.display()
            ))
        })?;
    let mut corpus = load_corpus(data, &settings.run, &translator)?;
    if let Some(n) = settings.test_sentences {
        corpus.test_sources.truncate(n);
        corpus.test_references.truncate(n);
    }
    let model_config = corpus.options.model.clone();
    if model_config.attention != AttentionKind::Bahdanau
        || model_config.encoder.layers != 1
        || !model_config.encoder.bidirectional
    {
        return Err(Error::Bench(format!(
            "{}: the comparison's PyTorch model is a one-layer bidirectional GRU with Bahdanau attention",
            settings.run.display()
        )));
    }
    let vocabularies = (
        translator.source_vocab().len(),
        translator.target_vocab().len(),
    );
    let batcher = translator
        .vocabularies()
        .batcher(corpus.options.bucket_pool);
    let header = format!(
        "{} {} {} {} {} {} {} {} {} {} {}",
        vocabularies.0,
        vocabularies.1,
        model_config.embedding,
        model_config.encoder.hidden,
        model_config.decoder_hidden,
        model_config
            .attention_size
            .unwrap_or(model_config.decoder_hidden),
        model_config.dropout,
        batcher.pad,
        batcher.bos,
        batcher.eos,
        settings.threads,
    );

    let mut training = Vec::with_capacity(settings.seeds.len());
    let (mut train_pairs, mut train_target_tokens) = (0, 0);
    for &seed in &settings.seeds {
        let mut rng = SeededRng::new(seed);
        let mut plan = batcher.plan(&corpus.train, settings.batch_size, Some(&mut rng));
        plan.truncate(settings.train_batches);
        let items: Vec<PairExample> = plan
            .iter()
            .flatten()
            .map(|&i| corpus.train[i].clone())
            .collect();
        train_pairs = items.len();
        train_target_tokens = items.iter().map(|p| p.target.len() + 1).sum();
        let mut next = 0;
        let fixed = FixedPlan {
            batcher: batcher.clone(),
            plan: plan
                .iter()
                .map(|batch| {
                    let rows = (next..next + batch.len()).collect();
                    next += batch.len();
                    rows
                })
                .collect(),
        };
        let mut text = format!("{header}\n{}\n", fixed.plan.len());
        for batch in &fixed.plan {
            push_pairs(&mut text, batch.iter().map(|&i| &items[i]));
        }
        push_pairs(&mut text, corpus.dev.iter());
        let file = settings.work_dir.join("train-batches.txt");
        write_text(&file, &text)?;

        let config = Seq2SeqConfig {
            seed,
            ..model_config.clone()
        };
        let model = try_build_seeded(device, seed, || {
            config.init(vocabularies.0, vocabularies.1, device)
        })?;
        start_weights::write(&model, &settings.work_dir, "train-start", torch_tensors)?;
        let adam = OptimizerConfig::adam(0.001);
        let train_config = TrainConfig {
            clip: Some(GradientClip::GlobalNorm { max_norm: 1.0 }),
            monitor: kindling_core::metrics::Metric::Perplexity,
            goal: Goal::Min,
            ..TrainConfig::new(1, settings.batch_size, seed, adam)
        };
        let dev_perplexity = |model: &kindling_seq2seq::Seq2Seq| -> Result<f64> {
            let seen = evaluate(model, &batcher, &corpus.dev, 256, device)?;
            Ok(seen
                .metric(kindling_core::metrics::Metric::Perplexity)
                .unwrap_or(f64::NAN))
        };
        let start_dev_perplexity = dev_perplexity(&model)?;
        let trained = Trainer::new(train_config, device)?
            .with_progress(false)
            .fit(model, &fixed, &items, None)?;
        let seconds = trained.train_seconds.max(1e-9);
        let mut sides = vec![TrainSide {
            tool: "kindling (burn-flex)".into(),
            pairs_per_second: items.len() as f64 / seconds,
            seconds,
            start_dev_perplexity,
            dev_perplexity: dev_perplexity(&trained.model)?,
        }];
        eprintln!(
            "seed {seed}: kindling trained {} pairs in {seconds:.1} s",
            items.len()
        );
        let start = settings.work_dir.join("train-start");
        if let Some(result) = torch(python, "train", &file, &start, seed)? {
            let seconds = number(&result, "seconds")?.max(1e-9);
            sides.push(TrainSide {
                tool: torch_tool(&result),
                pairs_per_second: number(&result, "pairs")? / seconds,
                seconds,
                start_dev_perplexity: number(&result, "start_dev_perplexity")?,
                dev_perplexity: number(&result, "dev_perplexity")?,
            });
        }
        training.push((seed, sides));
    }

    // Decoding: the run's trained weights in both tools, the same batches of test sources.
    let model = translator.model();
    start_weights::write(model, &settings.work_dir, "trained", torch_tensors)?;
    // PyTorch gets the batches the library's decode searches.
    let decode_settings = DecodeSettings {
        beam: settings.beam,
        nbest: 1,
        batch_size: settings.decode_batch.max(1),
        ..corpus.options.decode.clone()
    };
    let batches = decode_batches(&corpus.test_sources, decode_settings.batch_size);
    let order: Vec<usize> = batches.concat();
    let search = decode_settings.search(translator.vocabularies());
    let mut text = format!(
        "{header}\n{} {} {} {}\n{}\n",
        settings.beam,
        search.max_len_a,
        search.max_len_b,
        search.length_penalty,
        batches.len()
    );
    for batch in &batches {
        text.push_str(&format!("{}\n", batch.len()));
        for &i in batch {
            text.push_str(&ids_line(&corpus.test_sources[i]));
        }
    }
    let file = settings.work_dir.join("test-sources.txt");
    write_text(&file, &text)?;
    let clock = std::time::Instant::now();
    let ours: Vec<Vec<u32>> = translator
        .decode(&corpus.test_sources, &decode_settings)?
        .into_iter()
        .map(|mut best| best.remove(0).tokens)
        .collect();
    let seconds = clock.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "kindling decoded {} sentences in {seconds:.1} s",
        order.len()
    );
    let bleu = |outputs: &[Vec<u32>]| -> Result<f64> {
        let texts: Vec<String> = outputs
            .iter()
            .map(|ids| translator.target_text(ids))
            .collect::<std::result::Result<_, _>>()?;
        Ok(corpus_bleu(&texts, &corpus.test_references)?.score)
    };
    let mut decoding = vec![DecodeSide {
        tool: "kindling (burn-flex)".into(),
        sentences_per_second: order.len() as f64 / seconds,
        seconds,
        bleu: bleu(&ours)?,
    }];
    let mut identical_outputs = None;
    let trained = settings.work_dir.join("trained");
    if let Some(result) = torch(python, "decode", &file, &trained, 0)? {
        let outputs: Vec<Vec<u32>> = serde_json::from_value(result["outputs"].clone())
            .map_err(|e| Error::Bench(format!("the PyTorch side's outputs: {e}")))?;
        if outputs.len() != order.len() {
            return Err(Error::Bench(format!(
                "the PyTorch side decoded {} of {} sentences",
                outputs.len(),
                order.len()
            )));
        }
        // The PyTorch side answers batch by batch, in the order it was given.
        let mut theirs: Vec<Vec<u32>> = vec![Vec::new(); order.len()];
        for (&i, output) in order.iter().zip(outputs) {
            theirs[i] = output;
        }
        identical_outputs = Some(ours.iter().zip(&theirs).filter(|(a, b)| a == b).count());
        let seconds = number(&result, "seconds")?.max(1e-9);
        decoding.push(DecodeSide {
            tool: torch_tool(&result),
            sentences_per_second: order.len() as f64 / seconds,
            seconds,
            bleu: bleu(&theirs)?,
        });
    }
    Ok(Report {
        training,
        decoding,
        identical_outputs,
        test_sentences: order.len(),
        train_pairs,
        train_target_tokens,
        model: model_config,
        vocabularies,
        settings: settings.clone(),
    })
}

/// `n` then one line per pair: source ids, `|`, target ids.
fn push_pairs<'a>(text: &mut String, pairs: impl ExactSizeIterator<Item = &'a PairExample>) {
    text.push_str(&format!("{}\n", pairs.len()));
    for pair in pairs {
        let line = ids_line(&pair.source);
        text.push_str(line.trim_end());
        text.push_str(" | ");
        text.push_str(&ids_line(&pair.target));
    }
}

fn ids_line(ids: &[u32]) -> String {
    let mut line = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
    line.push('\n');
    line
}

/// A kindling [`kindling_seq2seq::Seq2Seq`] parameter as the PyTorch model names it.
fn torch_tensors(parameter: &Parameter) -> Option<Vec<TorchTensor>> {
    start_weights::renamed(parameter, |path| {
        if let Some((cell, field)) = path
            .strip_prefix("encoder.Gru.cells.")
            .and_then(|rest| rest.split_once('.'))
        {
            return torch_lstm_name("encoder", cell.parse().ok()?, 2, field);
        }
        let (name, transpose) = match path {
            "source_embedding.weight" => ("source_embedding.weight", false),
            "target_embedding.weight" => ("target_embedding.weight", false),
            "bridge.weight" => ("bridge.weight", true),
            "bridge.bias" => ("bridge.bias", false),
            "cell.input_weight" => ("cell.weight_ih", true),
            "cell.recurrent_weight" => ("cell.weight_hh", true),
            "cell.input_bias" => ("cell.bias_ih", false),
            "cell.hidden_bias" => ("cell.bias_hh", false),
            "attention.query.weight" => ("query.weight", true),
            "attention.key.weight" => ("key.weight", true),
            "attention.key.bias" => ("key.bias", false),
            "attention.score.weight" => ("score.weight", true),
            "output.weight" => ("output.weight", true),
            "output.bias" => ("output.bias", false),
            _ => return None,
        };
        Some(TorchName {
            name: name.into(),
            transpose,
        })
    })
}

/// The PyTorch side's JSON (`mode` is `train` or `decode`), or `None` when Python could not be
/// started.
fn torch(
    python: &str,
    mode: &str,
    file: &Path,
    weights: &Path,
    seed: u64,
) -> Result<Option<serde_json::Value>> {
    let seed = seed.to_string();
    let args = [
        OsStr::new(mode),
        file.as_os_str(),
        OsStr::new(&seed),
        weights.as_os_str(),
    ];
    super::python_json(python, SCRIPT, &args)
}

/// The report as Markdown tables with ratios against PyTorch.
pub fn render(report: &Report) -> String {
    let s = &report.settings;
    let m = &report.model;
    let mut out = format!(
        "Bidirectional GRU encoder ({} per direction), GRU decoder ({}) with additive attention, {}-d word vectors, dropout {}; vocabularies {} (German) and {} (English); weights of `{}`.\n\n",
        m.encoder.hidden,
        m.decoder_hidden,
        m.embedding,
        m.dropout,
        report.vocabularies.0,
        report.vocabularies.1,
        s.run.display()
    );
    let rate = |sides: &[TrainSide], tool: usize| sides.get(tool).map(|x| x.pairs_per_second);
    out.push_str(&format!(
        "Training: the first {} length-bucketed batches of {} pairs of a seeded epoch ({} pairs, {} target tokens), Adam 10⁻³, gradients clipped to norm 1, from the same initial weights. Dev perplexity of those initial weights (no dropout) checks that both compute the same function; afterwards it differs by the dropout draws and rounding.\n\n| seed | tool | pairs/s | × PyTorch | train s | dev perplexity at start | after |\n|---|---|---|---|---|---|---|\n",
        s.train_batches, s.batch_size, report.train_pairs, report.train_target_tokens
    ));
    let mut ratios = Vec::new();
    for (seed, sides) in &report.training {
        let torch = sides.iter().position(|x| x.tool.starts_with("PyTorch"));
        for (index, side) in sides.iter().enumerate() {
            let ratio = match torch.and_then(|t| rate(sides, t)) {
                Some(theirs) => {
                    let r = side.pairs_per_second / theirs;
                    if index == 0 {
                        ratios.push(r);
                    }
                    format!("{r:.2}")
                }
                None => "–".into(),
            };
            out.push_str(&format!(
                "| {seed} | {} | {:.1} | {ratio} | {:.1} | {:.3} | {:.2} |\n",
                side.tool,
                side.pairs_per_second,
                side.seconds,
                side.start_dev_perplexity,
                side.dev_perplexity
            ));
        }
    }
    if !ratios.is_empty() {
        out.push_str(&format!(
            "\nkindling / PyTorch training rate over {} seed(s): {}.\n",
            ratios.len(),
            super::show_spread(&ratios, |v| format!("{v:.2}×"))
        ));
    }
    out.push_str(&format!(
        "\nDecoding: beam search of width {} over the {} test sources, {} at a time sorted by length, with the trained weights in both tools.\n\n| tool | sentences/s | × PyTorch | search s | test BLEU |\n|---|---|---|---|---|\n",
        s.beam, report.test_sentences, s.decode_batch
    ));
    let torch = report
        .decoding
        .iter()
        .find(|x| x.tool.starts_with("PyTorch"));
    for side in &report.decoding {
        let ratio = torch.map_or("–".into(), |t| {
            format!("{:.2}", side.sentences_per_second / t.sentences_per_second)
        });
        out.push_str(&format!(
            "| {} | {:.1} | {ratio} | {:.1} | {:.2} |\n",
            side.tool, side.sentences_per_second, side.seconds, side.bleu
        ));
    }
    if let Some(same) = report.identical_outputs {
        out.push_str(&format!(
            "\nIdentical outputs: {same} of {} test sentences.\n",
            report.test_sentences
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seq2seq_parameter_has_a_pytorch_name() {
        let device = kindling_core::BackendKind::Flex.device().unwrap();
        let config: Seq2SeqConfig = serde_json::from_value(serde_json::json!({
            "embedding": 4,
            "encoder": { "cell": "gru", "hidden": 3, "bidirectional": true },
            "decoder_hidden": 5,
            "attention": "bahdanau",
        }))
        .unwrap();
        let model = config.init(7, 6, &device).unwrap();
        let dir = std::env::temp_dir().join(format!("kindling-s2s-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        start_weights::write(&model, &dir, "start", torch_tensors).unwrap();
        let manifest: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("start.json")).unwrap())
                .unwrap();
        let entry = |name: &str| {
            manifest
                .iter()
                .find(|e| e["name"] == name)
                .unwrap_or_else(|| panic!("{name} missing"))["shape"]
                .clone()
        };
        // PyTorch's layouts: [out, in] matrices, gate blocks stacked on the first axis.
        assert_eq!(
            entry("encoder.weight_ih_l0_reverse"),
            serde_json::json!([9, 4])
        );
        assert_eq!(entry("cell.weight_ih"), serde_json::json!([15, 4 + 6]));
        assert_eq!(entry("query.weight"), serde_json::json!([5, 5]));
        assert_eq!(entry("output.weight"), serde_json::json!([6, 5 + 6 + 4]));
        assert_eq!(manifest.len(), 22);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
