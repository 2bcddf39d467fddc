//! In-memory caches of what machine rendering reads, checked against
//! versions the database keeps (migration 3), so a cached value is used only
//! when it is exactly what the database holds now. Nothing to invalidate:
//!
//! - `machines.version` changes on every update of the row (a trigger draws
//!   it from a sequence); `machines.hw_version` changes whenever the
//!   machine's interfaces, links or block devices change (and so does
//!   `version`, since that updates the row).
//! - `render_epoch.n` changes, at commit, whenever anything shared that a
//!   machine's JSON embeds changes: domains, zones, pools, user names,
//!   fabrics, VLANs, spaces, subnets.
//!
//! Every read returns the versions in the same statement as the data, so an
//! entry is keyed by the versions of the snapshot it was built from.
//! [`SharedNames`] (domains, zones, pools, user names) is one snapshot of
//! those small tables at one epoch; machine rows carry the epoch they were
//! read at and only a snapshot of that epoch names them in a cached render.
//! [`Related`] sets (interfaces and disks) are keyed by (machine id,
//! `hw_version`, epoch) and serve every machine read, allocation included;
//! whole rendered machine objects are keyed by (machine id, `version`, epoch)
//! and serve listings.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::render::related::{Related, SharedNames};

/// Machines kept per cache by default before it starts over (a bound on
/// memory: a rendered machine is ~2.6 kB; ids of machines deleted through
/// another region stay until then). `--render-cache-machines` sets it; a
/// fleet larger than the bound gets no listing speed-up.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

struct Versioned<T> {
    version: i64,
    epoch: i64,
    value: T,
}

struct Map<T>(RwLock<HashMap<i64, Versioned<T>>>, usize);

impl<T: Clone> Map<T> {
    fn new(max: usize) -> Self {
        Map(RwLock::new(HashMap::new()), max.max(1))
    }

    fn get(&self, id: i64, version: i64, epoch: i64) -> Option<T> {
        let m = self.0.read().unwrap_or_else(|e| e.into_inner());
        m.get(&id)
            .filter(|e| e.version == version && e.epoch == epoch)
            .map(|e| e.value.clone())
    }

    /// Look up many at once under one lock (listing).
    fn get_many(&self, keys: &[(i64, i64, i64)]) -> Vec<Option<T>> {
        let m = self.0.read().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .map(|&(id, version, epoch)| {
                m.get(&id)
                    .filter(|e| e.version == version && e.epoch == epoch)
                    .map(|e| e.value.clone())
            })
            .collect()
    }

    fn put_many(&self, items: impl IntoIterator<Item = (i64, i64, i64, T)>) {
        let mut m = self.0.write().unwrap_or_else(|e| e.into_inner());
        for (id, version, epoch, value) in items {
            // Never replace a newer entry with an older one (two readers
            // racing with a writer): versions only grow.
            if let Some(old) = m.get(&id)
                && (old.epoch > epoch || (old.epoch == epoch && old.version > version))
            {
                continue;
            }
            if m.len() >= self.1 && !m.contains_key(&id) {
                m.clear();
            }
            m.insert(
                id,
                Versioned {
                    version,
                    epoch,
                    value,
                },
            );
        }
    }

    fn remove(&self, id: i64) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    fn len(&self) -> usize {
        self.0.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn clear(&self) {
        self.0.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

pub struct RenderCache {
    related: Map<Arc<Related>>,
    rendered: Map<Arc<[u8]>>,
    shared: RwLock<Arc<SharedNames>>,
    /// One reload of the shared names at a time (the others wait for it).
    pub shared_reload: tokio::sync::Mutex<()>,
    /// A preload pass is running (`load::preload`).
    pub preloading: std::sync::atomic::AtomicBool,
}

impl Default for RenderCache {
    fn default() -> Self {
        RenderCache::new(DEFAULT_MAX_ENTRIES)
    }
}

impl RenderCache {
    /// Caches holding up to `max` machines each.
    pub fn new(max: usize) -> Self {
        RenderCache {
            related: Map::new(max),
            rendered: Map::new(max),
            shared: RwLock::new(Arc::new(SharedNames::default())),
            shared_reload: tokio::sync::Mutex::new(()),
            preloading: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Machines each cache holds at most.
    pub fn max_entries(&self) -> usize {
        self.rendered.1
    }
    /// The newest shared-names snapshot held.
    pub fn shared(&self) -> Arc<SharedNames> {
        self.shared
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Keep `s` unless a snapshot of a later epoch is held already.
    pub fn put_shared(&self, s: Arc<SharedNames>) {
        let mut cur = self.shared.write().unwrap_or_else(|e| e.into_inner());
        if s.epoch >= cur.epoch {
            *cur = s;
        }
    }

    pub fn related(&self, id: i64, hw_version: i64, epoch: i64) -> Option<Arc<Related>> {
        self.related.get(id, hw_version, epoch)
    }

    pub fn put_related(&self, items: impl IntoIterator<Item = (i64, i64, i64, Arc<Related>)>) {
        self.related.put_many(items);
    }

    /// Rendered machine objects for (id, version, epoch) keys, in order.
    pub fn rendered(&self, keys: &[(i64, i64, i64)]) -> Vec<Option<Arc<[u8]>>> {
        self.rendered.get_many(keys)
    }

    pub fn put_rendered(&self, items: impl IntoIterator<Item = (i64, i64, i64, Arc<[u8]>)>) {
        self.rendered.put_many(items);
    }

    /// Forget everything (the database may not be the one the versions came
    /// from: after a failover or a restore, numbers can repeat).
    pub fn clear(&self) {
        self.related.clear();
        self.rendered.clear();
        *self.shared.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(SharedNames::default());
    }

    /// Forget a deleted machine.
    pub fn remove(&self, id: i64) {
        self.related.remove(id);
        self.rendered.remove(id);
    }

    /// (related sets, rendered objects) held.
    pub fn sizes(&self) -> (usize, usize) {
        (self.related.len(), self.rendered.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::related::{DomainInfo, Place};

    #[test]
    fn entries_match_only_their_exact_versions() {
        let c = RenderCache::default();
        let a: Arc<[u8]> = Arc::from(&b"a"[..]);
        c.put_rendered([(1, 10, 1, a.clone())]);
        assert_eq!(c.rendered(&[(1, 10, 1)])[0].as_deref(), Some(&b"a"[..]));
        assert!(c.rendered(&[(1, 11, 1)])[0].is_none(), "newer row version");
        assert!(c.rendered(&[(1, 10, 2)])[0].is_none(), "newer epoch");
        assert!(c.rendered(&[(2, 10, 1)])[0].is_none(), "other machine");
        // An older render never replaces a newer one.
        c.put_rendered([(1, 12, 1, Arc::from(&b"new"[..]))]);
        c.put_rendered([(1, 10, 1, a)]);
        assert!(c.rendered(&[(1, 10, 1)])[0].is_none());
        assert_eq!(c.rendered(&[(1, 12, 1)])[0].as_deref(), Some(&b"new"[..]));
        c.remove(1);
        assert!(c.rendered(&[(1, 12, 1)])[0].is_none());
        assert_eq!(c.sizes(), (0, 0));
    }

    #[test]
    fn related_sets_are_keyed_by_hardware_version_and_epoch() {
        let c = RenderCache::default();
        c.put_related([(7, 3, 1, Arc::new(Related::default()))]);
        assert!(c.related(7, 3, 1).is_some());
        assert!(c.related(7, 4, 1).is_none());
        assert!(c.related(7, 3, 2).is_none());
    }

    #[test]
    fn shared_names_cover_only_their_epoch_and_known_ids() {
        let mut s = SharedNames {
            epoch: 5,
            ..Default::default()
        };
        let place = |n: &str| Place {
            name: n.into(),
            description: String::new(),
        };
        s.domains.insert(
            0,
            DomainInfo {
                name: "maas".into(),
                ttl: None,
                authoritative: true,
                is_default: true,
            },
        );
        s.zones.insert(1, place("default"));
        s.pools.insert(0, place("default"));
        s.users.insert(7, "alice".into());
        assert!(s.covers(5, 0, 1, 0, None));
        assert!(s.covers(5, 0, 1, 0, Some(7)));
        assert!(!s.covers(6, 0, 1, 0, None), "other epoch");
        assert!(!s.covers(5, 0, 1, 0, Some(8)), "unknown owner");
        assert!(!s.covers(5, 0, 2, 0, None), "unknown zone");
        let c = RenderCache::default();
        c.put_shared(Arc::new(s));
        c.put_shared(Arc::new(SharedNames {
            epoch: 4,
            ..Default::default()
        }));
        assert_eq!(
            c.shared().epoch,
            5,
            "an older snapshot never replaces a newer one"
        );
    }

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        const MAX: usize = 1000;
        let c = RenderCache::new(MAX);
        assert_eq!(c.max_entries(), MAX);
        let v: Arc<[u8]> = Arc::from(&b"x"[..]);
        c.put_rendered((0..MAX as i64).map(|i| (i, 1, 1, v.clone())));
        assert_eq!(c.sizes().1, MAX);
        c.put_rendered([(MAX as i64, 1, 1, v.clone())]);
        assert_eq!(c.sizes().1, 1);
        // Updating an id already held does not clear.
        c.put_rendered([(MAX as i64, 2, 1, v)]);
        assert_eq!(c.sizes().1, 1);
    }
}
