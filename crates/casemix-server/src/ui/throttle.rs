//! Login throttling: per account and per client address, exponential back-off after a few free
//! failures, then a lockout that ends by itself or is lifted by a bureau_admin.
//!
//! Policy (GB/T 22239-2019《网络安全等级保护基本要求》(等保 2.0) 8.1.4.1 a)「应具有登录失败处理
//! 功能，应配置并启用结束会话、限制非法登录次数和当登录连接超时自动退出等相关措施」; the usual
//! practice of 测评 is to lock an account after 5 consecutive failures for at least 15 minutes):
//! - account: 2 failures cost nothing (typing errors), the 3rd and 4th make the next attempt wait
//!   1 s, 2 s; the 5th locks the account for 15 minutes ([`ACCOUNT`]);
//! - client address: an office behind one NAT address shares it, so 10 free failures, then
//!   back-off from 1 s doubling, locked at 30 failures for 15 minutes ([`ADDRESS`]) — this stops
//!   one machine spraying many accounts.
//!
//! Attempts refused while waiting are not counted (no password was checked) and not logged, so a
//! flood cannot bloat the 操作日志; a failure older than [`Policy::forget`] no longer counts. A
//! successful login clears its account's failures (not its address's).
//!
//! The state is in memory: a restart forgets it. That is accepted because only an administrator
//! can restart the server; the audit log keeps every failure and lockout.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One throttling policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures that cause no waiting.
    pub free_failures: u32,
    /// The failure that locks (counted from the first one still remembered).
    pub lock_after: u32,
    /// The first back-off; each further failure doubles it, up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How long a lockout lasts unless an administrator lifts it.
    pub lockout: Duration,
    /// Failures older than this (since the last one) are forgotten.
    pub forget: Duration,
}

/// Per account: 等保 2.0 practice, 5 failures → 15 minutes.
pub const ACCOUNT: Policy = Policy {
    free_failures: 2,
    lock_after: 5,
    backoff_base: Duration::from_secs(1),
    backoff_max: Duration::from_secs(60),
    lockout: Duration::from_secs(15 * 60),
    forget: Duration::from_secs(15 * 60),
};

/// Per client address: shared by every user behind one NAT, hence more generous.
pub const ADDRESS: Policy = Policy {
    free_failures: 10,
    lock_after: 30,
    backoff_base: Duration::from_secs(1),
    backoff_max: Duration::from_secs(60),
    lockout: Duration::from_secs(15 * 60),
    forget: Duration::from_secs(15 * 60),
};

/// Most entries kept: beyond it the oldest unlocked ones are dropped (a flood of made-up logins
/// cannot grow the table without bound).
pub const MAX_ENTRIES: usize = 50_000;

/// What is throttled.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Account(String),
    Address(IpAddr),
}

impl Key {
    pub fn policy(&self) -> &'static Policy {
        match self {
            Key::Account(_) => &ACCOUNT,
            Key::Address(_) => &ADDRESS,
        }
    }
    /// `账户 admin` / `地址 10.0.0.8`.
    pub fn label_zh(&self) -> String {
        match self {
            Key::Account(l) => format!("账户“{l}”"),
            Key::Address(a) => format!("地址 {a}"),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    blocked_until: Instant,
    locked: bool,
    /// Wall-clock time of the lockout, for the administrator's page.
    locked_at: String,
}

/// Why an attempt is refused before any password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key: Key,
    /// Whole seconds to wait (at least 1): the `Retry-After` value.
    pub retry_after: u64,
    /// A lockout (as opposed to a back-off wait).
    pub locked: bool,
}

impl Refusal {
    pub fn message_zh(&self) -> String {
        let wait = minutes_zh(self.retry_after);
        if self.locked {
            format!("{}因连续登录失败已被锁定，{wait}后自动解锁；如需提前解锁，请联系医保局系统管理员。", self.key.label_zh())
        } else {
            format!("登录失败次数过多，请 {wait}后再试。")
        }
    }
}

fn minutes_zh(secs: u64) -> String {
    if secs >= 60 {
        format!("{} 分钟", secs.div_ceil(60))
    } else {
        format!("{secs} 秒")
    }
}

/// What a failure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureOutcome {
    pub failures: u32,
    /// This failure started a lockout.
    pub locked_now: bool,
}

/// One locked or waiting key, for the administrator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockInfo {
    pub kind: &'static str,
    pub key: String,
    pub failures: u32,
    pub locked: bool,
    pub locked_at: String,
    pub retry_after: u64,
}

/// The failure table.
#[derive(Default)]
pub struct Throttle {
    map: Mutex<HashMap<Key, Entry>>,
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        // a panic while holding the table cannot leave it inconsistent (plain inserts/removes)
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The first of `keys` that must wait, if any.
    pub fn check(&self, keys: &[Key], now: Instant) -> Option<Refusal> {
        let m = self.lock();
        keys.iter().find_map(|k| {
            let e = m.get(k)?;
            (e.blocked_until > now).then(|| Refusal { key: k.clone(), retry_after: secs_ceil(e.blocked_until - now), locked: e.locked })
        })
    }

    /// Records a failed password check for `key`.
    pub fn failure(&self, key: &Key, now: Instant, wall: &str) -> FailureOutcome {
        let p = key.policy();
        let mut m = self.lock();
        if m.len() >= MAX_ENTRIES && !m.contains_key(key) {
            prune(&mut m, now);
        }
        let e = m.entry(key.clone()).or_insert(Entry { failures: 0, last_failure: now, blocked_until: now, locked: false, locked_at: String::new() });
        let expired_lock = e.locked && e.blocked_until <= now;
        if expired_lock || now.saturating_duration_since(e.last_failure) > p.forget {
            *e = Entry { failures: 0, last_failure: now, blocked_until: now, locked: false, locked_at: String::new() };
        }
        e.failures = e.failures.saturating_add(1);
        e.last_failure = now;
        let locked_now = e.failures >= p.lock_after && !e.locked;
        if e.failures >= p.lock_after {
            e.locked = true;
            e.blocked_until = now + p.lockout;
            if locked_now {
                e.locked_at = wall.to_string();
            }
        } else {
            e.blocked_until = now + backoff(p, e.failures);
        }
        FailureOutcome { failures: e.failures, locked_now }
    }

    /// A successful login clears its account's failures.
    pub fn success(&self, key: &Key) {
        self.lock().remove(key);
    }

    /// Lifts a lockout or wait (administrator). `false` if the key had none.
    pub fn lift(&self, key: &Key, now: Instant) -> bool {
        let mut m = self.lock();
        let active = m.get(key).is_some_and(|e| e.blocked_until > now || e.failures > 0);
        m.remove(key);
        active
    }

    /// Every key now locked or waiting, accounts first.
    pub fn blocked(&self, now: Instant) -> Vec<LockInfo> {
        let m = self.lock();
        let mut v: Vec<(&Key, &Entry)> = m.iter().filter(|(_, e)| e.blocked_until > now).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v.into_iter()
            .map(|(k, e)| LockInfo {
                kind: if matches!(k, Key::Account(_)) { "account" } else { "address" },
                key: match k {
                    Key::Account(l) => l.clone(),
                    Key::Address(a) => a.to_string(),
                },
                failures: e.failures,
                locked: e.locked,
                locked_at: e.locked_at.clone(),
                retry_after: secs_ceil(e.blocked_until - now),
            })
            .collect()
    }
}

/// The wait after the `n`-th failure (n < lock_after).
fn backoff(p: &Policy, n: u32) -> Duration {
    if n <= p.free_failures {
        return Duration::ZERO;
    }
    let doublings = (n - p.free_failures - 1).min(20);
    p.backoff_base.saturating_mul(1u32 << doublings).min(p.backoff_max)
}

fn secs_ceil(d: Duration) -> u64 {
    (d.as_millis().div_ceil(1000) as u64).max(1)
}

/// Drops forgotten entries, then (still full) the oldest unlocked ones.
fn prune(m: &mut HashMap<Key, Entry>, now: Instant) {
    m.retain(|k, e| e.blocked_until > now || now.saturating_duration_since(e.last_failure) <= k.policy().forget);
    if m.len() >= MAX_ENTRIES {
        let mut unlocked: Vec<(Instant, Key)> = m.iter().filter(|(_, e)| !e.locked).map(|(k, e)| (e.last_failure, k.clone())).collect();
        unlocked.sort();
        for (_, k) in unlocked.into_iter().take(MAX_ENTRIES / 10 + 1) {
            m.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct() -> Key {
        Key::Account("ha".into())
    }

    #[test]
    fn account_waits_then_locks_at_the_fifth_failure() {
        let t = Throttle::default();
        let t0 = Instant::now();
        // failures 1 and 2 are free
        assert_eq!(t.failure(&acct(), t0, "w").failures, 1);
        assert_eq!(t.check(&[acct()], t0), None);
        t.failure(&acct(), t0, "w");
        assert_eq!(t.check(&[acct()], t0), None);
        // the 3rd: 1 s; the 4th: 2 s (1 × 2)
        t.failure(&acct(), t0, "w");
        assert_eq!(t.check(&[acct()], t0), Some(Refusal { key: acct(), retry_after: 1, locked: false }));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(t.check(&[acct()], t1), None);
        t.failure(&acct(), t1, "w");
        assert_eq!(t.check(&[acct()], t1).map(|r| r.retry_after), Some(2));
        // the 5th locks for 15 min = 900 s
        let t2 = t1 + Duration::from_secs(2);
        assert_eq!(t.failure(&acct(), t2, "w"), FailureOutcome { failures: 5, locked_now: true });
        let r = t.check(&[Key::Address("10.0.0.1".parse().unwrap()), acct()], t2).unwrap();
        assert_eq!((r.retry_after, r.locked), (900, true));
        assert!(r.message_zh().contains("15 分钟"), "{}", r.message_zh());
        // still locked 899 s later, free at 900 s
        assert!(t.check(&[acct()], t2 + Duration::from_secs(899)).is_some());
        assert_eq!(t.check(&[acct()], t2 + Duration::from_secs(900)), None);
        // after the lockout ran out, counting starts again
        assert_eq!(t.failure(&acct(), t2 + Duration::from_secs(901), "w").failures, 1);
    }

    #[test]
    fn lift_and_success_clear() {
        let t = Throttle::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            t.failure(&acct(), t0, "2026-01-01 08:00:00");
        }
        let b = t.blocked(t0);
        assert_eq!(b.len(), 1);
        assert_eq!((b[0].kind, b[0].key.as_str(), b[0].failures, b[0].locked, b[0].locked_at.as_str()), ("account", "ha", 5, true, "2026-01-01 08:00:00"));
        assert!(t.lift(&acct(), t0));
        assert_eq!(t.check(&[acct()], t0), None);
        assert!(!t.lift(&acct(), t0));
        t.failure(&acct(), t0, "w");
        t.success(&acct());
        assert!(t.blocked(t0).is_empty());
    }

    #[test]
    fn address_has_ten_free_failures_and_locks_at_thirty() {
        let t = Throttle::default();
        let a = Key::Address("192.168.1.7".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..10 {
            t.failure(&a, t0, "w");
        }
        assert_eq!(t.check(&[a.clone()], t0), None);
        t.failure(&a, t0, "w"); // 11th: 1 s
        assert_eq!(t.check(&[a.clone()], t0).map(|r| r.retry_after), Some(1));
        for _ in 12..=16 {
            t.failure(&a, t0, "w");
        }
        // 16th: 2^(16-10-1) = 32 s
        assert_eq!(t.check(&[a.clone()], t0).map(|r| r.retry_after), Some(32));
        t.failure(&a, t0, "w"); // 17th: 64 s capped at 60
        assert_eq!(t.check(&[a.clone()], t0).map(|r| r.retry_after), Some(60));
        let mut last = None;
        for _ in 18..=30 {
            last = Some(t.failure(&a, t0, "w"));
        }
        assert_eq!(last, Some(FailureOutcome { failures: 30, locked_now: true }));
    }

    #[test]
    fn old_failures_are_forgotten() {
        let t = Throttle::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            t.failure(&acct(), t0, "w");
        }
        // 15 min + 1 s later the count starts over: 1 failure, no wait
        let later = t0 + Duration::from_secs(15 * 60 + 1);
        assert_eq!(t.failure(&acct(), later, "w").failures, 1);
        assert_eq!(t.check(&[acct()], later), None);
    }
}
