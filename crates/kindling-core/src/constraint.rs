//! Weight constraints applied after optimizer steps (see [`crate::train::TrainStep::constrain`]).

use burn::module::Param;
use burn::tensor::Tensor;

/// Rescales the vectors along `dim` of `weight` whose L2 norm exceeds `max_norm` back to
/// `max_norm` (Hinton et al. 2012; Kim 2014 uses `max_norm = 3` on the output layer).
///
/// For a burn `Linear` weight of shape `[d_input, d_output]`, `dim = 0` constrains the incoming
/// weights of each output unit, as Kim's code does.
///
/// # Shapes
/// - `weight`: `[rows, cols]`; the result has the same shape.
pub fn max_norm(weight: Tensor<2>, max_norm: f64, dim: usize) -> Tensor<2> {
    let norms = weight.clone().square().sum_dim(dim).sqrt();
    let scale = norms
        .clone()
        .clamp_max(max_norm)
        .div(norms.add_scalar(1e-7));
    weight * scale
}

/// [`max_norm`] applied to a parameter, keeping its id (and so its optimizer state) and
/// detaching the rescaled value from the graph of the step that produced it.
pub fn max_norm_param(param: Param<Tensor<2>>, limit: f64, dim: usize) -> Param<Tensor<2>> {
    param.map(|w| {
        let requires_grad = w.is_require_grad();
        // Detached again: the rescaling's result is not a leaf, and only leaves can track
        // gradients.
        let constrained = max_norm(w.detach(), limit, dim).detach();
        if requires_grad {
            constrained.require_grad()
        } else {
            constrained
        }
    })
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn long_columns_are_shortened_short_ones_kept() {
        let device = Device::flex();
        // Column norms: 5 and 0.5.
        let w = Tensor::<2>::from_floats([[3.0, 0.3], [4.0, 0.4]], &device);
        let got = max_norm(w, 1.0, 0).into_data().try_to_vec::<f32>().unwrap();
        let expected = [0.6, 0.3, 0.8, 0.4];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-5, "{got:?}");
        }
    }

    #[test]
    fn a_trainable_parameter_stays_trainable_on_an_autodiff_device() {
        let device = Device::flex().autodiff();
        let w = Tensor::<2>::from_floats([[3.0, 0.3], [4.0, 0.4]], &device).require_grad();
        let param = max_norm_param(Param::from_tensor(w), 1.0, 0);
        assert!(param.val().is_require_grad());
        let norm: f32 = param.val().square().sum().sqrt().into_scalar();
        assert!((norm - 1.25f32.sqrt()).abs() < 1e-5, "{norm}");
    }
}
