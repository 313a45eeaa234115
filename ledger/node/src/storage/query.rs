//! Building SQL with bound values that both backends read.
//!
//! sqlx's own `QueryBuilder` writes `?` placeholders for the `Any` driver, which
//! PostgreSQL rejects. This one numbers them (`$1`, `$2`, …), which PostgreSQL requires
//! and SQLite reads by number, so one statement text serves both.

use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use sqlx::{Arguments, Encode, Type};
use std::fmt::Write;

/// A statement under construction: SQL text and the values bound so far.
#[derive(Default)]
pub struct QueryBuilder<'args> {
    sql: String,
    arguments: AnyArguments<'args>,
}

impl<'args> QueryBuilder<'args> {
    pub fn new(sql: impl Into<String>) -> Self {
        QueryBuilder {
            sql: sql.into(),
            arguments: AnyArguments::default(),
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
        write!(self.sql, "${}", self.arguments.len()).expect("writing to a String");
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
    fn placeholders_are_numbered_in_binding_order() {
        let mut q = QueryBuilder::new("SELECT * FROM t WHERE a = ");
        q.push_bind(1_i64).push(" AND b IN (");
        q.push_list(["x", "y"]).push(")");
        assert_eq!(q.sql(), "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)");
        let mut q = QueryBuilder::new("INSERT INTO t (a, b) ");
        q.push_values([(1_i64, "p"), (2, "q")], |row, (a, b)| {
            row.push_bind(a).push_bind(b);
        });
        assert_eq!(q.sql(), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
    }
}
