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
use object_store::{
    BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreScheme, PutMode, PutOptions,
    PutPayload, RetryConfig,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A bucket (or an HTTP server) under a root prefix, as a [`Store`].
pub struct RemoteStore {
    inner: Arc<dyn ObjectStore>,
    root: ObjPath,
    display: String,
    runtime: tokio::runtime::Runtime,
    network: crate::net::Network,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The HTTP client settings every store gets: each connect and each request within the
/// network timeout, and object_store's retries (transport errors, 5xx, 429) bounded by
/// the same time, so a silent or failing server costs seconds, not object_store's default of
/// 3 minutes of retries.
fn client_settings(network: crate::net::Network) -> ([(ClientConfigKey, String); 2], RetryConfig) {
    let t = network.timeout;
    let secs = format!("{}s", t.as_secs());
    let retry = RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: t.min(Duration::from_secs(5)),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: t,
    };
    (
        [
            (ClientConfigKey::ConnectTimeout, secs.clone()),
            (ClientConfigKey::Timeout, secs),
        ],
        retry,
    )
}

impl RemoteStore {
    /// The store `url` names, its path as the root.
    pub fn open(url: &str, network: crate::net::Network) -> Result<RemoteStore> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::Usage(format!("{}: not a URL: {e}", redact(url))))?;
        let (scheme, path) = ObjectStoreScheme::parse(&parsed)
            .map_err(|e| Error::Usage(format!("{}: {e}", redact(url))))?;
        let bad = |e: object_store::Error| {
            Error::Usage(format!(
                "{}: {}",
                redact(url),
                crate::redact::in_text(&e.to_string())
            ))
        };
        let (client, retry) = client_settings(network);
        let inner: Arc<dyn ObjectStore> = match scheme {
            ObjectStoreScheme::AmazonS3 => {
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .with_retry(retry);
                for (k, v) in client.clone() {
                    b = b.with_config(object_store::aws::AmazonS3ConfigKey::Client(k), v);
                }
                // An endpoint the user gave as http:// (a local MinIO or moto) is meant as such.
                let endpoint = b.get_config_value(&object_store::aws::AmazonS3ConfigKey::Endpoint);
                if endpoint.is_some_and(|e| e.starts_with("http://")) {
                    b = b.with_allow_http(true);
                }
                Arc::new(b.build().map_err(bad)?)
            }
            ObjectStoreScheme::GoogleCloudStorage => {
                let mut b = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(url)
                    .with_retry(retry);
                for (k, v) in client.clone() {
                    b = b.with_config(object_store::gcp::GoogleConfigKey::Client(k), v);
                }
                Arc::new(b.build().map_err(bad)?)
            }
            ObjectStoreScheme::MicrosoftAzure => {
                let mut b = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(url)
                    .with_retry(retry);
                for (k, v) in client.clone() {
                    b = b.with_config(object_store::azure::AzureConfigKey::Client(k), v);
                }
                Arc::new(b.build().map_err(bad)?)
            }
            ObjectStoreScheme::Http => {
                // object_store's HTTP client sends neither a URL's user info nor its query
                // string: a presigned or versioned URL would reach the server unsigned or
                // unpinned, so it is refused rather than fetched as something else.
                if parsed.query().is_some()
                    || !parsed.username().is_empty()
                    || parsed.password().is_some()
                {
                    return Err(Error::Usage(format!(
                        "{}: an http(s) URL with credentials or a query string (a presigned or versioned URL) cannot be fetched as written: serve the file at a plain URL, or use s3://, gs:// or az:// with credentials in the environment",
                        redact(url)
                    )));
                }
                let mut b = object_store::http::HttpBuilder::new()
                    .with_url(&parsed[..url::Position::BeforePath])
                    .with_retry(retry)
                    // The user wrote http:// (without it every request fails as a "builder
                    // error"); https:// URLs stay https-only.
                    .with_config(
                        ClientConfigKey::AllowHttp,
                        (parsed.scheme() == "http").to_string(),
                    );
                for (k, v) in client {
                    b = b.with_config(k, v);
                }
                Arc::new(b.build().map_err(bad)?)
            }
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
            network,
        })
    }

    fn at(&self, key: &str) -> ObjPath {
        key.split('/')
            .filter(|p| !p.is_empty())
            .fold(self.root.clone(), |p, part| p.child(part))
    }

    fn shown(&self, key: &str) -> String {
        if key.is_empty() {
            self.display.clone()
        } else {
            format!("{}/{key}", self.display)
        }
    }

    /// object_store's error as maskgate's: a missing object, refused credentials or a 4xx
    /// answer is permanent (a retry gets the same answer); an unreachable, silent or failing
    /// server (connect errors, timeouts, cut transfers, 5xx, 429) is [`Error::Retryable`].
    fn error(&self, key: &str, e: object_store::Error) -> Error {
        let what = self.shown(key);
        // object_store's messages may carry the request URL, with whatever it was given.
        let message = crate::redact::in_text(&e.to_string());
        match e {
            object_store::Error::NotFound { .. } => Error::Usage(format!(
                "{what}: not found; check the URL and that the object exists"
            )),
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => Error::Usage(format!(
                "{what}: access refused ({message}); check the URL and the store's credentials (AWS_*, GOOGLE_*, AZURE_* variables)"
            )),
            object_store::Error::InvalidPath { .. }
            | object_store::Error::NotSupported { .. }
            | object_store::Error::NotImplemented
            | object_store::Error::UnknownConfigurationKey { .. } => {
                Error::Usage(format!("{what}: {message}"))
            }
            other => match transport_error(&other) {
                // A redirect loop, or a request that could not be built: the same on every try.
                Some(e) if e.is_redirect() || e.is_builder() => Error::Usage(format!(
                    "{what}: the server's answer cannot be followed ({message}); check the URL (a redirect loop?)"
                )),
                // Refused or lost connections, timeouts, cut transfers.
                Some(_) => Error::Retryable(format!(
                    "{what}: no usable answer ({message}); {}",
                    self.network.retry_hint()
                )),
                None => match status_of(&message) {
                    Some(s) if (400..500).contains(&s) && s != 408 && s != 429 => {
                        Error::Usage(format!(
                            "{what}: the server refused the request with HTTP {s} ({message}); check the URL and what the server allows, a retry gets the same answer"
                        ))
                    }
                    _ => Error::Retryable(format!(
                        "{what}: the server failed ({message}); {}",
                        self.network.retry_hint()
                    )),
                },
            },
        }
    }

    /// Streams the object at `key` into `sink`: `None` when there is none. An object announced
    /// (by its Content-Length) or found, while counting what arrives, to be larger than
    /// `max_bytes` is refused; nothing is allocated by the announced size.
    fn read_into(
        &self,
        key: &str,
        max_bytes: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<Option<u64>> {
        self.runtime.block_on(async {
            let got = match self.inner.get(&self.at(key)).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(self.error(key, e)),
            };
            if got.meta.size > max_bytes {
                return Err(too_large(&self.shown(key), got.meta.size, max_bytes));
            }
            let mut stream = got.into_stream();
            let mut total = 0u64;
            while let Some(chunk) = stream.try_next().await.map_err(|e| self.error(key, e))? {
                total += chunk.len() as u64;
                if total > max_bytes {
                    return Err(too_large(&self.shown(key), total, max_bytes));
                }
                sink(&chunk)?;
            }
            Ok(Some(total))
        })
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
        // Grown as bytes arrive: object_store's `bytes()` reserves the announced length first.
        let mut bytes = Vec::new();
        let found = self.read_into(key, u64::MAX, &mut |chunk| {
            bytes.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(found.map(|_| bytes))
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

/// The error for an object larger than `[limits] max_file_bytes`.
fn too_large(what: &str, size: u64, max_bytes: u64) -> Error {
    Error::Usage(format!(
        "{what}: {size} bytes exceeds the limit of {max_bytes} bytes ([limits] max_file_bytes); raise the limit in the run config if the object is meant to be this large"
    ))
}

/// The HTTP client's own failure under an object_store error (connect, timeout, cut transfer,
/// redirect loop), if that is what it is; `None` for an HTTP status the server answered with.
/// object_store's own wrapper of it is transparent to `source()`, so the client's error is what
/// the chain holds.
fn transport_error(e: &object_store::Error) -> Option<&reqwest::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<reqwest::Error>() {
            return Some(r);
        }
        source = s.source();
    }
    None
}

/// The HTTP status of an object_store error message ("… status code: 405 Method Not
/// Allowed …"): object_store keeps the typed status in a crate-private error.
fn status_of(message: &str) -> Option<u16> {
    let (_, after) = message.split_once("status code: ")?;
    after.get(..3)?.parse().ok()
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
    /// `[limits] max_file_bytes`: the largest object fetched.
    max_bytes: u64,
    network: crate::net::Network,
}

impl Downloads {
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64, network: crate::net::Network) -> Downloads {
        Downloads {
            dir: dir.into(),
            max_bytes,
            network,
        }
    }

    /// A local copy of `url`: the object itself when there is one, else every object under it
    /// as a folder.
    pub fn fetch(&self, url: &str) -> Result<PathBuf> {
        let store = RemoteStore::open(url, self.network)?;
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
        let listed = match store.list_meta("") {
            Ok(l) => l,
            // No object, and a server that refuses to list (a plain HTTP server answers
            // WebDAV's PROPFIND with 405): nothing is there as far as maskgate can tell.
            Err(e) if !e.is_retryable() && !url.ends_with('/') => Vec::new(),
            Err(e) => return Err(e),
        };
        if listed.is_empty() {
            return Err(Error::Usage(format!(
                "{}: not found (no object there, and no objects under it as a folder); check the URL",
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
        let known: Option<Fetched> =
            crate::limits::read_regular(&index, crate::limits::MAX_TEXT_BYTES)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(k) = known.filter(|k| k.version == version && k.size == size) {
            let blob = self.dir.join("blobs").join(&k.sha256);
            if crate::sha256_file(&blob).is_ok_and(|sha| sha == k.sha256) {
                return Ok(blob);
            }
        }
        if size > self.max_bytes {
            return Err(too_large(&redact(url), size, self.max_bytes));
        }
        // Streamed to a file beside the blobs while hashed, then renamed to its hash: memory
        // stays flat whatever the object's size.
        let blobs = self.dir.join("blobs");
        std::fs::create_dir_all(&blobs).map_err(|e| Error::io(&blobs, e))?;
        let mut part = tempfile::Builder::new()
            .prefix(".maskgate-")
            .suffix(".part")
            .tempfile_in(&blobs)
            .map_err(|e| Error::io(&blobs, e))?;
        let part_path = part.path().to_path_buf();
        let mut hash = Sha256::new();
        let found = store.read_into(key, self.max_bytes, &mut |chunk| {
            hash.update(chunk);
            part.write_all(chunk).map_err(|e| Error::io(&part_path, e))
        })?;
        if found.is_none() {
            return Err(Error::Retryable(format!(
                "{}: gone while it was read; retry",
                redact(url)
            )));
        }
        part.as_file()
            .sync_all()
            .map_err(|e| Error::io(&part_path, e))?;
        let sha256 = hex::encode(hash.finalize());
        let blob = blobs.join(&sha256);
        part.persist(&blob).map_err(|e| Error::io(&blob, e.error))?;
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
