//! Encoder–decoder models on kindling: a recurrent source encoder, decoders that see the
//! source through one context vector (Cho et al. 2014) or through additive (Bahdanau et al.
//! 2015) or multiplicative (Luong et al. 2015) attention, teacher-forced training, batched
//! greedy and beam search, and the scores of translation and grapheme-to-phoneme work: corpus
//! BLEU and chrF as sacreBLEU computes them, word and phoneme error rates.

pub mod attention;
pub mod batch;
pub mod decode;
mod error;
pub mod model;
pub mod saved;
pub mod score;
pub mod search;
pub mod subword;
#[cfg(test)]
mod tests;
pub mod vocab;

pub use attention::AttentionKind;
pub use batch::{PairBatch, PairBatcher, PairExample};
pub use decode::{DecodeSettings, decode, decode_batches, decode_best};
pub use error::{Error, Result};
pub use model::{Seq2Seq, Seq2SeqConfig};
pub use saved::{SavedSeq2Seq, Segmenter, Translation, Translator, save_seq2seq, target_text};
pub use search::{Hypothesis, SearchConfig, Sources, beam_search, beam_search_nbest, greedy};
pub use vocab::{PairVocabularies, seq2seq_vocabulary};
