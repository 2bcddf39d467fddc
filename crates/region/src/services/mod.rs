//! Rules: lifecycle (the one status writer), allocation, machine reads,
//! network model, configuration, authentication, rack snapshots.

pub mod account;
pub mod actions;
pub mod allocate;
pub mod auth;
pub mod config;
pub mod device_interfaces;
pub mod devices;
pub mod dns;
pub mod events;
pub mod images;
pub mod interfaces;
pub mod ipaddresses;
pub mod keys;
pub mod lifecycle;
pub mod listing;
pub mod live;
pub mod load;
pub mod machine_fields;
pub mod machines;
pub mod metadata;
pub mod misc;
pub mod network;
pub mod node_devices;
pub mod places;
pub mod power;
pub mod preseed;
pub mod racks;
pub mod regions;
pub mod sessions;
pub mod signin;
pub mod snapshot;
pub mod staticroutes;
pub mod storage;
pub mod tags;
pub mod users;

use std::sync::Arc;

use crate::crypto::SecretBox;
use crate::render::cache::RenderCache;
use crate::services::auth::TokenCache;
use crate::store::{Pool, db::Hot};

/// What every service works with: the database, the caches beside it and the
/// key that seals secrets at rest. Cheap to clone.
#[derive(Clone)]
pub struct Ctx(pub Arc<CtxInner>);

pub struct CtxInner {
    pub db: Pool,
    /// Connections for hot single statements (see `store::db::Hot`).
    pub hot: Hot,
    pub secrets: SecretBox,
    /// Valid API keys seen recently (kept in step by `auth::follow_token_changes`).
    pub tokens: Arc<TokenCache>,
    /// Machines' related sets and rendered objects, by version.
    pub render: RenderCache,
    /// Failed password sign-ins, per user name and address.
    pub signin: signin::SignInGuard,
    /// The racks with a session on this region, for power commands.
    pub power: Arc<power::PowerHub>,
    /// Boot image bytes on this region's disk (`--image-dir`).
    pub blobs: crate::store::blobs::Blobs,
    /// Chunked uploads in progress on this region (one writer per file).
    pub uploads: images::UploadLocks,
    /// Machine changes for the web UI's live views (`live::follow`).
    pub changes: Arc<live::ChangeHub>,
}

impl std::ops::Deref for Ctx {
    type Target = CtxInner;
    fn deref(&self) -> &CtxInner {
        &self.0
    }
}

impl Ctx {
    /// `hot` bounds the connections for hot single statements (besides the
    /// pool); `render_cache` the machines each render cache holds.
    pub fn new(
        db: Pool,
        hot: usize,
        render_cache: usize,
        secrets: SecretBox,
        image_dir: std::path::PathBuf,
    ) -> Ctx {
        Ctx(Arc::new(CtxInner {
            hot: Hot::new(&db, hot),
            db,
            secrets,
            tokens: Arc::new(TokenCache::default()),
            render: RenderCache::new(render_cache),
            signin: signin::SignInGuard::default(),
            power: Arc::new(power::PowerHub::default()),
            blobs: crate::store::blobs::Blobs::new(image_dir),
            uploads: images::UploadLocks::default(),
            changes: Arc::new(live::ChangeHub::default()),
        }))
    }
}

/// Tests: a parameter lookup over fixed pairs, the shape the edges pass to
/// the shared form checks (`machine_fields`, `storage::disk_form`).
#[cfg(test)]
pub(crate) fn lookup(
    pairs: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(p, _)| *p == k)
            .map(|(_, v)| v.to_string())
    }
}
