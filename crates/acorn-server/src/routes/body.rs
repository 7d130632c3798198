//! Reading typed fields out of a JSON object body, collecting every problem.

use acorn_types::{FailureReason, ReasonCode, UnknownValue};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// A body being read; problems accumulate and are reported together by [`Fields::finish`].
pub struct Fields<'a> {
    body: &'a Map<String, Value>,
    reasons: Vec<FailureReason>,
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a Map<String, Value>) -> Self {
        Fields {
            body,
            reasons: Vec::new(),
        }
    }

    /// Refuses keys outside `allowed`.
    pub fn only(&mut self, allowed: &[&str]) {
        for key in self.body.keys().filter(|k| !allowed.contains(&k.as_str())) {
            self.reasons.push(FailureReason::invalid(
                key,
                format!("{key} is not a known field"),
            ));
        }
    }

    /// A closed-vocabulary value that must be present.
    pub fn required<T>(
        &mut self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, UnknownValue>,
    ) -> Option<T> {
        if self.body.get(key).is_none_or(Value::is_null) {
            self.reasons.push(FailureReason::new(
                ReasonCode::MissingRequiredInformation,
                format!("{key} is required"),
                &[key],
            ));
            return None;
        }
        self.optional(key, parse)
    }

    /// A closed-vocabulary value that may be absent or null.
    pub fn optional<T>(
        &mut self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, UnknownValue>,
    ) -> Option<T> {
        match self.body.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match parse(s) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.reasons
                        .push(FailureReason::invalid(key, format!("{key}: {e}")));
                    None
                }
            },
            Some(_) => {
                self.reasons.push(FailureReason::invalid(
                    key,
                    format!("{key} must be a string"),
                ));
                None
            }
        }
    }

    /// An optional JSON object.
    pub fn object(&mut self, key: &str) -> Option<Map<String, Value>> {
        match self.body.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => {
                self.reasons.push(FailureReason::invalid(
                    key,
                    format!("{key} must be a JSON object"),
                ));
                None
            }
        }
    }

    /// An optional boolean.
    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.body.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.reasons.push(FailureReason::invalid(
                    key,
                    format!("{key} must be true or false"),
                ));
                None
            }
        }
    }

    /// An optional string, distinguishing absent (`None`) from null (`Some(None)`).
    pub fn nullable_text(&mut self, key: &str) -> Option<Option<String>> {
        match self.body.get(key) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(_) => {
                self.reasons.push(FailureReason::invalid(
                    key,
                    format!("{key} must be a string or null"),
                ));
                None
            }
        }
    }

    /// 422 with every problem, if there was one.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.reasons.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.reasons))
        }
    }
}
