//! Label sets: a fixed, ordered list of class names and the mapping to class ids.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The classes of a dataset, in id order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSet {
    names: Vec<String>,
}

impl LabelSet {
    /// A label set of exactly these names (ids in this order).
    ///
    /// # Errors
    /// [`Error::Invalid`] for no names or a repeated name.
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Result<Self> {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if names.is_empty() {
            return Err(Error::invalid("label set", "no labels"));
        }
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                return Err(Error::invalid(
                    "label set",
                    format!("`{name}` appears twice"),
                ));
            }
        }
        Ok(Self { names })
    }

    /// The distinct labels of `labels`, sorted (for files whose label set is not declared).
    ///
    /// # Errors
    /// [`Error::Invalid`] when `labels` is empty.
    pub fn from_observed<'a>(labels: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut names: Vec<&str> = labels.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        Self::new(names)
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false: a label set has at least one class.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Class names in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Name of class `id`.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    /// Id of `label`, if known.
    pub fn id(&self, label: &str) -> Option<u32> {
        self.names.iter().position(|n| n == label).map(|i| i as u32)
    }

    /// Id of `label` read at `path:line`.
    ///
    /// # Errors
    /// [`Error::UnknownLabel`] naming file, line, the label and the known labels.
    pub fn id_at(&self, label: &str, path: &Path, line: usize) -> Result<u32> {
        self.id(label).ok_or_else(|| Error::UnknownLabel {
            path: path.to_path_buf(),
            line,
            label: label.to_string(),
            known: self.names.join(", "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_declaration_order_and_unknown_labels_are_named() {
        let labels = LabelSet::new(["neg", "pos"]).unwrap();
        assert_eq!((labels.id("pos"), labels.name(0)), (Some(1), Some("neg")));
        let err = labels
            .id_at("neutral", Path::new("sst.txt"), 7)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "sst.txt:7: unknown label `neutral` (known: neg, pos)");
        assert!(LabelSet::new(["a", "a"]).is_err());
        assert!(LabelSet::new(Vec::<String>::new()).is_err());
        assert_eq!(
            LabelSet::from_observed(["b", "a", "b"]).unwrap().names(),
            ["a", "b"]
        );
    }
}
