//! Optimizers and gradient clipping, chosen by configuration.
//!
//! SGD (with momentum) and AdamW come from burn; [`Adadelta`] is ours, and Adam is burn's
//! fused into one pass per parameter on burn-flex ([`FusedAdam`]). All of them are burn
//! `ModuleOptimizer`s, so their state is saved and restored by burn's optimizer records.

mod adadelta;
mod adam;
mod clip;

pub use adadelta::{Adadelta, AdadeltaConfig, AdadeltaState};
pub use adam::FusedAdam;
pub use clip::{GradientClip, global_norm};

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Which optimizer to train with, and its hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Stochastic gradient descent, optionally with (Nesterov) momentum.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum factor; 0 disables momentum.
        #[serde(default)]
        momentum: f64,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
        /// L2 penalty.
        #[serde(default)]
        weight_decay: f64,
    },
    /// Adam (Kingma & Ba 2015).
    Adam {
        /// Learning rate.
        lr: f64,
        /// First-moment decay.
        #[serde(default = "default_beta1")]
        beta1: f64,
        /// Second-moment decay.
        #[serde(default = "default_beta2")]
        beta2: f64,
        /// Numerical stability term.
        #[serde(default = "default_adam_epsilon")]
        epsilon: f64,
        /// L2 penalty added to the gradient.
        #[serde(default)]
        weight_decay: f64,
    },
    /// AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay.
    AdamW {
        /// Learning rate.
        lr: f64,
        /// First-moment decay.
        #[serde(default = "default_beta1")]
        beta1: f64,
        /// Second-moment decay.
        #[serde(default = "default_beta2")]
        beta2: f64,
        /// Numerical stability term.
        #[serde(default = "default_adam_epsilon")]
        epsilon: f64,
        /// Decoupled weight decay.
        #[serde(default = "default_adamw_decay")]
        weight_decay: f64,
    },
    /// Adadelta (Zeiler 2012), as in `torch.optim.Adadelta`.
    Adadelta {
        /// Learning rate (PyTorch default 1.0).
        #[serde(default = "default_adadelta_lr")]
        lr: f64,
        /// Running-average decay.
        #[serde(default = "default_rho")]
        rho: f64,
        /// Numerical stability term.
        #[serde(default = "default_adadelta_epsilon")]
        epsilon: f64,
        /// L2 penalty.
        #[serde(default)]
        weight_decay: f64,
        /// Updates only the rows of a parameter that have a gradient, deferring the others'
        /// decay (exact up to rounding; for embedding tables; see [`AdadeltaConfig`]).
        #[serde(default)]
        sparse_rows: bool,
    },
}

fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_adam_epsilon() -> f64 {
    1e-8
}
fn default_adamw_decay() -> f64 {
    0.01
}
fn default_adadelta_lr() -> f64 {
    1.0
}
fn default_rho() -> f64 {
    0.9
}
fn default_adadelta_epsilon() -> f64 {
    1e-6
}

impl OptimizerConfig {
    /// Adadelta as Kim (2014) trains his CNN: learning rate 1, ρ 0.95, ε 1e-6, no weight
    /// decay, dense updates.
    pub fn kim_adadelta() -> Self {
        Self::Adadelta {
            lr: 1.0,
            rho: 0.95,
            epsilon: 1e-6,
            weight_decay: 0.0,
            sparse_rows: false,
        }
    }

    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            Self::Sgd { lr, .. }
            | Self::Adam { lr, .. }
            | Self::AdamW { lr, .. }
            | Self::Adadelta { lr, .. } => lr,
        }
    }

    /// Builds the module optimizer.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a non-positive learning rate or decays outside `[0, 1)`.
    pub fn init(&self) -> Result<ModuleOptimizer> {
        let lr = self.lr();
        if lr.is_nan() || lr <= 0.0 || lr.is_infinite() {
            return Err(Error::InvalidConfig(format!(
                "learning rate must be positive, got {lr}"
            )));
        }
        let decay = |weight_decay: f64| {
            (weight_decay != 0.0).then(|| WeightDecayConfig::new(weight_decay as f32))
        };
        let check_unit = |name: &str, value: f64| {
            if (0.0..1.0).contains(&value) {
                Ok(())
            } else {
                Err(Error::InvalidConfig(format!(
                    "{name} must be in [0, 1), got {value}"
                )))
            }
        };
        Ok(match *self {
            Self::Sgd {
                momentum,
                nesterov,
                weight_decay,
                ..
            } => {
                check_unit("momentum", momentum)?;
                let momentum = (momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(momentum)
                        .with_dampening(0.0)
                        .with_nesterov(nesterov)
                });
                SgdConfig::new()
                    .with_momentum(momentum)
                    .with_weight_decay(decay(weight_decay))
                    .init()
            }
            Self::Adam {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            } => {
                check_unit("beta1", beta1)?;
                check_unit("beta2", beta2)?;
                ModuleOptimizer::from(FusedAdam::new(
                    beta1 as f32,
                    beta2 as f32,
                    epsilon as f32,
                    weight_decay as f32,
                ))
            }
            Self::AdamW {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            } => {
                check_unit("beta1", beta1)?;
                check_unit("beta2", beta2)?;
                AdamWConfig::new()
                    .with_beta_1(beta1 as f32)
                    .with_beta_2(beta2 as f32)
                    .with_epsilon(epsilon as f32)
                    .with_weight_decay(weight_decay as f32)
                    .init()
            }
            Self::Adadelta {
                rho,
                epsilon,
                weight_decay,
                sparse_rows,
                ..
            } => {
                check_unit("rho", rho)?;
                AdadeltaConfig {
                    rho,
                    epsilon,
                    weight_decay,
                    sparse_rows,
                }
                .init()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_parse_with_defaults() {
        let adadelta: OptimizerConfig =
            serde_json::from_str(r#"{"kind": "adadelta", "rho": 0.95}"#).unwrap();
        assert_eq!(
            adadelta,
            OptimizerConfig::Adadelta {
                lr: 1.0,
                rho: 0.95,
                epsilon: 1e-6,
                weight_decay: 0.0,
                sparse_rows: false,
            }
        );
        let sgd: OptimizerConfig =
            serde_json::from_str(r#"{"kind": "sgd", "lr": 0.1, "momentum": 0.9}"#).unwrap();
        assert_eq!(sgd.lr(), 0.1);
        assert!(sgd.init().is_ok());
    }

    #[test]
    fn bad_hyper_parameters_are_errors() {
        let bad = OptimizerConfig::Adam {
            lr: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
        };
        assert!(
            bad.init()
                .err()
                .unwrap()
                .to_string()
                .contains("learning rate")
        );
        let bad = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 1.5,
            nesterov: false,
            weight_decay: 0.0,
        };
        assert!(bad.init().err().unwrap().to_string().contains("momentum"));
    }
}
