//! Object stores (S3, GCS, Azure, HTTP): a location given as a URL is fetched into the local
//! downloads folder, kept by content hash, and read from there like any local file; reports
//! name it by its URL (without credentials).

use super::{Located, Reach, Source};
use crate::error::Result;
use crate::storage::remote::Downloads;
use std::path::Path;

pub struct ObjectStore;

impl Source for ObjectStore {
    fn accepts(&self, location: &str) -> bool {
        crate::storage::is_url(location)
    }

    fn locate(&self, location: &Path, reach: &Reach<'_>) -> Result<Located> {
        let url = location.to_string_lossy();
        let path = Downloads::new(reach.downloads, reach.max_bytes, reach.network).fetch(&url)?;
        Ok(Located {
            path,
            display: crate::storage::shown_url(&url),
        })
    }
}
