//! Statements put together piece by piece, with their parameters numbered `$1`, `$2`, … as
//! both backends read them. (sqlx's `QueryBuilder` writes `?` for the `Any` driver, which
//! PostgreSQL does not read.)

use std::fmt::{Display, Write};

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, Arguments, Encode, FromRow, Type};

pub(crate) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
}

impl Sql {
    pub(crate) fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            args: AnyArguments::default(),
            count: 0,
        }
    }

    /// Adds `text` to the statement as it is.
    pub(crate) fn push(&mut self, text: impl Display) -> &mut Sql {
        // Writing to a String does not fail.
        let _ = write!(self.text, "{text}");
        self
    }

    /// Adds a parameter bound to `value`.
    pub(crate) fn push_bind<T>(&mut self, value: T) -> &mut Sql
    where
        T: 'static + Encode<'static, Any> + Type<Any> + Send,
    {
        self.count += 1;
        let _ = write!(self.text, "${}", self.count);
        // Encoding into Any's arguments only fails for a type Any has no kind for, which
        // the bound on T rules out.
        let _ = self.args.add(value);
        self
    }

    /// Adds `values` as parameters separated by `separator`.
    pub(crate) fn push_binds<T>(
        &mut self,
        values: impl IntoIterator<Item = T>,
        separator: &str,
    ) -> &mut Sql
    where
        T: 'static + Encode<'static, Any> + Type<Any> + Send,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(separator);
            }
            self.push_bind(value);
        }
        self
    }

    fn take(&mut self) -> (&str, AnyArguments<'static>) {
        (&self.text, std::mem::take(&mut self.args))
    }

    pub(crate) fn build(&mut self) -> Query<'_, Any, AnyArguments<'_>> {
        let (text, args) = self.take();
        sqlx::query_with(text, args)
    }

    pub(crate) fn build_query_as<T>(&mut self) -> QueryAs<'_, Any, T, AnyArguments<'_>>
    where
        T: for<'r> FromRow<'r, AnyRow>,
    {
        let (text, args) = self.take();
        sqlx::query_as_with(text, args)
    }

    pub(crate) fn build_query_scalar<T>(&mut self) -> QueryScalar<'_, Any, T, AnyArguments<'_>>
    where
        (T,): for<'r> FromRow<'r, AnyRow>,
    {
        let (text, args) = self.take();
        sqlx::query_scalar_with(text, args)
    }
}
