//! The command line end to end, one binary (each linked test binary costs CI a link of the
//! whole library): `run`, `compare` and `merge` on real photos and models, shards, the crop
//! team's gate on PostgreSQL, the deploy recipes and the HTML report in Chromium.
//! `object_store` (it sets the process's AWS variables) and `reliability` stay binaries of
//! their own.

mod attest;
mod browser;
mod checkpoint;
#[path = "../common/mod.rs"]
mod common;
mod compare;
mod crop_gate;
mod deploy;
mod findings;
mod reviewer;
mod run;
mod shards;
