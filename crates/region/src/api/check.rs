//! The one validation style for request parameters: a collector that reads
//! typed values from the request's `Input`, gathers every field's errors, and
//! ends with `finish()` → 400 with MAAS's field → messages body, before
//! anything is written.

use maas_model::constraints::{FieldErrors, out_of_range, parse_bool};

use crate::api::params::Input;
use crate::error::{Error, Result};

/// Field errors collected while reading parameters.
pub struct Check<'a> {
    input: &'a Input,
    errors: FieldErrors,
}

impl<'a> Check<'a> {
    pub fn new(input: &'a Input) -> Self {
        Check {
            input,
            errors: FieldErrors::new(),
        }
    }

    /// Record an error on `field`.
    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_default()
            .push(msg.into());
    }

    /// Whether `field` already has an error.
    pub fn has(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// A boolean parameter if present (`true`/`false`/`1`/`0`/…).
    pub fn bool(&mut self, key: &str) -> Option<bool> {
        let v = self.input.get(key)?;
        let b = parse_bool(v);
        if b.is_none() {
            self.add(key, format!("'{v}' is not a valid boolean."));
        }
        b
    }

    /// An integer parameter if present and non-empty.
    pub fn int(&mut self, key: &str) -> Option<i64> {
        let v = self.input.get_nonempty(key)?;
        let n = v.trim().parse::<i64>().ok();
        if n.is_none() {
            self.add(key, format!("'{v}' is not a valid integer."));
        }
        n
    }

    /// An integer parameter within `lo..=hi`.
    pub fn int_between(&mut self, key: &str, lo: i64, hi: i64) -> Option<i64> {
        let n = self.int(key)?;
        match out_of_range(n, lo, hi) {
            Some(msg) => {
                self.add(key, msg);
                None
            }
            None => Some(n),
        }
    }

    /// A present parameter, trimmed; `Some("")` means "clear it".
    pub fn text(&self, key: &str) -> Option<String> {
        self.input.get(key).map(|s| s.trim().to_string())
    }

    /// The collected errors, if any, as one validation error.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }

    /// Give up the collected errors (to merge them elsewhere).
    pub fn into_errors(self) -> FieldErrors {
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> Input {
        let mut i = Input::default();
        for (k, v) in pairs {
            i.params
                .entry(k.to_string())
                .or_default()
                .push(v.to_string());
        }
        i
    }

    #[test]
    fn collects_every_field_error_then_refuses() {
        let i = input(&[("a", "x"), ("b", "maybe"), ("c", "70"), ("d", "5")]);
        let mut c = Check::new(&i);
        assert_eq!(c.int("a"), None);
        assert_eq!(c.bool("b"), None);
        assert_eq!(c.int_between("c", 0, 64), None);
        assert_eq!(c.int_between("d", 0, 64), Some(5));
        assert_eq!(c.int("missing"), None);
        assert!(c.has("a") && c.has("b") && c.has("c") && !c.has("d"));
        match c.finish() {
            Err(Error::Validation(f)) => assert_eq!(f.len(), 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn clean_input_passes() {
        let i = input(&[("on", "true"), ("n", " 7 ")]);
        let mut c = Check::new(&i);
        assert_eq!(c.bool("on"), Some(true));
        assert_eq!(c.int("n"), Some(7));
        assert_eq!(c.text("n").as_deref(), Some("7"));
        assert!(c.finish().is_ok());
    }
}
