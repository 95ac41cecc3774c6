//! Object storage (`s3://`, `gs://`, `az://`, `http(s)://`) through the `object_store` crate.
//! Credentials, region and endpoint come from each cloud's standard environment variables,
//! read by `object_store`'s `from_env` builders: they never pass through a plan, so no report or
//! message can show them. Shard markers are conditional puts (`PutMode::Create`, S3's
//! `If-None-Match: *`): the store itself refuses a second commit.
//!
//! Inputs are downloaded into a local folder kept by content hash ([`Downloads`]): an object
//! whose ETag and size are unchanged is not fetched again, and a kept copy is verified against
//! its sha256 before it is used.

use super::Store;
use crate::error::{Error, Result};
use futures::TryStreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreScheme, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A bucket (or an HTTP server) under a root prefix, as a [`Store`].
pub struct RemoteStore {
    inner: Arc<dyn ObjectStore>,
    root: ObjPath,
    display: String,
    runtime: tokio::runtime::Runtime,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl RemoteStore {
    /// The store `url` names, its path as the root.
    pub fn open(url: &str) -> Result<RemoteStore> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::Usage(format!("{}: not a URL: {e}", redact(url))))?;
        let (scheme, path) = ObjectStoreScheme::parse(&parsed)
            .map_err(|e| Error::Usage(format!("{}: {e}", redact(url))))?;
        let bad = |e: object_store::Error| Error::Usage(format!("{}: {e}", redact(url)));
        let inner: Arc<dyn ObjectStore> = match scheme {
            ObjectStoreScheme::AmazonS3 => Arc::new(
                object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .build()
                    .map_err(bad)?,
            ),
            ObjectStoreScheme::GoogleCloudStorage => Arc::new(
                object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(url)
                    .build()
                    .map_err(bad)?,
            ),
            ObjectStoreScheme::MicrosoftAzure => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(url)
                    .build()
                    .map_err(bad)?,
            ),
            ObjectStoreScheme::Http => Arc::new(
                object_store::http::HttpBuilder::new()
                    .with_url(&parsed[..url::Position::BeforePath])
                    .build()
                    .map_err(bad)?,
            ),
            other => {
                return Err(Error::Usage(format!(
                    "{}: {other:?} is not an object store maskgate reads",
                    redact(url)
                )))
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Usage(format!("cannot start the object-store runtime: {e}")))?;
        Ok(RemoteStore {
            inner,
            root: ObjPath::parse(path)
                .map_err(|e| Error::Usage(format!("{}: {e}", redact(url))))?,
            display: redact(url).trim_end_matches('/').to_string(),
            runtime,
        })
    }

    fn at(&self, key: &str) -> ObjPath {
        key.split('/')
            .filter(|p| !p.is_empty())
            .fold(self.root.clone(), |p, part| p.child(part))
    }

    fn error(&self, key: &str, e: object_store::Error) -> Error {
        let what = if key.is_empty() {
            self.display.clone()
        } else {
            format!("{}/{key}", self.display)
        };
        match e {
            object_store::Error::NotFound { .. } => Error::Usage(format!("{what}: not found")),
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. }
            | object_store::Error::InvalidPath { .. }
            | object_store::Error::NotSupported { .. }
            | object_store::Error::NotImplemented
            | object_store::Error::UnknownConfigurationKey { .. } => {
                Error::Usage(format!("{what}: {e}"))
            }
            // Network, throttling, server errors: worth a retry.
            other => Error::Retryable(format!("{what}: {other}")),
        }
    }

    /// (ETag or last-modified time, size) of the object at `key`, if there is one.
    fn head(&self, key: &str) -> Result<Option<(String, u64)>> {
        match self.runtime.block_on(self.inner.head(&self.at(key))) {
            Ok(m) => Ok(Some((
                m.e_tag.unwrap_or_else(|| m.last_modified.to_rfc3339()),
                m.size,
            ))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(key, e)),
        }
    }

    /// Every object under `key` (a folder): its key relative to `key`, version and size.
    fn list_meta(&self, key: &str) -> Result<Vec<(String, String, u64)>> {
        let base = self.at(key);
        let found: Vec<object_store::ObjectMeta> = self
            .runtime
            .block_on(self.inner.list(Some(&base)).try_collect())
            .map_err(|e| self.error(key, e))?;
        let mut out: Vec<(String, String, u64)> = found
            .into_iter()
            .filter_map(|m| {
                let rel: Vec<String> = m
                    .location
                    .prefix_match(&base)?
                    .map(|p| p.as_ref().to_string())
                    .collect();
                let version = m.e_tag.unwrap_or_else(|| m.last_modified.to_rfc3339());
                Some((rel.join("/"), version, m.size))
            })
            .filter(|(rel, _, _)| !rel.is_empty())
            .collect();
        out.sort();
        Ok(out)
    }
}

impl Store for RemoteStore {
    fn describe(&self) -> String {
        self.display.clone()
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let got = self.runtime.block_on(async {
            let r = self.inner.get(&self.at(key)).await?;
            r.bytes().await
        });
        match got {
            Ok(b) => Ok(Some(b.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(key, e)),
        }
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        self.runtime
            .block_on(
                self.inner
                    .put(&self.at(key), PutPayload::from(bytes.to_vec())),
            )
            .map(drop)
            .map_err(|e| self.error(key, e))
    }

    fn create(&self, key: &str, bytes: &[u8]) -> Result<bool> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self.runtime.block_on(self.inner.put_opts(
            &self.at(key),
            PutPayload::from(bytes.to_vec()),
            opts,
        )) {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. })
            | Err(object_store::Error::Precondition { .. }) => Ok(false),
            Err(e) => Err(self.error(key, e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let prefix = prefix.trim_end_matches('/');
        Ok(self
            .list_meta(prefix)?
            .into_iter()
            .map(|(rel, _, _)| {
                if prefix.is_empty() {
                    rel
                } else {
                    format!("{prefix}/{rel}")
                }
            })
            .collect())
    }

    fn delete(&self, key: &str) -> Result<()> {
        match self.runtime.block_on(self.inner.delete(&self.at(key))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error(key, e)),
        }
    }
}

/// A URL as messages and reports show it (see [`crate::redact::url`]).
pub fn redact(url: &str) -> String {
    crate::redact::url(url)
}

/// What [`Downloads`] remembers of a fetched object.
#[derive(Serialize, Deserialize, PartialEq)]
struct Fetched {
    version: String,
    size: u64,
    sha256: String,
}

/// Local copies of remote objects under one folder: `blobs/<sha256>` by content, and for each
/// URL its version, size and sha256. A folder URL becomes a local tree of links to the blobs.
pub struct Downloads {
    dir: PathBuf,
}

impl Downloads {
    pub fn new(dir: impl Into<PathBuf>) -> Downloads {
        Downloads { dir: dir.into() }
    }

    /// A local copy of `url`: the object itself when there is one, else every object under it
    /// as a folder.
    pub fn fetch(&self, url: &str) -> Result<PathBuf> {
        let store = RemoteStore::open(url)?;
        if !url.ends_with('/') {
            if let Some((version, size)) = store.head("")? {
                let name = url
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .filter(|n| !n.is_empty())
                    .unwrap_or("object");
                let blob = self.blob(&store, "", url, &version, size)?;
                // Under its own name, so readers that look at the extension see it.
                let named = self
                    .dir
                    .join("files")
                    .join(&sha256_hex(url.as_bytes())[..16])
                    .join(local_name(name, url)?);
                link(&blob, &named)?;
                return Ok(named);
            }
        }
        let listed = store.list_meta("")?;
        if listed.is_empty() {
            return Err(Error::Usage(format!(
                "{}: no object there",
                store.describe()
            )));
        }
        let tree = self
            .dir
            .join("trees")
            .join(&sha256_hex(url.trim_end_matches('/').as_bytes())[..16]);
        let mut wanted = std::collections::BTreeSet::new();
        for (rel, version, size) in listed {
            let object_url = format!("{}/{rel}", url.trim_end_matches('/'));
            let blob = self.blob(&store, &rel, &object_url, &version, size)?;
            let mut local = tree.clone();
            for part in rel.split('/') {
                local.push(local_name(part, &object_url)?);
            }
            link(&blob, &local)?;
            wanted.insert(local);
        }
        remove_unlisted(&tree, &wanted);
        Ok(tree)
    }

    /// The blob of the object at `key` of `store`: kept if its version and size are what was
    /// fetched before and its bytes still hash to the sha256 recorded then; fetched otherwise.
    fn blob(
        &self,
        store: &RemoteStore,
        key: &str,
        url: &str,
        version: &str,
        size: u64,
    ) -> Result<PathBuf> {
        let index = self
            .dir
            .join("index")
            .join(format!("{}.json", sha256_hex(url.as_bytes())));
        let known: Option<Fetched> = std::fs::read(&index)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(k) = known.filter(|k| k.version == version && k.size == size) {
            let blob = self.dir.join("blobs").join(&k.sha256);
            if crate::sha256_file(&blob).is_ok_and(|sha| sha == k.sha256) {
                return Ok(blob);
            }
        }
        let bytes = store
            .get(key)?
            .ok_or_else(|| Error::Retryable(format!("{}: gone while it was read", redact(url))))?;
        let sha256 = sha256_hex(&bytes);
        let blob = self.dir.join("blobs").join(&sha256);
        crate::persist::write_atomically(&blob, |w| w.write_all(&bytes))?;
        let record = serde_json::to_vec(&Fetched {
            version: version.to_string(),
            size,
            sha256,
        })
        .unwrap_or_default();
        crate::persist::write_atomically(&index, |w| w.write_all(&record))?;
        Ok(blob)
    }
}

/// One part of an object's key as a local file name: kept as it is (readers look at names and
/// extensions), but never one that would leave the folder.
fn local_name<'a>(part: &'a str, url: &str) -> Result<&'a str> {
    if part.is_empty() || part == "." || part == ".." || part.contains(['\\', '\0']) {
        return Err(Error::Usage(format!(
            "{}: the key part {part:?} cannot be a local file name",
            redact(url)
        )));
    }
    Ok(part)
}

/// `to` becomes the blob's bytes: a hard link, or a copy where links are not possible. The
/// blob was verified against its sha256 just before, so `to` is replaced without reading it.
fn link(blob: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = to.with_extension("maskgate-link.tmp");
    let _ = std::fs::remove_file(&tmp);
    std::fs::hard_link(blob, &tmp)
        .or_else(|_| std::fs::copy(blob, &tmp).map(drop))
        .and_then(|_| std::fs::rename(&tmp, to))
        .map_err(|e| Error::io(to, e))
}

/// Removes the files of a mirrored tree that the bucket no longer lists.
fn remove_unlisted(dir: &Path, wanted: &std::collections::BTreeSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            remove_unlisted(&p, wanted);
        } else if !wanted.contains(&p) {
            let _ = std::fs::remove_file(&p);
        }
    }
}
