//! A model's initial weights written for the PyTorch side of a benchmark, so that both tools
//! start from the same point and differ only in how they compute (and in their dropout draws).
//!
//! Two files: `NAME.json`, a list of `{ "name", "shape", "offset" }` in PyTorch's parameter
//! names and layouts, and `NAME.f32`, the values as little-endian `f32` one tensor after the
//! other. The Python side copies each into the tensor of that name in its `state_dict` and
//! fails unless the two name sets are equal.

use std::path::Path;

use kindling_core::atomic::write_atomic;
use kindling_core::burn::module::{Module, ModuleVisitor, Param};
use kindling_core::burn::tensor::Tensor;

use crate::{Error, Result};

/// One parameter: its path in the burn module (`encoder.Lstm.cells.0.input_weight`), shape
/// and values (row-major).
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Module path, names joined by `.`.
    pub path: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f32>,
}

/// One tensor as the PyTorch side loads it: its `state_dict` name, shape and values.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchTensor {
    /// The `state_dict` key.
    pub name: String,
    /// Shape in PyTorch's layout.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f32>,
}

/// Collects every float parameter with its path.
#[derive(Default)]
struct Collect {
    path: Vec<String>,
    parameters: Vec<Parameter>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        self.parameters.push(Parameter {
            path: self.path.join("."),
            shape: tensor.dims().to_vec(),
            values: tensor
                .into_data()
                .convert::<f32>()
                .try_to_vec()
                .expect("f32 values after conversion"),
        });
    }
}

/// Where a burn parameter goes in PyTorch: its name there and whether it is stored transposed
/// (burn keeps `[in, out]` matrices, PyTorch `[out, in]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TorchName {
    /// The `state_dict` key.
    pub name: String,
    /// Transpose a 2-d parameter on the way.
    pub transpose: bool,
}

/// The PyTorch name of a kindling LSTM parameter: `cell` counts cells as kindling stacks
/// them (layer-major, forward before backward), `field` is the cell's field name.
///
/// `LstmCell`'s gate blocks are `i, f, g, o` in PyTorch's order, so only the layout differs.
pub fn torch_lstm_name(
    prefix: &str,
    cell: usize,
    directions: usize,
    field: &str,
) -> Option<TorchName> {
    let (layer, reverse) = (cell / directions, cell % directions == 1);
    let (kind, transpose) = match field {
        "input_weight" => ("weight_ih", true),
        "recurrent_weight" => ("weight_hh", true),
        "input_bias" => ("bias_ih", false),
        "hidden_bias" => ("bias_hh", false),
        _ => return None,
    };
    let suffix = if reverse { "_reverse" } else { "" };
    Some(TorchName {
        name: format!("{prefix}.{kind}_l{layer}{suffix}"),
        transpose,
    })
}

/// A renaming for [`write`]: the cells of a kindling LSTM stack at `lstm_path`
/// (`encoder.Lstm.cells`) become the `nn.LSTM` at `torch_lstm` with `directions`; the rest
/// follow `others`, `(kindling path, PyTorch name, transpose)`.
pub fn renaming<'a>(
    lstm_path: &'a str,
    torch_lstm: &'a str,
    directions: usize,
    others: &'a [(&'a str, &'a str, bool)],
) -> impl Fn(&str) -> Option<TorchName> + 'a {
    move |path| {
        if let Some((cell, field)) = path
            .strip_prefix(lstm_path)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.split_once('.'))
        {
            return torch_lstm_name(torch_lstm, cell.parse().ok()?, directions, field);
        }
        let &(_, name, transpose) = others.iter().find(|(ours, _, _)| *ours == path)?;
        Some(TorchName {
            name: name.to_string(),
            transpose,
        })
    }
}

/// `parameter` renamed (and transposed where asked) by `rename`; `None` when `rename` does not
/// know it. The conversion [`write`] takes for models whose parameters map one to one.
pub fn renamed(
    parameter: &Parameter,
    rename: impl Fn(&str) -> Option<TorchName>,
) -> Option<Vec<TorchTensor>> {
    let torch = rename(&parameter.path)?;
    let (shape, values) = match (torch.transpose, parameter.shape.as_slice()) {
        (true, &[rows, cols]) => (vec![cols, rows], transposed(&parameter.values, rows, cols)),
        _ => (parameter.shape.clone(), parameter.values.clone()),
    };
    Some(vec![TorchTensor {
        name: torch.name,
        shape,
        values,
    }])
}

/// Writes `model`'s parameters to `dir/NAME.json` and `dir/NAME.f32`, each turned into PyTorch
/// tensors by `convert` (see [`renamed`]).
///
/// # Errors
/// [`Error::Bench`] naming a parameter `convert` does not know, or a failed write.
pub fn write<M: Module>(
    model: &M,
    dir: &Path,
    name: &str,
    convert: impl Fn(&Parameter) -> Option<Vec<TorchTensor>>,
) -> Result<()> {
    let mut collect = Collect::default();
    model.visit(&mut collect);
    let mut manifest = Vec::new();
    let mut bytes = Vec::new();
    for parameter in &collect.parameters {
        let tensors = convert(parameter).ok_or_else(|| {
            Error::Bench(format!(
                "no PyTorch name for the parameter `{}`",
                parameter.path
            ))
        })?;
        for tensor in tensors {
            manifest.push(serde_json::json!({
                "name": tensor.name,
                "shape": tensor.shape,
                "offset": bytes.len() / 4,
            }));
            bytes.extend(tensor.values.iter().flat_map(|v| v.to_le_bytes()));
        }
    }
    let text = serde_json::to_string_pretty(&manifest).expect("a JSON list");
    for (file, contents) in [
        (dir.join(format!("{name}.f32")), bytes),
        (dir.join(format!("{name}.json")), text.into_bytes()),
    ] {
        write_atomic(&file, &contents)
            .map_err(|e| Error::Bench(format!("writing {}: {e}", file.display())))?;
    }
    Ok(())
}

/// `values` (`[rows, cols]`, row-major) as `[cols, rows]`.
fn transposed(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lstm_names_follow_pytorch() {
        let name = |cell, directions, field| torch_lstm_name("lstm", cell, directions, field);
        assert_eq!(
            name(0, 2, "input_weight"),
            Some(TorchName {
                name: "lstm.weight_ih_l0".into(),
                transpose: true
            })
        );
        assert_eq!(
            name(3, 2, "hidden_bias"),
            Some(TorchName {
                name: "lstm.bias_hh_l1_reverse".into(),
                transpose: false
            })
        );
        assert_eq!(
            name(1, 1, "recurrent_weight").unwrap().name,
            "lstm.weight_hh_l1"
        );
        assert_eq!(name(0, 1, "peephole"), None);
    }

    #[test]
    fn renaming_maps_lstm_cells_and_listed_parameters() {
        let rename = renaming(
            "encoder.Lstm.cells",
            "lstm",
            2,
            &[("head.w", "out.weight", true)],
        );
        assert_eq!(
            rename("encoder.Lstm.cells.1.input_bias").unwrap().name,
            "lstm.bias_ih_l0_reverse"
        );
        assert_eq!(
            rename("head.w"),
            Some(TorchName {
                name: "out.weight".into(),
                transpose: true
            })
        );
        assert_eq!(rename("head.b"), None);
        assert_eq!(rename("encoder.Lstm.cellsX.0.input_bias"), None);
    }

    #[test]
    fn transposing_swaps_rows_and_columns() {
        assert_eq!(
            transposed(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3),
            [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
    }
}
