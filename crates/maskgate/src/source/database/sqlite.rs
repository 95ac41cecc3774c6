//! SQLite, embedded (bundled): `sqlite:PATH`, a relative PATH taken from the config's folder.
//! The file is opened read-only and the connection set to `query_only`, so even a query that
//! tries to write cannot.

use super::{db_error, Database, Value};
use crate::error::Result;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

pub struct Sqlite {
    url: String,
    conn: Connection,
}

/// A local file: no network wait to bound.
pub fn connect(url: &str, base: &Path, _: crate::net::Network) -> Result<Box<dyn Database>> {
    let file = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = base.join(file);
    // Without this check SQLite reports only "unable to open database file" for a missing
    // file and "disk I/O error" for a folder, and blocks forever opening a FIFO: the path is
    // opened without blocking and its type checked on the open file first.
    let shown = crate::fmt::clip_path(&path);
    if let Err(e) = crate::limits::open_regular(&path) {
        let why = if e.is_folder() {
            "is a folder, not a SQLite database file; name the database file in it".to_string()
        } else {
            e.describe("a SQLite database file")
        };
        return Err(db_error(url, "cannot open", format!("{shown}: {why}")));
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|c| {
        c.pragma_update(None, "query_only", true)?;
        Ok(c)
    })
    .map_err(|e| db_error(url, "cannot open", e))?;
    Ok(Box::new(Sqlite {
        url: url.to_string(),
        conn,
    }))
}

impl Database for Sqlite {
    fn stream(
        &mut self,
        query: &str,
        columns: &mut dyn FnMut(&[String]) -> Result<()>,
        row: &mut dyn FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<()> {
        let url = &self.url;
        let mut stmt = self
            .conn
            .prepare(query)
            .map_err(|e| db_error(url, "query failed", e))?;
        let names: Vec<String> = stmt.column_names().map(|s| s.to_string()).collect();
        columns(&names)?;
        let mut rows = stmt
            .query([])
            .map_err(|e| db_error(url, "query failed", e))?;
        while let Some(r) = rows.next().map_err(|e| db_error(url, "query failed", e))? {
            let mut values = Vec::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                let v = r.get_ref(i).map_err(|e| db_error(url, "query failed", e))?;
                values.push(match v {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(x) => Value::Real(x),
                    ValueRef::Text(t) => match std::str::from_utf8(t) {
                        Ok(s) => Value::Text(s.to_string()),
                        Err(_) => {
                            return Err(db_error(
                                url,
                                "query result",
                                format!("column {name:?} holds text that is not UTF-8"),
                            ))
                        }
                    },
                    ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                });
            }
            row(values)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_typed_rows_and_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let c = Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE t (id INTEGER, name TEXT, data BLOB, x REAL);
             INSERT INTO t VALUES (1, 'a', x'00ff', 0.5), (2, NULL, NULL, NULL);",
        )
        .unwrap();
        drop(c);
        let mut conn = connect("sqlite:t.db", dir.path(), Default::default()).unwrap();
        let mut names = Vec::new();
        let mut rows = Vec::new();
        conn.stream(
            "SELECT id, name, data, x FROM t ORDER BY id",
            &mut |n| {
                names = n.to_vec();
                Ok(())
            },
            &mut |r| {
                rows.push(r);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(names, ["id", "name", "data", "x"]);
        assert_eq!(
            rows[0],
            [
                Value::Int(1),
                Value::Text("a".into()),
                Value::Bytes(vec![0, 255]),
                Value::Real(0.5)
            ]
        );
        assert_eq!(rows[1][1], Value::Null);
        let e = conn
            .stream("DELETE FROM t", &mut |_| Ok(()), &mut |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("readonly") || e.contains("read-only") || e.contains("query_only"),
            "{e}"
        );
        let e = connect("sqlite:missing.db", dir.path(), Default::default())
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("missing.db"), "{e}");
    }
}
