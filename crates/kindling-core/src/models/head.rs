//! What every sentence classifier ends with: dropout, a linear layer to class scores, and the
//! training step's cross-entropy.

use crate::constraint::max_norm_param;
use crate::dropout::{Dropout, DropoutConfig};
use crate::train::{Outcome, StepOutput};
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor};

/// Dropout on a feature vector, then a linear layer to one score per class.
#[derive(Module, Debug)]
pub struct ClassifierHead {
    dropout: Dropout,
    output: Linear,
}

impl ClassifierHead {
    /// A head from `features` to `classes` scores with dropout probability `dropout` (checked
    /// by the model configs to lie in `[0, 1)`); `zero_output` starts the linear layer at zero
    /// (Kim's initialisation) instead of burn's default.
    pub fn new(
        features: usize,
        classes: usize,
        dropout: f64,
        zero_output: bool,
        device: &Device,
    ) -> Self {
        let output = LinearConfig::new(features, classes);
        let output = if zero_output {
            output.with_initializer(Initializer::Zeros)
        } else {
            output
        };
        Self {
            dropout: DropoutConfig::new(dropout).init(),
            output: output.init(device),
        }
    }

    /// Class scores (before softmax).
    ///
    /// # Shapes
    /// `features`: `[batch, features]` → `[batch, classes]`.
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        self.output.forward(self.dropout.forward(features))
    }

    /// The head with every output unit's weight vector rescaled to an L2 norm of at most
    /// `limit` (Kim's max-norm constraint).
    pub fn with_max_norm(mut self, limit: f64) -> Self {
        self.output.weight = max_norm_param(self.output.weight, limit, 0);
        self
    }

    /// The output layer.
    pub fn output(&self) -> &Linear {
        &self.output
    }
}

/// The cross-entropy loss of class scores against gold labels, with the predicted classes.
///
/// # Shapes
/// `logits`: `[batch, classes]`, `labels`: `[batch]`.
pub fn classification_step(logits: Tensor<2>, labels: Tensor<1, Int>) -> StepOutput {
    let to_classes = |t: Tensor<1, Int>| -> Vec<u32> {
        t.into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .expect("integer classes")
            .into_iter()
            .map(|c| c as u32)
            .collect()
    };
    let predicted = to_classes(logits.clone().argmax(1).squeeze_dim(1));
    let gold = to_classes(labels.clone());
    let loss = crate::loss::cross_entropy(logits, labels);
    StepOutput {
        loss,
        examples: gold.len(),
        outcome: Outcome::Classes { gold, predicted },
    }
}
