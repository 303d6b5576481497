//! Small models used by the experiments and the cross-backend tests.

mod softmax_regression;

pub use softmax_regression::{
    DenseBatch, DenseBatcher, DenseExample, SoftmaxRegression, SoftmaxRegressionConfig,
};
