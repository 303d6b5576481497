//! Delimited tables with a header row: TSV, or CSV with RFC 4180 quoting within a line.
//!
//! Quoted fields may contain the delimiter and doubled quotes (`"a ""b"", c"`), not line
//! breaks: a quote left open at the end of a line is an error naming the line.

use std::path::Path;

use crate::source::{Encoding, Lines};
use crate::{Error, Result};

/// The field separator, and whether quotes are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// Tab-separated; quotes are ordinary characters.
    Tab,
    /// Comma-separated with `"` quoting.
    Comma,
}

/// A table read whole: column names and rows of equal width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column names from the header row.
    pub columns: Vec<String>,
    /// The data rows, each with one field per column.
    pub rows: Vec<Vec<String>>,
    /// 1-based file line of each row.
    pub lines: Vec<usize>,
}

impl Table {
    /// Index of the column called `name`.
    ///
    /// # Errors
    /// [`Error::Invalid`] listing the columns there are.
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| {
            Error::invalid(
                "column",
                format!("no column `{name}` (columns: {})", self.columns.join(", ")),
            )
        })
    }

    /// The values of the column called `name`, in row order.
    ///
    /// # Errors
    /// As [`Table::column_index`].
    pub fn column(&self, name: &str) -> Result<Vec<&str>> {
        let index = self.column_index(name)?;
        Ok(self.rows.iter().map(|row| row[index].as_str()).collect())
    }
}

/// Reads a delimited file whose first non-blank line names the columns. Blank lines are
/// skipped.
///
/// # Errors
/// [`Error::Malformed`] for a row with the wrong number of fields, an unclosed quote or a
/// repeated column name; [`Error::Empty`] for a file without a header.
pub fn read_table(path: &Path, delimiter: Delimiter, encoding: Encoding) -> Result<Table> {
    let mut lines = Lines::open(path, encoding)?;
    let mut text = String::new();
    let mut columns: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut numbers = Vec::new();
    while let Some(line) = lines.read_line(&mut text)? {
        if text.trim().is_empty() {
            continue;
        }
        let fields = split_fields(&text, delimiter).map_err(|p| Error::malformed(path, line, p))?;
        match &columns {
            None => {
                for (i, name) in fields.iter().enumerate() {
                    if fields[..i].contains(name) {
                        return Err(Error::malformed(
                            path,
                            line,
                            format!("column `{name}` appears twice in the header"),
                        ));
                    }
                }
                columns = Some(fields);
            }
            Some(columns) => {
                if fields.len() != columns.len() {
                    return Err(Error::malformed(
                        path,
                        line,
                        format!(
                            "{} fields, but the header names {} columns",
                            fields.len(),
                            columns.len()
                        ),
                    ));
                }
                rows.push(fields);
                numbers.push(line);
            }
        }
    }
    let columns = columns.ok_or(Error::Empty {
        path: path.to_path_buf(),
        what: "table (no header row)",
    })?;
    Ok(Table {
        columns,
        rows,
        lines: numbers,
    })
}

/// Splits one line into fields.
///
/// # Errors
/// A description of the problem (an unclosed quote, text after a closing quote).
pub fn split_fields(line: &str, delimiter: Delimiter) -> Result<Vec<String>, String> {
    match delimiter {
        Delimiter::Tab => Ok(line.split('\t').map(str::to_string).collect()),
        Delimiter::Comma => split_csv(line),
    }
}

fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed on this line".into()),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => return Err(format!("unexpected `{c}` after a closing quote")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => {
                        fields.push(field);
                        break;
                    }
                    Some(c) => field.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scratch_file;

    #[test]
    fn reads_named_columns() {
        let path = scratch_file("t.tsv", b"text\tlabel\na b\tpos\n\nc\tneg\n");
        let table = read_table(&path, Delimiter::Tab, Encoding::Utf8).unwrap();
        assert_eq!(table.column("label").unwrap(), ["pos", "neg"]);
        assert_eq!(table.lines, [2, 4]);
        let err = table.column("score").unwrap_err().to_string();
        assert!(
            err.contains("no column `score` (columns: text, label)"),
            "{err}"
        );
    }

    #[test]
    fn csv_quotes_hold_commas_and_quotes() {
        let path = scratch_file(
            "t.csv",
            b"id,text\n1,\"hello, \"\"world\"\"\"\n2,\"\"\n3,plain\n",
        );
        let table = read_table(&path, Delimiter::Comma, Encoding::Utf8).unwrap();
        assert_eq!(
            table.column("text").unwrap(),
            ["hello, \"world\"", "", "plain"]
        );
    }

    #[test]
    fn wrong_width_unclosed_quote_and_empty_file_are_errors() {
        let cases: [(&[u8], Delimiter, &str); 4] = [
            (
                b"a\tb\n1\t2\t3\n",
                Delimiter::Tab,
                "t:2: 3 fields, but the header names 2 columns",
            ),
            (
                b"a,b\n1,\"open\n",
                Delimiter::Comma,
                "t:2: a quoted field is not closed",
            ),
            (
                b"a,b\n\"x\"y,2\n",
                Delimiter::Comma,
                "t:2: unexpected `y` after a closing quote",
            ),
            (b"a\ta\n", Delimiter::Tab, "t:1: column `a` appears twice"),
        ];
        for (content, delimiter, expected) in cases {
            let err =
                read_table(&scratch_file("t", content), delimiter, Encoding::Utf8).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} / {expected}");
        }
        let err =
            read_table(&scratch_file("t", b"\n"), Delimiter::Tab, Encoding::Utf8).unwrap_err();
        assert!(matches!(err, Error::Empty { .. }));
    }
}
