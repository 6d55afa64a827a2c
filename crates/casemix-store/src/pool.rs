//! A small pool of store connections, so that each task (a page, an upload, a run) has its own
//! connection and no task waits for another's computation: with SQLite in WAL mode readers
//! proceed while one writer writes (writers serialise on the database's own lock, for the
//! length of their transaction only); with PostgreSQL each connection is a server session.
//! Nothing is parsed, checked or computed while a connection is checked out by the callers of
//! this crate's workbench (they prepare first, then take a connection for the transaction).

use crate::{Result, Store, StoreError};
use std::sync::{Condvar, Mutex};

/// Connections to one database (a SQLite file or a PostgreSQL URL), at most `max` at a time.
pub struct StorePool {
    target: String,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Store>,
    /// Connections in existence (idle + checked out).
    open: usize,
}

impl StorePool {
    /// Opens the database (creating it and bringing its schema up to date, [`Store::open_url`])
    /// and keeps that first connection; further ones are opened on demand, up to `max` (≥ 1).
    pub fn open(target: &str, max: usize) -> Result<StorePool> {
        let first = Store::open_url(target)?;
        Ok(StorePool {
            target: target.to_string(),
            max: max.max(1),
            state: Mutex::new(PoolState { idle: vec![first], open: 1 }),
            freed: Condvar::new(),
        })
    }

    /// A connection for this task: an idle one, a new one, or (all `max` in use) the next one
    /// given back. Given back when the guard is dropped.
    pub fn get(&self) -> Result<PooledStore<'_>> {
        let mut st = self.state.lock().map_err(|_| poisoned())?;
        loop {
            if let Some(s) = st.idle.pop() {
                return Ok(PooledStore { pool: self, store: Some(s) });
            }
            if st.open < self.max {
                st.open += 1;
                drop(st);
                return match Store::connect_url(&self.target) {
                    Ok(s) => Ok(PooledStore { pool: self, store: Some(s) }),
                    Err(e) => {
                        self.forget_one();
                        Err(e)
                    }
                };
            }
            st = self.freed.wait(st).map_err(|_| poisoned())?;
        }
    }

    /// The same as [`StorePool::get`], named after the `Mutex<Store>` the pool replaced, so
    /// that `store.lock().map_err(…)?` keeps compiling (and now returns a connection of its own).
    pub fn lock(&self) -> Result<PooledStore<'_>> {
        self.get()
    }

    /// Connections in existence (idle + in use).
    pub fn open_connections(&self) -> usize {
        self.state.lock().map(|s| s.open).unwrap_or(0)
    }

    fn forget_one(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.open = st.open.saturating_sub(1);
        }
        self.freed.notify_one();
    }

    fn give_back(&self, s: Store) {
        match self.state.lock() {
            Ok(mut st) => st.idle.push(s),
            Err(_) => return,
        }
        self.freed.notify_one();
    }
}

fn poisoned() -> StoreError {
    StoreError::Invalid("数据库连接池不可用（另一任务在持有连接时崩溃）".into())
}

/// A connection checked out of a [`StorePool`]; derefs to [`Store`].
pub struct PooledStore<'a> {
    pool: &'a StorePool,
    store: Option<Store>,
}

impl PooledStore<'_> {
    /// Closes this connection instead of giving it back (after an error that may have left
    /// the connection unusable, e.g. a PostgreSQL session that dropped).
    pub fn discard(mut self) {
        self.store = None;
        self.pool.forget_one();
    }
}

impl std::ops::Deref for PooledStore<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        // Some from creation until drop/discard, which consume the guard
        self.store.as_ref().unwrap_or_else(|| unreachable!("a checked-out connection is present until dropped"))
    }
}

impl std::ops::DerefMut for PooledStore<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store.as_mut().unwrap_or_else(|| unreachable!("a checked-out connection is present until dropped"))
    }
}

impl Drop for PooledStore<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.store.take() {
            self.pool.give_back(s);
        }
    }
}
