//! Moving values in and out of burn-flex tensors, for the CPU kernels of the model crates.

use std::borrow::Cow;

use burn::backend::DispatchDevice;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Device, TensorData};

/// Whether tensors on `device` live on burn-flex (with or without autodiff).
pub fn runs_on_flex(device: &Device) -> bool {
    matches!(
        device.clone().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    )
}

/// A float tensor's values in row-major order, borrowed when the tensor is contiguous.
///
/// # Panics
/// When the tensor is not `f32` (the model computes in `f32`).
pub fn floats(tensor: &FlexTensor) -> Cow<'_, [f32]> {
    assert_eq!(tensor.dtype(), DType::F32, "the CPU kernels compute in f32");
    match tensor.as_slice::<f32>() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(
            tensor
                .to_contiguous()
                .as_slice::<f32>()
                .expect("a contiguous f32 tensor")
                .to_vec(),
        ),
    }
}

/// An integer tensor's values as indices, in row-major order.
///
/// # Panics
/// When a value is negative or the tensor is not an integer tensor.
pub fn indices(tensor: &FlexTensor) -> Vec<usize> {
    let tensor = tensor.to_contiguous();
    let index = |v: i64| usize::try_from(v).expect("a non-negative index");
    match tensor.dtype() {
        DType::I64 => tensor
            .as_slice::<i64>()
            .unwrap()
            .iter()
            .map(|&v| index(v))
            .collect(),
        DType::I32 => tensor
            .as_slice::<i32>()
            .unwrap()
            .iter()
            .map(|&v| index(v.into()))
            .collect(),
        DType::U32 => tensor
            .as_slice::<u32>()
            .unwrap()
            .iter()
            .map(|&v| v as usize)
            .collect(),
        other => panic!("indices must be integers, got {other:?}"),
    }
}

/// A burn-flex tensor owning `values` (no copy).
pub fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}
