//! The building blocks of the request parsers: reading a JSON object body or query pairs while
//! collecting every problem as a [`FailureReason`], with the server's wording.

use serde_json::{Map, Value};

use crate::enums::UnknownValue;
use crate::envelope::{FailureReason, ReasonCode};

/// A JSON object body being read; problems accumulate in [`reasons`](Self::reasons).
#[derive(Debug)]
pub struct BodyFields<'a> {
    body: &'a Map<String, Value>,
    /// Every problem found so far, in the order found.
    pub reasons: Vec<FailureReason>,
}

impl<'a> BodyFields<'a> {
    /// Starts reading `body`.
    pub fn new(body: &'a Map<String, Value>) -> Self {
        Self {
            body,
            reasons: Vec::new(),
        }
    }

    /// Refuses keys outside `allowed`: `"<key> is not a known field"`.
    pub fn only(&mut self, allowed: &[&str]) {
        for key in self.body.keys().filter(|k| !allowed.contains(&k.as_str())) {
            self.reasons.push(FailureReason::invalid(
                key,
                format!("{key} is not a known field"),
            ));
        }
    }

    /// A closed-vocabulary string that must be present and not null
    /// (`missing_required_information`, `"<key> is required"`).
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

    /// A closed-vocabulary string that may be absent or null. A non-string is
    /// `"<key> must be a string"`; an unknown value `"<key>: <UnknownValue>"`.
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

    /// An optional JSON object (absent or null: `None`); otherwise
    /// `"<key> must be a JSON object"`.
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

    /// The reasons, or `Ok(())` when there are none.
    pub fn finish(self) -> Result<(), Vec<FailureReason>> {
        if self.reasons.is_empty() {
            Ok(())
        } else {
            Err(self.reasons)
        }
    }
}

/// Adds the values of one comma-separated query parameter to `out`: each part trimmed, parsed
/// with `parse` (whose error completes the sentence `<name>: "<part>" …`) and added once, so
/// repeated values — within one parameter or across repeats of it — never count twice. An
/// empty part is `"<name> contains an empty value"`.
pub fn comma_list<T: PartialEq>(
    name: &str,
    raw: &str,
    parse: impl Fn(&str) -> Result<T, String>,
    out: &mut Vec<T>,
    reasons: &mut Vec<FailureReason>,
) {
    for part in raw.split(',').map(str::trim) {
        if part.is_empty() {
            reasons.push(FailureReason::invalid(
                name,
                format!("{name} contains an empty value"),
            ));
            continue;
        }
        match parse(part) {
            Ok(v) if !out.contains(&v) => out.push(v),
            Ok(_) => {}
            Err(msg) => reasons.push(FailureReason::invalid(
                name,
                format!("{name}: {part:?} {msg}"),
            )),
        }
    }
}

/// The [`comma_list`] error for a value outside a closed vocabulary: `is not one of: …`.
pub fn not_one_of(e: UnknownValue) -> String {
    format!("is not one of: {}", e.allowed)
}

/// An integer query value ≥ `min` (`"<name> must be an integer ≥ <min>"`).
pub fn integer(name: &str, raw: &str, min: i64, reasons: &mut Vec<FailureReason>) -> Option<i64> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n >= min => Some(n),
        _ => {
            reasons.push(FailureReason::invalid(
                name,
                format!("{name} must be an integer ≥ {min}"),
            ));
            None
        }
    }
}

/// The reason for a query parameter no endpoint knows: `"<name> is not a known query
/// parameter"`.
pub fn unknown_parameter(name: &str) -> FailureReason {
    FailureReason::invalid(name, format!("{name} is not a known query parameter"))
}

/// `Ok(value)` when no reason was found, else every reason.
pub fn done<T>(value: T, reasons: Vec<FailureReason>) -> Result<T, Vec<FailureReason>> {
    if reasons.is_empty() {
        Ok(value)
    } else {
        Err(reasons)
    }
}

/// The reasons as one line, for serde errors: `message; message; …`.
pub fn joined(reasons: &[FailureReason]) -> String {
    reasons
        .iter()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Implements `Deserialize` through the type's `from_body`, so that deserializing and the
/// server's parser accept and refuse exactly the same bodies.
macro_rules! deserialize_via_from_body {
    ($name:ty) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let body = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
                <$name as $crate::requests::FromBody>::from_body(&body).map_err(|reasons| {
                    serde::de::Error::custom($crate::requests::parse::joined(&reasons))
                })
            }
        }
    };
}
pub(crate) use deserialize_via_from_body;

/// The query pairs a JSON object stands for: strings as they are, numbers and booleans as
/// their text, arrays as one pair per element (a repeated parameter), `null`s left out.
pub fn pairs_of(map: &Map<String, Value>) -> Vec<(String, String)> {
    fn text(v: &Value) -> Option<String> {
        match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
    let mut pairs = Vec::new();
    for (k, v) in map {
        match v {
            Value::Array(items) => {
                pairs.extend(items.iter().filter_map(text).map(|t| (k.clone(), t)));
            }
            other => pairs.extend(text(other).map(|t| (k.clone(), t))),
        }
    }
    pairs
}

/// Implements `Deserialize` through the type's `from_query` (reading the object as query
/// pairs, see [`pairs_of`]), so that deserializing and the server's parser agree.
macro_rules! deserialize_via_from_query {
    ($name:ty) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
                Self::from_query(&$crate::requests::parse::pairs_of(&map)).map_err(|reasons| {
                    serde::de::Error::custom($crate::requests::parse::joined(&reasons))
                })
            }
        }
    };
}
pub(crate) use deserialize_via_from_query;

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::enums::Provider;

    #[test]
    fn values_are_trimmed_parsed_and_kept_once_across_repeats() {
        let parse = |s: &str| Provider::parse(s).map_err(not_one_of);
        let (mut out, mut reasons) = (Vec::new(), Vec::new());
        comma_list(
            "provider",
            " stripe, BRIDGE ,stripe",
            parse,
            &mut out,
            &mut reasons,
        );
        comma_list("provider", "bridge", parse, &mut out, &mut reasons);
        assert_eq!(out, [Provider::Stripe, Provider::Bridge]);
        assert!(reasons.is_empty());

        comma_list("provider", "stripe,,paypal", parse, &mut out, &mut reasons);
        let messages: Vec<&str> = reasons.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], "provider contains an empty value");
        assert!(
            messages[1].starts_with("provider: \"paypal\" is not one of: "),
            "{}",
            messages[1]
        );
        assert!(reasons.iter().all(|r| r.fields == ["provider"]));
    }
}
