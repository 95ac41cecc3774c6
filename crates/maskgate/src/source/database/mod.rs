//! Databases a corpus can be read from. A connection is opened read-only, runs the user's query
//! as given (nothing from a row is ever put into SQL) and streams the rows as typed values, so
//! memory does not grow with the table. Adding a database is one new file plus one line in
//! [`DATABASES`].
//!
//! Credentials never come from the config and never leave this module: the URL is shown without
//! its password everywhere ([`redact`]), and PostgreSQL's password comes from `PGPASSWORD` or
//! the password file, as with `psql`.

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use crate::error::{Error, Result};
use std::path::Path;

/// One cell, as the database typed it. JSON columns (PostgreSQL `json`/`jsonb`) arrive parsed;
/// SQLite keeps JSON as text.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))] // SQLite has no JSON type
    Json(serde_json::Value),
}

/// A read-only connection that streams a query's rows.
pub trait Database {
    /// Runs `query` in a read-only transaction: `columns` gets the result's column names once,
    /// before any row; `row` gets each row in the order the database returns them. An error
    /// from either callback stops the query and is returned as is.
    fn stream(
        &mut self,
        query: &str,
        columns: &mut dyn FnMut(&[String]) -> Result<()>,
        row: &mut dyn FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<()>;
}

/// How a URL scheme connects: `(prefixes, connect(url, base folder for relative paths, the
/// network settings))`.
type Connect = fn(&str, &Path, crate::net::Network) -> Result<Box<dyn Database>>;

/// Every database maskgate reads, by URL prefix.
pub const DATABASES: &[(&[&str], Connect)] = &[
    #[cfg(feature = "sqlite")]
    (&["sqlite:"], sqlite::connect),
    #[cfg(feature = "postgres")]
    (&["postgres://", "postgresql://"], postgres::connect),
];

/// The URL prefixes this build reads.
pub fn known_prefixes() -> Vec<&'static str> {
    DATABASES
        .iter()
        .flat_map(|(p, _)| p.iter().copied())
        .collect()
}

/// Opens `url` read-only; a relative SQLite path is taken from `base`. Errors carry the
/// database's own message and the URL without its password.
pub fn connect(url: &str, base: &Path, network: crate::net::Network) -> Result<Box<dyn Database>> {
    let found = DATABASES
        .iter()
        .find(|(prefixes, _)| prefixes.iter().any(|p| url.starts_with(p)));
    match found {
        Some((_, connect)) => connect(url, base, network),
        None => Err(Error::Usage(format!(
            "database URL {:?}: this build reads {}",
            redact(url),
            known_prefixes().join(", ")
        ))),
    }
}

/// `url` as it may be shown (see [`crate::redact::url`]): no user information, no password
/// parameter. Everything about a database shown to a user goes through this.
pub fn redact(url: &str) -> String {
    crate::redact::url(url)
}

/// A database's error as a usage error that names the URL (without password).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn db_error(url: &str, what: &str, message: impl std::fmt::Display) -> Error {
    Error::Usage(format!("database {}: {what}: {message}", redact(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_redaction() {
        for (url, shown) in [
            (
                "postgres://gate:s3cret@db.internal:5432/app",
                "postgres://db.internal:5432/app",
            ),
            (
                "postgresql://gate:p@ss:w@rd@host/app?sslmode=disable&password=x",
                "postgresql://host/app?sslmode=disable",
            ),
            ("postgres://host/app", "postgres://host/app"),
            ("sqlite:data/app.db", "sqlite:data/app.db"),
            ("postgres://u@h/db?PASSWORD=y", "postgres://h/db"),
        ] {
            let r = redact(url);
            assert_eq!(r, shown);
            for secret in ["s3cret", "ss:w", "password=", "PASSWORD"] {
                assert!(!r.contains(secret), "{r}");
            }
        }
    }

    #[test]
    fn an_unknown_scheme_names_the_known_ones() {
        let e = connect("mysql://u:pw@h/db", Path::new("."), Default::default())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("mysql://h/db"), "{e}");
        assert!(!e.contains("pw"), "{e}");
        assert!(e.contains("sqlite:"), "{e}");
    }
}
