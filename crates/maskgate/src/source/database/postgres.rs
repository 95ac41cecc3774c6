//! PostgreSQL over the network: `postgres://user@host:port/db`. As with libpq, parts the URL
//! leaves out come from `PGHOST`, `PGPORT`, `PGUSER` and `PGDATABASE`; the password comes from
//! `PGPASSWORD` or the password file (`PGPASSFILE`, else `~/.pgpass`) and never from the URL.
//! The query runs in a `READ ONLY` transaction and its rows are fetched through a portal in
//! batches, so a large table streams.
//!
//! The client is `tokio_postgres` on a runtime of its own, so that every wait on the server
//! (connecting with its startup and authentication exchange, each statement, each batch) is
//! bounded by the network timeout ([`crate::net::Network`]): a server that accepts and never answers costs that long,
//! not forever. The blocking `postgres` crate bounds only the TCP connect.

use super::{db_error, redact, Database, Value};
use crate::error::{Error, Result};
use std::future::Future;
use std::path::Path;
use std::time::Duration;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Config, NoTls, Row};

/// Rows fetched per round trip.
const BATCH: i32 = 256;

pub struct Postgres {
    url: String,
    client: Client,
    /// Drives the client's requests and, between them, its connection task.
    runtime: tokio::runtime::Runtime,
    timeout: Duration,
}

pub fn connect(url: &str, _base: &Path, network: crate::net::Network) -> Result<Box<dyn Database>> {
    let mut config: Config = url
        .parse()
        .map_err(|e| db_error(url, "not a PostgreSQL URL", e))?;
    if config.get_password().is_some() {
        return Err(Error::Usage(format!(
            "database {}: the URL carries a password; put it in PGPASSWORD or ~/.pgpass instead, so it stays out of configs, reports and logs",
            redact(url)
        )));
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if config.get_hosts().is_empty() {
        config.host(env("PGHOST").unwrap_or_else(|| "localhost".into()));
    }
    if config.get_ports().is_empty() {
        if let Some(p) = env("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(p);
        }
    }
    if config.get_user().is_none() {
        match env("PGUSER").or_else(|| env("USER")) {
            Some(u) => {
                config.user(u);
            }
            None => {
                return Err(Error::Usage(format!(
                    "database {}: no user (name one in the URL or PGUSER)",
                    redact(url)
                )))
            }
        }
    }
    if config.get_dbname().is_none() {
        if let Some(d) = env("PGDATABASE") {
            config.dbname(d);
        }
    }
    if let Some(pw) = env("PGPASSWORD").or_else(|| password_file_entry(&config)) {
        config.password(pw);
    }
    let timeout = network.timeout;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(timeout);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| db_error(url, "cannot start the client's runtime", e))?;
    let (client, connection) = within(&runtime, timeout, url, "connecting", config.connect(NoTls))?;
    // The connection task carries every message; it ends when the client is dropped.
    runtime.spawn(async move {
        let _ = connection.await;
    });
    Ok(Box::new(Postgres {
        url: url.to_string(),
        client,
        runtime,
        timeout,
    }))
}

/// Runs `request` on `runtime`, waiting at most `timeout` for it. A server that does not answer
/// in time, or that cannot be reached, is retryable; what the server itself refused is not.
fn within<T>(
    runtime: &tokio::runtime::Runtime,
    timeout: Duration,
    url: &str,
    what: &str,
    request: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>,
) -> Result<T> {
    match runtime.block_on(async { tokio::time::timeout(timeout, request).await }) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) if e.as_db_error().is_none() && (e.is_closed() || has_io_error(&e)) => {
            Err(Error::Retryable(format!(
                "database {}: {what}: {}; {}",
                redact(url),
                message(&e),
                crate::net::Network { timeout }.retry_hint()
            )))
        }
        Ok(Err(e)) => Err(db_error(url, what, message(&e))),
        Err(_) => Err(Error::Retryable(format!(
            "database {}: {what}: no answer within {} s; {}",
            redact(url),
            timeout.as_secs(),
            crate::net::Network { timeout }.retry_hint()
        ))),
    }
}

/// Whether the client failed on the connection itself (refused, reset, no such host).
fn has_io_error(e: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// The database's own message (severity, text, detail, hint), or the client's.
fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = format!("{}: {}", db.severity(), db.message());
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            if let Some(h) = db.hint() {
                m.push_str(&format!("; hint: {h}"));
            }
            m
        }
        None => {
            // The client's own text is generic ("error connecting to server"); the cause
            // (refused, reset, no such host) is in its sources.
            let mut m = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                m.push_str(&format!(": {s}"));
                source = s.source();
            }
            crate::redact::in_text(&m)
        }
    }
}

/// The password of the first matching `host:port:database:user:password` line of the password
/// file, as libpq reads it (`*` matches anything, `\:` and `\\` are escapes).
fn password_file_entry(config: &Config) -> Option<String> {
    let file = std::env::var_os("PGPASSFILE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pgpass")))?;
    let bytes = crate::limits::read_regular(&file, crate::limits::MAX_TEXT_BYTES).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let host = match config.get_hosts().first()? {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        #[cfg(unix)]
        tokio_postgres::config::Host::Unix(_) => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user()?.to_string();
    let db = config.get_dbname().unwrap_or(&user).to_string();
    let wanted = [host, port, db, user];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(pgpass_fields)
        .find(|f| {
            f.len() == 5
                && f[..4]
                    .iter()
                    .zip(&wanted)
                    .all(|(field, want)| field == "*" || field == want)
        })
        .map(|f| f[4].clone())
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().unwrap().push(n);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

impl Database for Postgres {
    fn stream(
        &mut self,
        query: &str,
        columns: &mut dyn FnMut(&[String]) -> Result<()>,
        row: &mut dyn FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<()> {
        let Postgres {
            url,
            client,
            runtime,
            timeout,
        } = self;
        let (url, timeout) = (url.as_str(), *timeout);
        let tx = within(
            runtime,
            timeout,
            url,
            "query failed",
            client.build_transaction().read_only(true).start(),
        )?;
        let stmt = within(runtime, timeout, url, "query failed", tx.prepare(query))?;
        let names: Vec<String> = stmt
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
        for (name, t) in names.iter().zip(&types) {
            if kind(t).is_none() {
                return Err(db_error(
                    url,
                    "query result",
                    format!("column {name:?} has type {t}, which maskgate does not read; cast it in the query (e.g. {name}::text)"),
                ));
            }
        }
        columns(&names)?;
        let portal = within(runtime, timeout, url, "query failed", tx.bind(&stmt, &[]))?;
        loop {
            let batch = within(
                runtime,
                timeout,
                url,
                "query failed",
                tx.query_portal(&portal, BATCH),
            )?;
            if batch.is_empty() {
                break;
            }
            for r in batch {
                row(values(&r, &types).map_err(|e| db_error(url, "query failed", message(&e)))?)?;
            }
        }
        // Read-only: nothing to commit.
        within(runtime, timeout, url, "query failed", tx.rollback())
    }
}

#[derive(Clone, Copy)]
enum Kind {
    I16,
    I32,
    I64,
    Oid,
    F32,
    F64,
    Bool,
    Text,
    Bytes,
    Json,
}

fn kind(t: &Type) -> Option<Kind> {
    Some(match *t {
        Type::INT2 => Kind::I16,
        Type::INT4 => Kind::I32,
        Type::INT8 => Kind::I64,
        Type::OID => Kind::Oid,
        Type::FLOAT4 => Kind::F32,
        Type::FLOAT8 => Kind::F64,
        Type::BOOL => Kind::Bool,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => Kind::Text,
        Type::BYTEA => Kind::Bytes,
        Type::JSON | Type::JSONB => Kind::Json,
        _ => return None,
    })
}

fn values(r: &Row, types: &[Type]) -> std::result::Result<Vec<Value>, tokio_postgres::Error> {
    let mut out = Vec::with_capacity(types.len());
    for (i, t) in types.iter().enumerate() {
        let k = kind(t).expect("types were checked before the first row");
        let v = match k {
            Kind::I16 => r
                .try_get::<_, Option<i16>>(i)?
                .map(|n| Value::Int(n.into())),
            Kind::I32 => r
                .try_get::<_, Option<i32>>(i)?
                .map(|n| Value::Int(n.into())),
            Kind::I64 => r.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Kind::Oid => r
                .try_get::<_, Option<u32>>(i)?
                .map(|n| Value::Int(n.into())),
            Kind::F32 => r
                .try_get::<_, Option<f32>>(i)?
                .map(|x| Value::Real(x.into())),
            Kind::F64 => r.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            // SQLite has no booleans: 0/1 keeps both databases' rows alike.
            Kind::Bool => r
                .try_get::<_, Option<bool>>(i)?
                .map(|b| Value::Int(b.into())),
            Kind::Text => r.try_get::<_, Option<String>>(i)?.map(Value::Text),
            Kind::Bytes => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes),
            Kind::Json => r
                .try_get::<_, Option<serde_json::Value>>(i)?
                .map(Value::Json),
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_lines_split_like_libpq() {
        assert_eq!(
            pgpass_fields(r"db\:1:5432:*:gate:pa\:ss\\w"),
            ["db:1", "5432", "*", "gate", r"pa:ss\w"]
        );
    }

    #[test]
    fn a_password_in_the_url_is_refused_without_being_shown() {
        let e = connect(
            "postgres://gate:hunter2@127.0.0.1:1/app",
            Path::new("."),
            Default::default(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("PGPASSWORD"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }
}
