//! Weight initialisers: the classic set, usable by every model crate.
//!
//! [`Init`] is a serialisable choice made at run time (a config field), mapped onto burn's
//! [`Initializer`] where burn has one, plus [`Init::Identity`] for square recurrent matrices
//! (Le et al. 2015, "A Simple Way to Initialize Recurrent Networks of Rectified Linear Units").
//! Random initialisers draw from the device RNG, so [`crate::seed::seed_device`] before building
//! a model makes its initial parameters reproducible.

use burn::module::{Param, ParamId};
use burn::nn::Initializer;
use burn::tensor::{Device, Shape, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How to fill a parameter tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// A constant value.
    Constant {
        /// The value.
        value: f64,
    },
    /// Uniform on `[min, max)`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Normal with the given mean and standard deviation.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Glorot & Bengio (2010) uniform: `U(±gain·√(6 / (fan_in + fan_out)))`.
    XavierUniform {
        /// Gain (1 for linear / sigmoid, √2 for ReLU).
        gain: f64,
    },
    /// Glorot & Bengio (2010) normal: `N(0, gain²·2 / (fan_in + fan_out))`.
    XavierNormal {
        /// Gain.
        gain: f64,
    },
    /// He et al. (2015) uniform, on the fan-in.
    KaimingUniform {
        /// Gain.
        gain: f64,
    },
    /// (Semi-)orthogonal matrix (Saxe et al. 2013) scaled by `gain`.
    Orthogonal {
        /// Gain.
        gain: f64,
    },
    /// `gain` times the identity; only for square rank-2 shapes.
    Identity {
        /// Gain.
        gain: f64,
    },
}

impl Init {
    /// Creates a parameter of `shape` on `device`.
    ///
    /// `fan_in` / `fan_out` are needed by the Xavier and Kaiming variants; for a `Linear` weight
    /// of shape `[d_input, d_output]` they are `d_input` and `d_output`.
    ///
    /// # Errors
    /// [`Error::Mismatch`] when [`Init::Identity`] is asked for a shape that is not square, and
    /// [`Error::InvalidConfig`] when a fan-based initialiser gets no fans or `min >= max`.
    pub fn param<const D: usize>(
        &self,
        shape: impl Into<Shape>,
        fan_in: Option<usize>,
        fan_out: Option<usize>,
        device: &Device,
    ) -> Result<Param<Tensor<D>>> {
        let shape: Shape = shape.into();
        if let Self::Identity { gain } = self {
            return identity(&shape, *gain, device);
        }
        if let Self::Uniform { min, max } = self
            && min >= max
        {
            return Err(Error::InvalidConfig(format!(
                "uniform initialiser needs min < max, got [{min}, {max})"
            )));
        }
        let fans_missing = match self {
            Self::XavierUniform { .. } | Self::XavierNormal { .. } => {
                fan_in.is_none() || fan_out.is_none()
            }
            Self::KaimingUniform { .. } => fan_in.is_none(),
            _ => false,
        };
        if fans_missing {
            return Err(Error::InvalidConfig(format!(
                "{self:?} needs the parameter's fan_in and fan_out"
            )));
        }
        let burn_init = self.to_burn().expect("identity was handled above");
        Ok(burn_init.init_with(shape, fan_in, fan_out, device))
    }

    /// The burn initialiser for this choice, where burn has one (not for `Identity`).
    pub fn to_burn(&self) -> Option<Initializer> {
        Some(match self {
            Self::Identity { .. } => return None,
            Self::Zeros => Initializer::Zeros,
            Self::Constant { value } => Initializer::Constant { value: *value },
            Self::Uniform { min, max } => Initializer::Uniform {
                min: *min,
                max: *max,
            },
            Self::Normal { mean, std } => Initializer::Normal {
                mean: *mean,
                std: *std,
            },
            Self::XavierUniform { gain } => Initializer::XavierUniform { gain: *gain },
            Self::XavierNormal { gain } => Initializer::XavierNormal { gain: *gain },
            Self::KaimingUniform { gain } => Initializer::KaimingUniform {
                gain: *gain,
                fan_out_only: false,
            },
            Self::Orthogonal { gain } => Initializer::Orthogonal { gain: *gain },
        })
    }
}

/// `gain · I` for a square rank-2 `shape`.
fn identity<const D: usize>(shape: &Shape, gain: f64, device: &Device) -> Result<Param<Tensor<D>>> {
    let dims: Vec<usize> = (0..shape.num_dims()).map(|i| shape[i]).collect();
    if D != 2 || dims[0] != dims[1] {
        return Err(Error::mismatch(
            "identity initialisation",
            "a square [n, n] shape",
            format!("{dims:?}"),
        ));
    }
    let n = dims[0];
    let mut values = vec![0f32; n * n];
    for i in 0..n {
        values[i * n + i] = gain as f32;
    }
    let tensor = Tensor::<D>::from_data(TensorData::new(values, shape.clone()), device);
    let tensor = if device.is_autodiff() {
        tensor.require_grad()
    } else {
        tensor
    };
    Ok(Param::initialized(ParamId::new(), tensor))
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    fn values<const D: usize>(p: Param<Tensor<D>>) -> Vec<f32> {
        p.val().into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn identity_is_the_identity() {
        let device = Device::flex();
        let p = Init::Identity { gain: 1.0 }
            .param::<2>([3, 3], None, None, &device)
            .unwrap();
        assert_eq!(values(p), vec![1., 0., 0., 0., 1., 0., 0., 0., 1.]);
        assert!(
            Init::Identity { gain: 1.0 }
                .param::<2>([3, 4], None, None, &device)
                .is_err()
        );
    }

    #[test]
    fn xavier_uniform_respects_its_bound() {
        let device = Device::flex();
        let p = crate::seed::build_seeded(&device, 1, || {
            Init::XavierUniform { gain: 1.0 }
                .param::<2>([100, 50], Some(100), Some(50), &device)
                .unwrap()
        });
        let bound = (6.0f32 / 150.0).sqrt();
        let v = values(p);
        assert!(v.iter().all(|x| x.abs() <= bound + 1e-6));
        assert!(v.iter().any(|x| x.abs() > bound * 0.9));
        assert!(
            Init::XavierUniform { gain: 1.0 }
                .param::<2>([2, 2], None, None, &device)
                .is_err()
        );
    }

    #[test]
    fn orthogonal_rows_are_orthonormal() {
        let device = Device::flex();
        let p = crate::seed::build_seeded(&device, 1, || {
            Init::Orthogonal { gain: 1.0 }
                .param::<2>([4, 4], Some(4), Some(4), &device)
                .unwrap()
        });
        let w = p.val();
        let gram = w
            .clone()
            .matmul(w.transpose())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for i in 0..4 {
            for j in 0..4 {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((gram[i * 4 + j] - expected).abs() < 1e-4, "{gram:?}");
            }
        }
    }

    #[test]
    fn zeros_and_seeded_normals() {
        let device = Device::flex();
        let z = Init::Zeros.param::<1>([5], None, None, &device).unwrap();
        assert_eq!(values(z), vec![0.0; 5]);
        let draw = |seed: u64| {
            values(crate::seed::build_seeded(&device, seed, || {
                Init::Normal {
                    mean: 0.0,
                    std: 1.0,
                }
                .param::<1>([8], None, None, &device)
                .unwrap()
            }))
        };
        let first = draw(11);
        assert_eq!(first, draw(11), "the same seed draws the same values");
        assert_ne!(first, draw(12), "another seed draws other values");
        assert!(
            first.iter().any(|&x| x != first[0]),
            "the values vary: {first:?}"
        );
    }
}
