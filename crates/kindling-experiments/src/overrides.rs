//! `--set key=value`: changing any field of an experiment file from the command line.
//!
//! An override is applied to the file's TOML before it is read into its types, so it goes
//! through the same strict checks as the file itself: a misspelt key or a value of the wrong
//! type is an error naming the key, never a silently ignored setting. Keys are dotted paths
//! (`train.epochs`, `train.optimizer.lr`, `options.rnn.encoder.hidden`); a value is read as a
//! TOML value (`5`, `0.01`, `true`, `"text"`, `[3, 4, 5]`, `{ kind = "adam", lr = 0.001 }`),
//! and as a plain string when it is not one (`options.pooling=max`).

use std::str::FromStr;

/// One `key=value` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The dotted key, split.
    pub key: Vec<String>,
    /// The new value.
    pub value: toml::Value,
}

impl FromStr for Override {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
        let key: Vec<String> = key.trim().split('.').map(str::to_string).collect();
        if key.iter().any(String::is_empty) {
            return Err(format!("`{text}`: the key has an empty part"));
        }
        let value = value.trim();
        let value = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        Ok(Self { key, value })
    }
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.key.join("."), self.value)
    }
}

/// Sets each override in `table`, creating the tables on its path that are missing.
///
/// # Errors
/// A message naming the override when a part of its path is a value, not a table.
pub fn apply(table: &mut toml::Table, overrides: &[Override]) -> Result<(), String> {
    for o in overrides {
        let (last, parents) = o.key.split_last().expect("keys have a part");
        let mut at = &mut *table;
        for (depth, part) in parents.iter().enumerate() {
            let entry = at
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            at = entry.as_table_mut().ok_or_else(|| {
                format!(
                    "--set {o}: `{}` is a value, not a table",
                    o.key[..=depth].join(".")
                )
            })?;
        }
        at.insert(last.clone(), o.value.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str) -> Override {
        text.parse().unwrap()
    }

    #[test]
    fn values_are_toml_or_else_strings() {
        assert_eq!(set("train.epochs=5").value, toml::Value::Integer(5));
        assert_eq!(set("a=0.5").value, toml::Value::Float(0.5));
        assert_eq!(set("a = max").value, toml::Value::String("max".into()));
        assert_eq!(set("a=\"max\"").value, toml::Value::String("max".into()));
        assert!(set("a=[3, 4]").value.is_array());
        assert_eq!(
            set("train.optimizer.lr=1e-3").key,
            ["train", "optimizer", "lr"]
        );
        assert!("no-equals".parse::<Override>().is_err());
        assert!("a..b=1".parse::<Override>().is_err());
    }

    #[test]
    fn overrides_replace_values_and_create_tables() {
        let mut table: toml::Table = "[train]\nepochs = 3\n".parse().unwrap();
        apply(&mut table, &[set("train.epochs=7"), set("options.dim=50")]).unwrap();
        assert_eq!(table["train"]["epochs"].as_integer(), Some(7));
        assert_eq!(table["options"]["dim"].as_integer(), Some(50));
        let error = apply(&mut table, &[set("train.epochs.x=1")]).unwrap_err();
        assert!(error.contains("`train.epochs` is a value"), "{error}");
    }
}
