//! Max-over-time pooling that ignores padding.

use kindling_core::burn::tensor::{Bool, Device, Tensor, TensorData};

/// Which windows of `width` words lie inside each sentence: window `j` of a sentence of length
/// `len` is valid when `j + width <= len`. A sentence shorter than the window keeps window 0
/// (padded up to the widest filter), so every row has a valid window.
///
/// # Shapes
/// `lengths`: one per sentence → `[batch, windows]`.
pub fn valid_windows(
    lengths: &[usize],
    width: usize,
    windows: usize,
    device: &Device,
) -> Tensor<2, Bool> {
    let data: Vec<bool> = lengths
        .iter()
        .flat_map(|&len| (0..windows).map(move |j| j == 0 || j + width <= len))
        .collect();
    Tensor::from_data(TensorData::new(data, [lengths.len(), windows]), device)
}

/// The maximum of each feature map over the valid windows.
///
/// # Shapes
/// `features`: `[batch, windows, maps]`, `valid`: `[batch, windows]` → `[batch, maps]`.
pub fn masked_max_over_time(features: Tensor<3>, valid: Tensor<2, Bool>) -> Tensor<2> {
    let [batch, windows, maps] = features.dims();
    let invalid = valid
        .bool_not()
        .unsqueeze_dim::<3>(2)
        .expand([batch, windows, maps]);
    features
        .mask_fill(invalid, f32::NEG_INFINITY)
        .max_dim(1)
        .squeeze_dim(1)
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use kindling_core::BackendKind;

    #[test]
    fn padding_windows_never_win() {
        let device = BackendKind::Flex.device().unwrap();
        // Width 2 over 4 positions → 3 windows; sentence lengths 4 and 2.
        let valid = valid_windows(&[4, 2], 2, 3, &device);
        let features = Tensor::<3>::from_data(
            TensorData::new(vec![1.0f32, 5.0, 2.0, 0.5, 9.0, 9.0], [2, 3, 1]),
            &device,
        );
        let pooled: Vec<f32> = masked_max_over_time(features, valid)
            .into_data()
            .try_to_vec()
            .unwrap();
        // Row 2 has one valid window (0): its 9s come from padding.
        assert_eq!(pooled, [5.0, 0.5]);
    }
}
