//! Dropout whose masks come from the calling thread's own generator.
//!
//! burn's `nn::Dropout` draws its masks from the backend's device RNG, which is process-wide on
//! the CPU backends: any other thread that draws or reseeds in between changes the masks, so two
//! models trained on two threads do not repeat. This layer draws from
//! [`crate::seed::with_thread_rng`] instead, a generator each thread owns; the trainer seeds it
//! at the start of every epoch ([`crate::seed::seed_thread`]), so an epoch's masks depend on the
//! run's seed and the epoch alone, whatever other threads do.
//!
//! The layer has the same fields as burn's, so a saved model's record is unchanged, and it
//! behaves the same way: identity unless the input lives on an autodiff device and the layer is
//! not frozen; kept values are scaled by `1 / (1 - prob)`.

use burn::config::Config;
use burn::module::{Flag, Module, Param};
use burn::tensor::{Tensor, TensorData};

use crate::seed::with_thread_rng;

/// Configuration of a [`Dropout`] layer.
#[derive(Config, Debug)]
pub struct DropoutConfig {
    /// The probability of zeroing each element during training, in `[0, 1)`.
    pub prob: f64,
}

impl DropoutConfig {
    /// The layer.
    ///
    /// # Panics
    /// If `prob` is not finite or outside `[0, 1)`; model configs check it first and return an
    /// error naming the field.
    pub fn init(&self) -> Dropout {
        assert!(
            self.prob.is_finite() && (0.0..1.0).contains(&self.prob),
            "dropout probability must be finite and in [0, 1), got {}",
            self.prob
        );
        Dropout {
            prob: self.prob,
            training: Param::from_bool(true),
        }
    }
}

/// Zeroes each element with probability `prob` during training and scales the rest by
/// `1 / (1 - prob)`; the identity at inference.
#[derive(Module, Debug)]
pub struct Dropout {
    /// The probability of zeroing each element.
    pub prob: f64,
    /// Whether the layer behaves as during training; cleared by `freeze`.
    pub training: Param<Flag>,
}

impl Dropout {
    /// Applies dropout when training (autodiff device, layer not frozen, `prob > 0`).
    ///
    /// # Shapes
    /// `input`: any → the same shape.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        if !self.training.is_enabled() || !input.device().is_autodiff() || self.prob == 0.0 {
            return input;
        }
        let shape = input.shape();
        let mask = with_thread_rng(|rng| scaled_mask(shape.num_elements(), self.prob, rng));
        let mask = Tensor::<D>::from_data(TensorData::new(mask, shape), &input.device());
        input * mask
    }
}

/// `n` values, each `1 / (1 - prob)` with probability `1 - prob` and 0 otherwise; two draws per
/// 64 random bits.
fn scaled_mask(n: usize, prob: f64, rng: &mut crate::seed::SeededRng) -> Vec<f32> {
    let keep = 1.0 - prob;
    let scale = (1.0 / keep) as f32;
    // A 32-bit draw is kept when it falls below `keep · 2³²`.
    let threshold = (keep * 4_294_967_296.0) as u64;
    let mut mask = Vec::with_capacity(n);
    while mask.len() < n {
        let bits = rng.next_u64();
        for half in [bits & 0xFFFF_FFFF, bits >> 32] {
            if mask.len() < n {
                mask.push(if half < threshold { scale } else { 0.0 });
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use crate::seed::{SeededRng, seed_thread};

    #[test]
    fn mask_keeps_about_the_right_share_and_scales_it() {
        let mut rng = SeededRng::new(1);
        let mask = scaled_mask(100_001, 0.3, &mut rng);
        assert_eq!(mask.len(), 100_001);
        let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / mask.len() as f64;
        assert!((kept - 0.7).abs() < 0.01, "kept {kept}");
        assert!(
            mask.iter()
                .all(|&m| m == 0.0 || (m - 1.0 / 0.7).abs() < 1e-6)
        );
    }

    #[test]
    fn masks_follow_the_thread_seed_and_ignore_other_threads() {
        let device = BackendKind::Flex.train_device().unwrap();
        let layer = DropoutConfig::new(0.5).init();
        let draw = || {
            let x = Tensor::<2>::ones([8, 64], &device);
            layer.forward(x).into_data().try_to_vec::<f32>().unwrap()
        };
        seed_thread(11);
        let first = draw();
        let second = draw();
        assert_ne!(first, second, "consecutive masks repeat");
        assert!(first.contains(&0.0) && first.contains(&2.0));

        // Another thread reseeding and drawing its own masks changes nothing here.
        seed_thread(11);
        let other = std::thread::spawn({
            let device = device.clone();
            move || {
                seed_thread(11);
                let layer = DropoutConfig::new(0.5).init();
                layer
                    .forward(Tensor::<2>::ones([8, 64], &device))
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap()
            }
        })
        .join()
        .unwrap();
        assert_eq!(
            other, first,
            "the same seed on another thread gives the same mask"
        );
        assert_eq!(draw(), first);
        assert_eq!(draw(), second);
        seed_thread(12);
        assert_ne!(draw(), first, "a different seed gives the same mask");
    }

    #[test]
    fn identity_at_inference_and_when_frozen() {
        let inner = BackendKind::Flex.device().unwrap();
        let x = Tensor::<2>::ones([4, 4], &inner);
        let layer = DropoutConfig::new(0.5).init();
        assert_eq!(
            layer
                .forward(x.clone())
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
            vec![1.0; 16]
        );
        let train = BackendKind::Flex.train_device().unwrap();
        let frozen = layer.freeze();
        let y = frozen.forward(Tensor::<2>::ones([4, 4], &train));
        assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), vec![1.0; 16]);
    }
}
