//! How a decoder looks at the encoded source: additive attention (Bahdanau et al. 2015) or
//! multiplicative attention (Luong et al. 2015, `dot` and `general`), always normalised over
//! the real source positions only.

use kindling_core::activation::tanh;
use kindling_core::burn::module::Module;
use kindling_core::burn::nn::{Linear, LinearConfig};
use kindling_core::burn::tensor::activation::softmax;
use kindling_core::burn::tensor::{Bool, Device, Tensor};
use serde::{Deserialize, Serialize};

/// Which attention a decoder uses; `none` is the context-vector decoder of Cho et al. (2014).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttentionKind {
    /// No attention: the encoder's final states, one context vector for every step.
    None,
    /// `vᵀ tanh(W s + U h)` of the previous decoder state `s` and each source state `h`.
    Bahdanau,
    /// `sᵀ h` of the current decoder state and each source state (equal sizes).
    LuongDot,
    /// `sᵀ W h`.
    LuongGeneral,
}

/// The scoring weights of an attention kind.
#[derive(Module, Debug)]
pub struct Attention {
    /// Bahdanau's `W`, the decoder state's projection, `[d_state] → [d_attention]`.
    query: Option<Linear>,
    /// Bahdanau's `U` (`[d_source] → [d_attention]`) or Luong's general `W` (`[d_source] →
    /// [d_state]`): the source states' projection.
    key: Option<Linear>,
    /// Bahdanau's `v`, `[d_attention] → [1]`.
    score: Option<Linear>,
    /// Which scores these are.
    #[module(skip)]
    kind: AttentionKind,
}

impl Attention {
    /// The attention of `kind` between decoder states of `d_state` and source states of
    /// `d_source` (additive attention scores in `d_attention` dimensions); `None` for
    /// [`AttentionKind::None`].
    pub fn new(
        kind: AttentionKind,
        d_state: usize,
        d_source: usize,
        d_attention: usize,
        device: &Device,
    ) -> Option<Self> {
        let linear =
            |d_in, d_out, bias| Some(LinearConfig::new(d_in, d_out).with_bias(bias).init(device));
        let (query, key, score) = match kind {
            AttentionKind::None => return None,
            AttentionKind::Bahdanau => (
                linear(d_state, d_attention, false),
                linear(d_source, d_attention, true),
                linear(d_attention, 1, false),
            ),
            AttentionKind::LuongDot => (None, None, None),
            AttentionKind::LuongGeneral => (None, linear(d_source, d_state, false), None),
        };
        Some(Self {
            query,
            key,
            score,
            kind,
        })
    }

    /// Which attention this is.
    pub fn kind(&self) -> AttentionKind {
        self.kind
    }

    /// What the scores compare queries with, computed once per batch of sources.
    ///
    /// # Shapes
    /// `sources`: `[batch, len, d_source]` → `[batch, len, d_key]`.
    pub fn keys(&self, sources: Tensor<3>) -> Tensor<3> {
        match &self.key {
            Some(key) => key.forward(sources),
            None => sources,
        }
    }

    /// The attention weights of `query` over the source positions: a softmax of the scores
    /// with the padded positions (`padding` true) left out, so each row sums to 1 over the real
    /// positions and is 0 on padding.
    ///
    /// # Shapes
    /// `query`: `[batch, d_state]`, `keys`: `[batch, len, d_key]`, `padding`: `[batch, len]` →
    /// `[batch, len]`.
    pub fn weights(
        &self,
        query: Tensor<2>,
        keys: &Tensor<3>,
        padding: &Tensor<2, Bool>,
    ) -> Tensor<2> {
        let [batch, len, d_key] = keys.dims();
        let scores = match (&self.query, &self.score) {
            (Some(w), Some(v)) => {
                let energy = tanh(keys.clone() + w.forward(query).unsqueeze_dim::<3>(1));
                v.forward(energy.reshape([batch * len, d_key]))
                    .reshape([batch, len])
            }
            _ => keys
                .clone()
                .matmul(query.unsqueeze_dim::<3>(2))
                .reshape([batch, len]),
        };
        softmax(scores.mask_fill(padding.clone(), f32::NEG_INFINITY), 1)
    }
}

/// The weighted sum of the source states.
///
/// # Shapes
/// `weights`: `[batch, len]`, `sources`: `[batch, len, d_source]` → `[batch, d_source]`.
pub fn context(weights: Tensor<2>, sources: &Tensor<3>) -> Tensor<2> {
    let [batch, _, d_source] = sources.dims();
    weights
        .unsqueeze_dim::<3>(1)
        .matmul(sources.clone())
        .reshape([batch, d_source])
}

#[cfg(test)]
mod tests {
    use kindling_core::burn::tensor::TensorData;

    use super::*;

    #[test]
    fn weights_sum_to_one_over_real_positions_and_are_zero_on_padding() {
        let device = kindling_core::BackendKind::Flex.device().unwrap();
        let lengths = [5usize, 2, 1];
        let (batch, len, d) = (lengths.len(), 5, 6);
        let padding: Vec<bool> = lengths
            .iter()
            .flat_map(|&n| (0..len).map(move |j| j >= n))
            .collect();
        let padding = Tensor::<2, Bool>::from_data(TensorData::new(padding, [batch, len]), &device);
        let sources = kindling_core::seed::with_device_rng(&device, 1, || {
            Tensor::<3>::random(
                [batch, len, d],
                kindling_core::burn::tensor::Distribution::Normal(0.0, 1.0),
                &device,
            )
        });
        let query = kindling_core::seed::with_device_rng(&device, 2, || {
            Tensor::<2>::random(
                [batch, d],
                kindling_core::burn::tensor::Distribution::Normal(0.0, 1.0),
                &device,
            )
        });
        for kind in [
            AttentionKind::Bahdanau,
            AttentionKind::LuongDot,
            AttentionKind::LuongGeneral,
        ] {
            let attention = Attention::new(kind, d, d, 4, &device).unwrap();
            let keys = attention.keys(sources.clone());
            let weights = attention.weights(query.clone(), &keys, &padding);
            let values: Vec<f32> = weights.clone().into_data().try_to_vec::<f32>().unwrap();
            for (b, &n) in lengths.iter().enumerate() {
                let row = &values[b * len..(b + 1) * len];
                let real: f32 = row[..n].iter().sum();
                assert!((real - 1.0).abs() < 1e-5, "{kind:?} row {b}: {row:?}");
                assert!(
                    row[n..].iter().all(|&w| w == 0.0),
                    "{kind:?} row {b}: {row:?}"
                );
                assert!(row[..n].iter().all(|&w| w > 0.0));
            }
            let summary: Vec<f32> = context(weights, &sources)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert_eq!(summary.len(), batch * d);
            // A source of one real position is summarised by that position.
            let first: Vec<f32> = sources
                .clone()
                .narrow(0, 2, 1)
                .narrow(1, 0, 1)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            for (a, b) in summary[2 * d..].iter().zip(&first) {
                assert!((a - b).abs() < 1e-5);
            }
        }
        assert!(Attention::new(AttentionKind::None, d, d, 4, &device).is_none());
    }
}
