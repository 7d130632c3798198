//! A small SQL builder: text with `$n` placeholders plus the matching arguments, for queries
//! whose shape depends on the request (filters, column lists).

use std::fmt::Write;

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Encode, Type};

pub(crate) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            args: AnyArguments::default(),
            count: 0,
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
        // Encoding into the Any buffer only fails for types the Any driver lacks, which the
        // bound on `T` excludes; keep the placeholder count aligned regardless.
        if self.args.add(value).is_err() {
            self.args.add(Option::<String>::None).ok();
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

    /// Splits into text and arguments, for `sqlx::query_with(&text, args)`.
    pub(crate) fn into_parts(self) -> (String, AnyArguments<'static>) {
        (self.text, self.args)
    }
}
