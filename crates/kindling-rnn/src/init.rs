//! How the recurrent layers fill their weights.
//!
//! Every cell has an input weight `W` of shape `[d_input, gates · d_hidden]`, a recurrent
//! weight `U` of shape `[d_hidden, gates · d_hidden]` and two biases of `[gates · d_hidden]`
//! (input and hidden, as PyTorch keeps them). The defaults are:
//!
//! - `W`: Xavier-uniform (Glorot & Bengio 2010) over the whole matrix;
//! - `U`: orthogonal (Saxe et al. 2013), drawn **per gate**, so each `[d_hidden, d_hidden]`
//!   block is itself orthogonal and repeated multiplication by it neither grows nor shrinks
//!   the state; [`Init::Identity`] instead gives the IRNN of Le et al. (2015), "A Simple Way
//!   to Initialize Recurrent Networks of Rectified Linear Units", for a ReLU [`crate::RnnCell`];
//! - biases: zero, except the LSTM's forget gate, whose input bias starts at 1 (Jozefowicz et
//!   al. 2015) so that a fresh LSTM remembers by default.
//!
//! The choices are [`kindling_core::init::Init`] values, so any of the classic initialisers can
//! be configured.

use kindling_core::burn::module::{Param, ParamId};
use kindling_core::burn::tensor::{Device, Tensor, TensorData};
use kindling_core::init::Init;

use crate::Result;

/// The default input-weight initialiser: Xavier-uniform with gain 1.
pub fn default_input_init() -> Init {
    Init::XavierUniform { gain: 1.0 }
}

/// The default recurrent-weight initialiser: orthogonal with gain 1, per gate.
pub fn default_recurrent_init() -> Init {
    Init::Orthogonal { gain: 1.0 }
}

/// The input weight `[d_input, gates · d_hidden]`, drawn as one matrix.
pub(crate) fn input_weight(
    init: &Init,
    d_input: usize,
    width: usize,
    device: &Device,
) -> Result<Param<Tensor<2>>> {
    Ok(init.param([d_input, width], Some(d_input), Some(width), device)?)
}

/// The recurrent weight `[d_hidden, gates · d_hidden]`, one square block per gate.
pub(crate) fn recurrent_weight(
    init: &Init,
    d_hidden: usize,
    gates: usize,
    device: &Device,
) -> Result<Param<Tensor<2>>> {
    let blocks = (0..gates)
        .map(|_| {
            init.param::<2>([d_hidden, d_hidden], Some(d_hidden), Some(d_hidden), device)
                .map(|p| p.val())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(trainable(Tensor::cat(blocks, 1), device))
}

/// A bias of `gates · d_hidden` values drawn by `init` (zeros when `None`), with `value` added
/// to gate `block` (if any).
pub(crate) fn bias(
    init: Option<&Init>,
    d_hidden: usize,
    gates: usize,
    block: Option<(usize, f64)>,
    device: &Device,
) -> Result<Param<Tensor<1>>> {
    let n = gates * d_hidden;
    let mut values = match init {
        Some(init) => init
            .param::<1>([n], Some(d_hidden), Some(n), device)?
            .val()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("float values"),
        None => vec![0f32; n],
    };
    if let Some((gate, value)) = block {
        for v in &mut values[gate * d_hidden..(gate + 1) * d_hidden] {
            *v += value as f32;
        }
    }
    Ok(trainable(
        Tensor::from_data(TensorData::new(values, [n]), device),
        device,
    ))
}

/// A parameter of `tensor`, recording gradients on an autodiff device.
pub(crate) fn trainable<const D: usize>(tensor: Tensor<D>, device: &Device) -> Param<Tensor<D>> {
    let tensor = tensor.detach();
    let tensor = if device.is_autodiff() {
        tensor.require_grad()
    } else {
        tensor
    };
    Param::initialized(ParamId::new(), tensor)
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use kindling_core::BackendKind;
    use kindling_core::seed::build_seeded;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn recurrent_blocks_are_each_orthogonal() {
        let device = BackendKind::Flex.device().unwrap();
        let u = build_seeded(&device, 4, || {
            recurrent_weight(&default_recurrent_init(), 3, 4, &device).unwrap()
        })
        .val();
        assert_eq!(u.dims(), [3, 12]);
        for gate in 0..4 {
            let block = u.clone().narrow(1, gate * 3, 3);
            let gram = values(block.clone().transpose().matmul(block));
            for i in 0..3 {
                for j in 0..3 {
                    let expected = if i == j { 1.0 } else { 0.0 };
                    assert!((gram[i * 3 + j] - expected).abs() < 1e-4, "{gram:?}");
                }
            }
        }
    }

    #[test]
    fn identity_blocks_and_forget_bias() {
        let device = BackendKind::Flex.device().unwrap();
        let u = recurrent_weight(&Init::Identity { gain: 1.0 }, 2, 2, &device).unwrap();
        assert_eq!(values(u.val()), vec![1., 0., 1., 0., 0., 1., 0., 1.]);
        let b = bias(None, 2, 4, Some((1, 1.0)), &device).unwrap();
        assert_eq!(values(b.val()), vec![0., 0., 1., 1., 0., 0., 0., 0.]);
    }

    #[test]
    fn drawn_biases_get_the_forget_offset_on_top() {
        let device = BackendKind::Flex.device().unwrap();
        let init = Init::Uniform {
            min: -0.5,
            max: 0.5,
        };
        let draw = |block| {
            let b = build_seeded(&device, 3, || {
                bias(Some(&init), 4, 4, block, &device).unwrap()
            });
            values(b.val())
        };
        let (plain, shifted) = (draw(None), draw(Some((1, 2.0))));
        assert!(plain.iter().all(|v| (-0.5..0.5).contains(v)), "{plain:?}");
        assert!(plain.iter().any(|&v| v != 0.0));
        for (i, (p, s)) in plain.iter().zip(&shifted).enumerate() {
            let offset = if (4..8).contains(&i) { 2.0 } else { 0.0 };
            assert!((s - p - offset).abs() < 1e-6, "{i}: {p} {s}");
        }
    }
}
