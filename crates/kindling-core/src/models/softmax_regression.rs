//! Multinomial logistic (softmax) regression over dense feature vectors.

use crate::init::Init;
use crate::train::{Batcher, Outcome, StepOutput, TrainStep};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Configuration of a [`SoftmaxRegression`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxRegressionConfig {
    /// Number of input features.
    pub d_input: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Initialiser of the weight matrix (the bias starts at zero).
    pub init: Init,
}

impl SoftmaxRegressionConfig {
    /// Xavier-uniform weights, as most logistic-regression baselines use.
    pub fn new(d_input: usize, n_classes: usize) -> Self {
        Self {
            d_input,
            n_classes,
            init: Init::XavierUniform { gain: 1.0 },
        }
    }

    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> crate::Result<SoftmaxRegression> {
        let initializer = self.init.to_burn().ok_or_else(|| {
            crate::Error::InvalidConfig("identity init needs a square layer".into())
        })?;
        Ok(SoftmaxRegression {
            linear: LinearConfig::new(self.d_input, self.n_classes)
                .with_initializer(initializer)
                .init(device),
        })
    }
}

/// `logits = x·W + b`, trained with cross-entropy.
#[derive(Module, Debug)]
pub struct SoftmaxRegression {
    linear: Linear,
}

impl SoftmaxRegression {
    /// Class scores (unnormalised log-probabilities).
    ///
    /// # Shapes
    /// - `features`: `[batch, d_input]`
    /// - output: `[batch, n_classes]`
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        self.linear.forward(features)
    }
}

/// One example: a dense feature vector and its class.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseExample {
    /// Feature values.
    pub features: Vec<f32>,
    /// Class index.
    pub label: u32,
}

/// A batch of [`DenseExample`]s as tensors.
#[derive(Debug, Clone)]
pub struct DenseBatch {
    /// `[batch, d_input]`
    pub features: Tensor<2>,
    /// `[batch]`
    pub labels: Tensor<1, Int>,
    /// The labels on the host, for metrics.
    pub gold: Vec<u32>,
}

/// Stacks [`DenseExample`]s of a fixed width.
#[derive(Debug, Clone, Copy)]
pub struct DenseBatcher {
    /// Feature width every example must have.
    pub d_input: usize,
}

impl Batcher<DenseExample> for DenseBatcher {
    type Batch = DenseBatch;

    /// # Panics
    /// If an example's width differs from `d_input` (examples are built by our own readers,
    /// which check widths when they are created).
    fn batch(&self, items: &[DenseExample], device: &Device) -> DenseBatch {
        let mut values = Vec::with_capacity(items.len() * self.d_input);
        for item in items {
            assert_eq!(item.features.len(), self.d_input, "feature width");
            values.extend_from_slice(&item.features);
        }
        let gold: Vec<u32> = items.iter().map(|i| i.label).collect();
        let labels: Vec<i64> = gold.iter().map(|&l| i64::from(l)).collect();
        DenseBatch {
            features: Tensor::from_data(
                TensorData::new(values, [items.len(), self.d_input]),
                device,
            ),
            labels: Tensor::from_data(TensorData::new(labels, [items.len()]), device),
            gold,
        }
    }
}

impl TrainStep<DenseBatch> for SoftmaxRegression {
    fn step(&self, batch: &DenseBatch) -> StepOutput {
        let logits = self.forward(batch.features.clone());
        let device = logits.device();
        let predicted = logits
            .clone()
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .expect("argmax gives integers")
            .into_iter()
            .map(|p| p as u32)
            .collect();
        let loss = CrossEntropyLossConfig::new()
            .init(&device)
            .forward(logits, batch.labels.clone());
        StepOutput {
            loss,
            examples: batch.gold.len(),
            outcome: Outcome::Classes {
                gold: batch.gold.clone(),
                predicted,
            },
        }
    }
}
