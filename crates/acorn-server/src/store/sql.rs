//! A small SQL builder: text with `$n` placeholders plus the matching arguments, for queries
//! whose shape depends on the request (filters, column lists).

use std::fmt::Write;

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Encode, Type};

pub(crate) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
    /// The first value that could not be encoded; returned by [`Sql::into_parts`].
    error: Option<sqlx::error::BoxDynError>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            args: AnyArguments::default(),
            count: 0,
            error: None,
        }
    }

    /// Appends raw SQL text (never user input).
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + Encode<'static, Any> + Type<Any> + Send,
    {
        self.count += 1;
        let _ = write!(self.text, "${}", self.count);
        // A value that cannot be encoded fails the query when it is built (into_parts), never
        // silently: the placeholder count stays aligned until then.
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e);
        }
        self
    }

    /// Appends `(p1, p2, …)` bound to `values`.
    pub(crate) fn bind_list(&mut self, values: &[String]) -> &mut Self {
        self.push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v.clone());
        }
        self.push(")")
    }

    /// The SQL text so far (for plans and diagnostics).
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Splits into text and arguments, for `sqlx::query_with(&text, args)`; the first encoding
    /// error of a bound value, if any.
    pub(crate) fn into_parts(self) -> Result<(String, AnyArguments<'static>), sqlx::Error> {
        match self.error {
            Some(e) => Err(sqlx::Error::Encode(e)),
            None => Ok((self.text, self.args)),
        }
    }
}
