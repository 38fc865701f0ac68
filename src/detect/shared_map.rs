//! A map shared by every scanning thread (sharded locks), holding at most a
//! budget of bytes: what history scans remember across blobs
//! ([`keyword_cache`](super::keyword_cache), [`doc_memo`](super::doc_memo)).
//! Past the budget, entries are simply not kept; nothing is evicted.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

const SHARDS: usize = 64;

/// Bytes a set of maps may hold together, roughly (callers estimate costs).
pub struct Budget {
    held: AtomicUsize,
    limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Budget {
        Budget {
            held: AtomicUsize::new(0),
            limit,
        }
    }

    /// Take `cost` bytes if they fit.
    fn take(&self, cost: usize) -> bool {
        if self.held.load(Ordering::Relaxed) + cost > self.limit {
            return false;
        }
        self.held.fetch_add(cost, Ordering::Relaxed);
        true
    }
}

/// Keys are digests already: `route` picks the shard from the digest.
pub struct SharedMap<K, V> {
    shards: Vec<Mutex<HashMap<K, V>>>,
}

impl<K: Hash + Eq, V> SharedMap<K, V> {
    pub fn new() -> SharedMap<K, V> {
        SharedMap {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, route: u128) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
        self.shards[(route as usize) % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// `f` of the value kept for `key`, if any (under the shard's lock).
    pub fn read<R>(&self, key: &K, route: u128, f: impl FnOnce(&V) -> R) -> Option<R> {
        self.shard(route).get(key).map(f)
    }

    /// Keep `value` for `key` if its `cost` fits the budget.
    pub fn keep(&self, key: K, route: u128, value: V, cost: usize, budget: &Budget) {
        if budget.take(cost) {
            self.shard(route).insert(key, value);
        }
    }
}

impl<K: Hash + Eq, V> Default for SharedMap<K, V> {
    fn default() -> Self {
        SharedMap::new()
    }
}
