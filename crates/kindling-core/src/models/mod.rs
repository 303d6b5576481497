//! Reference models: small, complete [`crate::train::TrainStep`] implementations, used as
//! baselines and to test the training loop on every backend.

mod softmax_regression;

pub use softmax_regression::{
    DenseBatch, DenseBatcher, DenseExample, SoftmaxRegression, SoftmaxRegressionConfig,
};
