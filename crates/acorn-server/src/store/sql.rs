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

    /// [`Sql::into_parts`] for the engine sqlx names `backend`: on SQLite the placeholders
    /// become anonymous `?`s (numbered in order, as `$1, $2, …` were). sqlx asks SQLite the name
    /// of every placeholder, which walks a list of all named ones — quadratic in a statement of
    /// many rows (a batch's key rows: over a thousand placeholders), where an anonymous one has
    /// no name to look up.
    pub(crate) fn into_parts_for(
        self,
        backend: &str,
    ) -> Result<(String, AnyArguments<'static>), sqlx::Error> {
        let (text, args) = self.into_parts()?;
        if backend != "SQLite" {
            return Ok((text, args));
        }
        Ok((anonymous_placeholders(&text).unwrap_or(text), args))
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

/// Statements written one after the other in a transaction. On SQLite they go as one query
/// (SQLite runs them in order, each bound to its own arguments): one round trip to sqlx's
/// worker thread instead of one per statement. On PostgreSQL (whose extended protocol takes one
/// statement per query) they are sent one at a time.
pub(crate) struct Script {
    sqlite: bool,
    statements: Vec<Sql>,
}

impl Script {
    /// For the engine sqlx names `backend` (`AnyConnection::backend_name`).
    pub(crate) fn new(backend: &str) -> Self {
        Script {
            sqlite: backend == "SQLite",
            statements: Vec::new(),
        }
    }

    /// The engine's name as sqlx gives it.
    pub(crate) fn backend(&self) -> &'static str {
        if self.sqlite {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    }

    /// Whether the engine keeps `customer_marks` (SQLite; see `marks`).
    pub(crate) fn keeps_marks(&self) -> bool {
        self.sqlite
    }

    /// Starts the next statement (its text and arguments are pushed to what is returned).
    pub(crate) fn statement(&mut self) -> &mut Sql {
        if !self.sqlite || self.statements.is_empty() {
            self.statements.push(Sql::new(""));
        }
        let last = self.statements.len() - 1;
        let sql = &mut self.statements[last];
        if !sql.text.is_empty() {
            sql.push("; ");
        }
        sql
    }

    /// Runs the statements in order; the rows every statement returned, in order.
    pub(crate) async fn run(
        self,
        conn: &mut sqlx::AnyConnection,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        let backend = self.backend();
        let mut rows = Vec::new();
        for sql in self.statements {
            let (text, args) = sql.into_parts_for(backend)?;
            rows.extend(sqlx::query_with(&text, args).fetch_all(&mut *conn).await?);
        }
        Ok(rows)
    }
}

/// `text` with its placeholders `$1, $2, …, $n` replaced by `?`, when each appears exactly once
/// and in that order outside quoted text (so that SQLite numbers the `?`s the same); `None`
/// otherwise (the text is then used as it is).
fn anonymous_placeholders(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut next, mut i, mut copied) = (1usize, 0usize, 0usize);
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if b == b'$' => {
                let digits = bytes[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if digits > 0 {
                    let n: usize = text[i + 1..i + 1 + digits].parse().ok()?;
                    if n != next {
                        return None;
                    }
                    next += 1;
                    out.push_str(&text[copied..i]);
                    out.push('?');
                    i += 1 + digits;
                    copied = i;
                    continue;
                }
            }
            None => {}
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::anonymous_placeholders as anon;

    #[test]
    fn placeholders_in_order_become_anonymous() {
        assert_eq!(
            anon("INSERT INTO t VALUES ($1, $2), ($3, 'a$4', \"b$9\", $4)").as_deref(),
            Some("INSERT INTO t VALUES (?, ?), (?, 'a$4', \"b$9\", ?)")
        );
        assert_eq!(anon("SELECT 1").as_deref(), Some("SELECT 1"));
        // Reused or out of order: SQLite's `?` numbering would differ, so nothing changes.
        assert_eq!(anon("WHERE a = $1 OR b = $1"), None);
        assert_eq!(anon("WHERE a = $2 AND b = $1"), None);
        assert_eq!(anon("SELECT $10").as_deref(), None);
    }
}
