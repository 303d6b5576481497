//! A 1-D convolution over word windows computed as one matrix product.
//!
//! The windows of `width` consecutive word vectors are laid side by side, giving a
//! `[batch · windows, width · dim]` matrix, and multiplied by the filters
//! (`[width · dim, maps]`). For sentence-sized inputs this is one large, well-shaped GEMM
//! where a general convolution kernel runs many small ones; autodiff derives the backward pass
//! from the slices, the concatenation and the product.

use kindling_core::burn::module::{Module, Param};
use kindling_core::burn::nn::Initializer;
use kindling_core::burn::tensor::{Device, Tensor};

/// Filters of one width over sequences of word vectors.
#[derive(Module, Debug)]
pub struct WindowConv {
    /// `[width · dim, maps]`: row `offset · dim + d` weighs component `d` of the word at
    /// `offset` in the window.
    weight: Param<Tensor<2>>,
    /// `[maps]`.
    bias: Param<Tensor<1>>,
    #[module(skip)]
    width: usize,
}

impl WindowConv {
    /// `maps` filters of `width` words over vectors of `dim`, initialised as burn's `Conv1d`
    /// (uniform in `±1/√(width · dim)`).
    pub fn new(dim: usize, maps: usize, width: usize, device: &Device) -> Self {
        let fan_in = width * dim;
        let init = Initializer::KaimingUniform {
            gain: 1.0 / 3.0f64.sqrt(),
            fan_out_only: false,
        };
        Self {
            weight: init.init_with([fan_in, maps], Some(fan_in), Some(maps * width), device),
            bias: init.init_with([maps], Some(fan_in), None, device),
            width,
        }
    }

    /// The filter width in words.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Feature maps at every window position.
    ///
    /// # Shapes
    /// `[batch, len, dim]` with `len >= width` → `[batch, len − width + 1, maps]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, len, dim] = x.dims();
        let windows = len + 1 - self.width;
        let maps = self.bias.dims()[0];
        let unfolded = if self.width == 1 {
            x
        } else {
            Tensor::cat(
                (0..self.width)
                    .map(|offset| {
                        x.clone()
                            .slice([0..batch, offset..offset + windows, 0..dim])
                    })
                    .collect(),
                2,
            )
        };
        let features = unfolded
            .reshape([batch * windows, self.width * dim])
            .matmul(self.weight.val())
            + self.bias.val().unsqueeze::<2>();
        features.reshape([batch, windows, maps])
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use kindling_core::BackendKind;
    use kindling_core::burn::tensor::TensorData;

    #[test]
    fn matches_a_hand_computed_convolution() {
        let device = BackendKind::Flex.device().unwrap();
        let conv = WindowConv::new(2, 3, 2, &device);
        // One sentence of three 2-d words.
        let x: Vec<f32> = vec![1.0, 2.0, -1.0, 0.5, 3.0, -2.0];
        let out: Vec<f32> = conv
            .forward(Tensor::from_data(
                TensorData::new(x.clone(), [1, 3, 2]),
                &device,
            ))
            .into_data()
            .try_to_vec()
            .unwrap();
        let w: Vec<f32> = conv.weight.val().into_data().try_to_vec().unwrap();
        let b: Vec<f32> = conv.bias.val().into_data().try_to_vec().unwrap();
        assert_eq!(out.len(), 2 * 3);
        for window in 0..2 {
            for map in 0..3 {
                let mut expected = b[map];
                for offset in 0..2 {
                    for d in 0..2 {
                        expected += x[(window + offset) * 2 + d] * w[(offset * 2 + d) * 3 + map];
                    }
                }
                let got = out[window * 3 + map];
                assert!((got - expected).abs() < 1e-5, "{got} vs {expected}");
            }
        }
    }
}
