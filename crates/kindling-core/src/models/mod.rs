//! Reference models — small, complete [`crate::train::TrainStep`] implementations, used as
//! baselines and to test the training loop on every backend — and the classification head the
//! model crates share.

mod head;
mod softmax_regression;

pub use head::{ClassifierHead, classification_step};

pub use softmax_regression::{
    DenseBatch, DenseBatcher, DenseExample, SoftmaxRegression, SoftmaxRegressionConfig,
};
