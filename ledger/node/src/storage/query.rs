//! Building SQL with bound values that both backends read.
//!
//! sqlx's own `QueryBuilder` writes `?` placeholders for the `Any` driver, which
//! PostgreSQL rejects. This one numbers them (`$1`, `$2`, …), which PostgreSQL requires
//! and SQLite reads by number, so one statement text serves both; a multi-row statement
//! is written for its connection's backend ([`Placeholders`]).

use super::sql::Backend;
use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use sqlx::{AnyConnection, Arguments, Encode, Type};
use std::fmt::Write;

/// Most rows one multi-row statement takes: at the widest row written, a need's post of
/// 17 values, 8,704 bound parameters, well under SQLite's 32,766 and PostgreSQL's 65,535.
pub const MAX_ROWS: usize = 512;

/// `rows` cut for multi-row statements: chunks whose lengths are powers of two, at most
/// [`MAX_ROWS`], largest first (37 rows: 32, 4, 1).
///
/// A connection prepares each statement text once and keeps it prepared, but a
/// statement of 37 rows and one of 38 are different texts: cut at any length, almost
/// every batch prepares (parses and plans) new ones, at a cost that grows with their
/// rows. Measured on the integrator's SQLite connection, that cost more than the
/// statements multi-row inserts saved; with these lengths a table has at most ten
/// texts, all prepared once.
pub fn row_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        let length = rest.len().min(MAX_ROWS);
        if length == 0 {
            return None;
        }
        let (chunk, tail) = rest.split_at(1 << length.ilog2());
        rest = tail;
        Some(chunk)
    })
}

/// How a statement's placeholders are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Placeholders {
    /// `$1`, `$2`, …: what PostgreSQL requires, and SQLite reads by number.
    #[default]
    Numbered,
    /// `?`: SQLite's anonymous placeholders, bound in order. As sqlx binds a value it
    /// asks SQLite the name of its placeholder, which SQLite finds by a linear search
    /// through the statement's named ones: binding n numbered values costs n², the
    /// largest single function of the integrator's SQLite thread under load (6 % of
    /// its time) while multi-row statements of hundreds of values were numbered.
    Anonymous,
}

impl Placeholders {
    /// The cheapest placeholders `conn`'s backend reads.
    pub fn of(conn: &AnyConnection) -> Self {
        Backend::of(conn).into()
    }
}

impl From<Backend> for Placeholders {
    fn from(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Placeholders::Anonymous,
            Backend::Postgres => Placeholders::Numbered,
        }
    }
}

/// A statement under construction: SQL text and the values bound so far.
#[derive(Default)]
pub struct QueryBuilder<'args> {
    sql: String,
    arguments: AnyArguments<'args>,
    placeholders: Placeholders,
}

impl<'args> QueryBuilder<'args> {
    /// A statement whose placeholders are numbered, which both backends read.
    pub fn new(sql: impl Into<String>) -> Self {
        Self::with_placeholders(Placeholders::Numbered, sql)
    }

    /// A statement whose placeholders are written as `placeholders`. With anonymous
    /// ones, every placeholder of the statement must be one bound through the builder:
    /// sqlx numbers the anonymous placeholders among themselves, so beside a numbered
    /// one they would take the wrong values ([`QueryBuilder::build`] checks).
    pub fn with_placeholders(placeholders: Placeholders, sql: impl Into<String>) -> Self {
        QueryBuilder {
            sql: sql.into(),
            arguments: AnyArguments::default(),
            placeholders,
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
        write!(self.sql, "{sql}").expect("writing to a String");
        self
    }

    /// Binds `value` and appends its placeholder.
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        self.arguments
            .add(value)
            .expect("Any arguments encode every supported type");
        match self.placeholders {
            Placeholders::Numbered => {
                write!(self.sql, "${}", self.arguments.len()).expect("writing to a String")
            }
            Placeholders::Anonymous => self.sql.push('?'),
        }
        self
    }

    /// Appends `(v, v, …), (v, v, …)`: one parenthesised row per item, each filled by
    /// `row`, which binds the row's values in column order.
    pub fn push_values<I, F>(&mut self, items: I, mut row: F) -> &mut Self
    where
        I: IntoIterator,
        F: FnMut(&mut Row<'_, 'args>, I::Item),
    {
        self.push("VALUES ");
        for (n, item) in items.into_iter().enumerate() {
            self.push(if n == 0 { "(" } else { ", (" });
            row(
                &mut Row {
                    builder: self,
                    first: true,
                },
                item,
            );
            self.push(")");
        }
        self
    }

    /// Appends `v, v, …`: one bound value per item.
    pub fn push_list<T, I>(&mut self, values: I) -> &mut Self
    where
        I: IntoIterator<Item = T>,
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        for (n, value) in values.into_iter().enumerate() {
            if n > 0 {
                self.push(", ");
            }
            self.push_bind(value);
        }
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The statement, ready to run; the builder is left empty.
    pub fn build(&mut self) -> Query<'_, Any, AnyArguments<'_>> {
        debug_assert!(
            self.placeholders == Placeholders::Numbered
                || (!self.sql.contains('$')
                    && self.sql.matches('?').count() == self.arguments.len()),
            "a statement of anonymous placeholders holds only those bound through the builder: {}",
            self.sql
        );
        sqlx::query_with(&self.sql, std::mem::take(&mut self.arguments))
    }
}

/// One row of a `push_values`: values separated by commas.
pub struct Row<'b, 'args> {
    builder: &'b mut QueryBuilder<'args>,
    first: bool,
}

impl<'args> Row<'_, 'args> {
    pub fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'args + Encode<'args, Any> + Type<Any>,
    {
        if !self.first {
            self.builder.push(", ");
        }
        self.first = false;
        self.builder.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "anonymous placeholders")]
    fn anonymous_placeholders_beside_numbered_ones_are_refused() {
        let mut q = QueryBuilder::with_placeholders(Placeholders::Anonymous, "SELECT $1, ");
        q.push_bind(1_i64);
        let _ = q.build();
    }

    #[test]
    fn placeholders_are_written_in_binding_order() {
        let mut q = QueryBuilder::new("SELECT * FROM t WHERE a = ");
        q.push_bind(1_i64).push(" AND b IN (");
        q.push_list(["x", "y"]).push(")");
        assert_eq!(q.sql(), "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)");
        let mut q = QueryBuilder::new("INSERT INTO t (a, b) ");
        q.push_values([(1_i64, "p"), (2, "q")], |row, (a, b)| {
            row.push_bind(a).push_bind(b);
        });
        assert_eq!(q.sql(), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
        let mut q = QueryBuilder::with_placeholders(Placeholders::Anonymous, "INSERT INTO t (a) ");
        q.push_values([1_i64, 2], |row, a| {
            row.push_bind(a);
        });
        assert_eq!(q.sql(), "INSERT INTO t (a) VALUES (?), (?)");
    }

    /// On SQLite a multi-row statement takes anonymous placeholders, and they bind the
    /// values in order.
    #[tokio::test]
    async fn anonymous_placeholders_bind_in_order_on_sqlite() {
        use sqlx::{Connection, Row as _};
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect("sqlite::memory:").await.unwrap();
        assert_eq!(Placeholders::of(&conn), Placeholders::Anonymous);
        sqlx::query("CREATE TABLE t (a INTEGER, b TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        let rows: Vec<(i64, String)> = (0..300).map(|n| (n, format!("row {n}"))).collect();
        let mut q =
            QueryBuilder::with_placeholders(Placeholders::of(&conn), "INSERT INTO t (a, b) ");
        q.push_values(&rows, |row, (a, b)| {
            row.push_bind(*a).push_bind(b.as_str());
        });
        q.build().execute(&mut conn).await.unwrap();
        let stored: Vec<(i64, String)> = sqlx::query("SELECT a, b FROM t ORDER BY a")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(stored, rows);
    }

    #[test]
    fn rows_are_cut_in_powers_of_two_largest_first() {
        let lengths =
            |n: usize| -> Vec<usize> { row_chunks(&vec![0; n]).map(<[i32]>::len).collect() };
        assert_eq!(lengths(0), Vec::<usize>::new());
        assert_eq!(lengths(1), [1]);
        assert_eq!(lengths(37), [32, 4, 1]);
        assert_eq!(lengths(1024), [512, 512]);
        assert_eq!(lengths(1100), [512, 512, 64, 8, 4]);
    }
}
