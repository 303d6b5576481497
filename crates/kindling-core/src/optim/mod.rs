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
    /// Adam with learning rate `lr` and PyTorch's defaults for the rest (β 0.9 and 0.999,
    /// ε 1e-8, no weight decay).
    pub fn adam(lr: f64) -> Self {
        Self::Adam {
            lr,
            beta1: default_beta1(),
            beta2: default_beta2(),
            epsilon: default_adam_epsilon(),
            weight_decay: 0.0,
        }
    }

    /// Plain SGD with learning rate `lr`: no momentum, no weight decay.
    pub fn sgd(lr: f64) -> Self {
        Self::Sgd {
            lr,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }

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

    /// Checks every value: a learning rate positive and finite in f32 (the precision the
    /// updates run in), decays and momentum in `[0, 1)`, `epsilon` positive in f32 and at most
    /// 1, `weight_decay` in `[0, 1)`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the value and its allowed range.
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::InvalidConfig(message));
        let lr = self.lr();
        if !(lr.is_finite() && lr > 0.0 && (lr as f32).is_finite() && lr as f32 > 0.0) {
            return invalid(format!(
                "optimizer.lr must be positive and representable as f32 (about 1e-38 to 3e38), got {lr}"
            ));
        }
        let unit = |name: &str, value: f64| -> Result<()> {
            if (0.0..1.0).contains(&value) {
                Ok(())
            } else {
                invalid(format!("optimizer.{name} must be in [0, 1), got {value}"))
            }
        };
        let epsilon = |value: f64| -> Result<()> {
            if value > 0.0 && value <= 1.0 && value as f32 > 0.0 {
                Ok(())
            } else {
                invalid(format!(
                    "optimizer.epsilon must be in (0, 1] and positive as f32, got {value}"
                ))
            }
        };
        match *self {
            Self::Sgd {
                momentum,
                weight_decay,
                ..
            } => {
                unit("momentum", momentum)?;
                unit("weight_decay", weight_decay)
            }
            Self::Adam {
                beta1,
                beta2,
                epsilon: eps,
                weight_decay,
                ..
            }
            | Self::AdamW {
                beta1,
                beta2,
                epsilon: eps,
                weight_decay,
                ..
            } => {
                unit("beta1", beta1)?;
                unit("beta2", beta2)?;
                epsilon(eps)?;
                unit("weight_decay", weight_decay)
            }
            Self::Adadelta {
                rho,
                epsilon: eps,
                weight_decay,
                ..
            } => {
                unit("rho", rho)?;
                epsilon(eps)?;
                unit("weight_decay", weight_decay)
            }
        }
    }

    /// Builds the module optimizer.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any value [`OptimizerConfig::validate`] refuses.
    pub fn init(&self) -> Result<ModuleOptimizer> {
        self.validate()?;
        let decay = |weight_decay: f64| {
            (weight_decay != 0.0).then(|| WeightDecayConfig::new(weight_decay as f32))
        };
        Ok(match *self {
            Self::Sgd {
                momentum,
                nesterov,
                weight_decay,
                ..
            } => {
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
            } => ModuleOptimizer::from(FusedAdam::new(
                beta1 as f32,
                beta2 as f32,
                epsilon as f32,
                weight_decay as f32,
            )),
            Self::AdamW {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            } => AdamWConfig::new()
                .with_beta_1(beta1 as f32)
                .with_beta_2(beta2 as f32)
                .with_epsilon(epsilon as f32)
                .with_weight_decay(weight_decay as f32)
                .init(),
            Self::Adadelta {
                rho,
                epsilon,
                weight_decay,
                sparse_rows,
                ..
            } => AdadeltaConfig {
                rho,
                epsilon,
                weight_decay,
                sparse_rows,
            }
            .init(),
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
        let bad = OptimizerConfig::adam(0.0);
        assert!(
            bad.init()
                .err()
                .unwrap()
                .to_string()
                .contains("optimizer.lr")
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
