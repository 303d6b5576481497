//! Choosing the compute backend at run time.
//!
//! burn 0.22 carries the backend in the [`Device`] value, so model code has no backend type
//! parameter. [`BackendKind`] names the backends kindling supports and turns a name from a
//! command line (`--backend`) or the environment (`KINDLING_BACKEND`) into a device.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Environment variable consulted by [`BackendKind::from_env`].
pub const BACKEND_ENV: &str = "KINDLING_BACKEND";

/// A compute backend kindling can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn-flex: pure-Rust CPU backend with a tuned GEMM (the default).
    Flex,
    /// burn-ndarray: the older pure-Rust CPU backend.
    Ndarray,
    /// burn-wgpu: GPUs through Vulkan, Metal or DirectX (and CPUs through lavapipe).
    Wgpu,
    /// burn-cuda: NVIDIA GPUs.
    Cuda,
}

impl BackendKind {
    /// Every backend, compiled in or not.
    pub const ALL: [BackendKind; 4] = [Self::Flex, Self::Ndarray, Self::Wgpu, Self::Cuda];

    /// The lowercase name used on command lines and in result files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
            Self::Cuda => "cuda",
        }
    }

    /// The kindling-core cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        self.name()
    }

    /// Whether this build includes the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            Self::Flex => cfg!(feature = "flex"),
            Self::Ndarray => cfg!(feature = "ndarray"),
            Self::Wgpu => cfg!(feature = "wgpu"),
            Self::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The backends this build includes, in preference order.
    pub fn compiled() -> Vec<BackendKind> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }

    /// The default backend of this build: the first compiled one of flex, ndarray, wgpu, cuda.
    pub fn default_compiled() -> Result<BackendKind> {
        Self::compiled()
            .into_iter()
            .next()
            .ok_or(Error::BackendNotCompiled {
                backend: "any",
                feature: "flex",
            })
    }

    /// The backend named by `KINDLING_BACKEND`, or the build's default when it is unset.
    pub fn from_env() -> Result<BackendKind> {
        match std::env::var(BACKEND_ENV) {
            Ok(name) if !name.trim().is_empty() => name.parse(),
            _ => Self::default_compiled(),
        }
    }

    /// The inference device of this backend (no autodiff).
    ///
    /// Fails with [`Error::BackendNotCompiled`] naming the feature to enable when the backend is
    /// not part of this build.
    pub fn device(self) -> Result<Device> {
        let missing = Error::BackendNotCompiled {
            backend: self.name(),
            feature: self.feature(),
        };
        match self {
            #[cfg(feature = "flex")]
            Self::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            Self::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            Self::Wgpu => Ok(Device::wgpu(Default::default())),
            #[cfg(feature = "cuda")]
            Self::Cuda => Ok(Device::cuda(0)),
            #[allow(unreachable_patterns)]
            _ => Err(missing),
        }
    }

    /// The training device of this backend: [`device`](Self::device) with autodiff enabled.
    pub fn train_device(self) -> Result<Device> {
        Ok(self.device()?.autodiff())
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "flex" => Ok(Self::Flex),
            "ndarray" => Ok(Self::Ndarray),
            "wgpu" => Ok(Self::Wgpu),
            "cuda" => Ok(Self::Cuda),
            _ => Err(Error::UnknownBackend {
                name: name.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in BackendKind::ALL {
            assert_eq!(kind.name().parse::<BackendKind>().unwrap(), kind);
        }
        assert_eq!(" WGPU ".parse::<BackendKind>().unwrap(), BackendKind::Wgpu);
    }

    #[test]
    fn unknown_name_is_an_error() {
        let err = "tpu".parse::<BackendKind>().unwrap_err();
        assert!(err.to_string().contains("unknown backend `tpu`"));
    }

    #[test]
    fn missing_backend_names_the_feature() {
        if let Some(kind) = BackendKind::ALL.into_iter().find(|b| !b.is_compiled()) {
            let err = kind.device().unwrap_err().to_string();
            assert!(err.contains(kind.feature()), "{err}");
        }
    }

    #[cfg(feature = "flex")]
    #[test]
    fn flex_train_device_has_autodiff() {
        assert!(BackendKind::Flex.train_device().unwrap().is_autodiff());
    }
}
