//! Range checks of configuration values, one definition shared by the model crates. Each
//! returns what is wrong as a message; a crate wraps it in its own error naming the field.
//!
//! ```
//! use kindling_core::validate;
//! assert!(validate::dropout(0.5).is_ok());
//! assert_eq!(validate::dropout(1.0).unwrap_err(), "must lie in [0, 1), got 1");
//! ```

/// A dropout probability: in `[0, 1)`.
///
/// # Errors
/// The problem, with the allowed range.
pub fn dropout(p: f64) -> Result<(), String> {
    if (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("must lie in [0, 1), got {p}"))
    }
}

/// A size: at least 1.
///
/// # Errors
/// The problem.
pub fn positive(n: usize) -> Result<(), String> {
    if n > 0 {
        Ok(())
    } else {
        Err("must be at least 1, got 0".into())
    }
}

/// A finite number.
///
/// # Errors
/// The problem.
pub fn finite(x: f64) -> Result<(), String> {
    if x.is_finite() {
        Ok(())
    } else {
        Err(format!("must be finite, got {x}"))
    }
}

/// An optional bound: when set, finite and positive.
///
/// # Errors
/// The problem.
pub fn positive_bound(bound: Option<f64>) -> Result<(), String> {
    match bound {
        Some(b) if !(b.is_finite() && b > 0.0) => {
            Err(format!("must be a positive number, got {b}"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_at_their_edges() {
        assert!(dropout(0.0).is_ok() && dropout(f64::NAN).is_err() && dropout(-0.1).is_err());
        assert!(positive(1).is_ok() && positive(0).is_err());
        assert!(finite(-3.0).is_ok() && finite(f64::INFINITY).is_err());
        assert!(positive_bound(None).is_ok() && positive_bound(Some(0.25)).is_ok());
        assert!(positive_bound(Some(0.0)).is_err() && positive_bound(Some(f64::NAN)).is_err());
    }
}
