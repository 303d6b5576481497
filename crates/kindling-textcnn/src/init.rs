//! How the filters, their biases and the output layer start.

use kindling_core::burn::module::Param;
use kindling_core::burn::nn::Initializer;
use kindling_core::burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::filter_bank::FilterBank;

/// How the filters, their biases and the output layer start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum WeightInit {
    /// burn's `Conv1d` and `Linear` defaults: every weight and bias from `U(±1/√fan_in)`,
    /// with `fan_in = width · dim` for a filter and the feature count for the output layer.
    Burn,
    /// Kim's Theano code: filters from `U(±√(6 / (fan_in + fan_out)))` with
    /// `fan_in = width · dim` and `fan_out = maps · width · dim / (padded_length − width + 1)`
    /// (his layer divides the fan-out by the pooled positions), zero filter biases and a zero
    /// output layer.
    Kim {
        /// Kim's image height: the longest sentence plus the edge padding on both sides.
        padded_length: usize,
    },
}

impl WeightInit {
    /// The bound `a` of the uniform `U(±a)` that a filter of `width` words over `dim`-d
    /// vectors starts from, with `maps` filters of that width.
    pub fn filter_bound(&self, width: usize, dim: usize, maps: usize) -> f64 {
        let fan_in = (width * dim) as f64;
        match *self {
            WeightInit::Burn => 1.0 / fan_in.sqrt(),
            WeightInit::Kim { padded_length } => {
                let pooled = padded_length.saturating_sub(width) + 1;
                let fan_out = maps as f64 * fan_in / pooled as f64;
                (6.0 / (fan_in + fan_out)).sqrt()
            }
        }
    }
}

/// Filters and biases of every width as `init` says: burn's `Conv1d` over that width (uniform
/// in `±1/√(width · dim)`), or Kim's Glorot bound with zero biases.
///
/// # Shapes
/// → (`[dim, taps · maps]`, `[widths · maps]`).
pub(crate) fn initial_filters(
    bank: &FilterBank,
    dim: usize,
    init: &WeightInit,
    device: &Device,
) -> (Param<Tensor<2>>, Param<Tensor<1>>) {
    let maps = bank.maps();
    let (filters, biases): (Vec<Tensor<2>>, Vec<Tensor<1>>) = bank
        .blocks()
        .map(|block| {
            let bound = init.filter_bound(block.width, dim, maps);
            let uniform = Initializer::Uniform {
                min: -bound,
                max: bound,
            };
            let bias = match init {
                WeightInit::Burn => uniform.clone(),
                WeightInit::Kim { .. } => Initializer::Zeros,
            };
            (
                uniform
                    .init_with([dim, block.width * maps], None, None, device)
                    .val(),
                bias.init_with([maps], None, None, device).val(),
            )
        })
        .unzip();
    (
        Param::from_tensor(Tensor::cat(filters, 1).detach()),
        Param::from_tensor(Tensor::cat(biases, 0).detach()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_bounds_follow_burn_and_kim() {
        let burn = WeightInit::Burn.filter_bound(3, 300, 100);
        assert!((burn - 1.0 / 900f64.sqrt()).abs() < 1e-12);
        // Kim's MR: sentences of up to 56 words with 4 zero vectors on each side, so a filter
        // of width 3 is pooled over 62 positions.
        let kim = WeightInit::Kim { padded_length: 64 }.filter_bound(3, 300, 100);
        let fan_out: f64 = 100.0 * 900.0 / 62.0;
        assert!((kim - (6.0 / (900.0 + fan_out)).sqrt()).abs() < 1e-12);
        assert!((kim - 0.0505).abs() < 1e-4, "{kim}");
    }
}
