//! Password sign-in throttling: failures are counted per user name (known or
//! not) and per client address; past a threshold each further attempt waits
//! a doubling delay, during which even the right password is refused (429).
//! A success clears the user's count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Failures allowed per user name before delays start.
pub const USER_FREE_FAILURES: u32 = 3;
/// Failures allowed per address (across user names) before delays start.
pub const ADDRESS_FREE_FAILURES: u32 = 20;
/// The longest delay.
pub const MAX_DELAY: Duration = Duration::from_secs(300);
/// Counts older than this (since the last failure) are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Entries kept at most (oldest dropped first when full).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    until: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Who {
    User(String),
    Address(IpAddr),
}

#[derive(Default)]
pub struct SignInGuard {
    failures: Mutex<HashMap<Who, Failures>>,
}

fn delay(count: u32, free: u32) -> Duration {
    if count < free {
        return Duration::ZERO;
    }
    let exp = (count - free).min(16);
    (Duration::from_secs(1) * 2u32.pow(exp)).min(MAX_DELAY)
}

impl SignInGuard {
    fn keys(username: &str, addr: Option<IpAddr>) -> Vec<(Who, u32)> {
        let mut k = vec![(Who::User(username.to_string()), USER_FREE_FAILURES)];
        if let Some(a) = addr {
            k.push((Who::Address(a), ADDRESS_FREE_FAILURES));
        }
        k
    }

    /// Refuse (429) while the user name or the address must wait.
    pub fn check(&self, username: &str, addr: Option<IpAddr>) -> Result<()> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for (k, _) in Self::keys(username, addr) {
            if let Some(f) = map.get(&k)
                && f.until > now
            {
                let secs = (f.until - now).as_secs().max(1);
                return Err(Error::RateLimited(format!(
                    "Too many failed sign-in attempts; try again in {secs} s."
                )));
            }
        }
        Ok(())
    }

    /// Count a failure for the user name and the address.
    pub fn failed(&self, username: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        for (k, free) in Self::keys(username, addr) {
            let f = map.entry(k).or_insert(Failures {
                count: 0,
                last: now,
                until: now,
            });
            f.count += 1;
            f.last = now;
            f.until = now + delay(f.count, free);
        }
    }

    /// A successful sign-in clears the user name's count.
    pub fn succeeded(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&Who::User(username.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_failures_and_double() {
        assert_eq!(delay(2, 3), Duration::ZERO);
        assert_eq!(delay(3, 3), Duration::from_secs(1));
        assert_eq!(delay(4, 3), Duration::from_secs(2));
        assert_eq!(delay(6, 3), Duration::from_secs(8));
        assert_eq!(delay(60, 3), MAX_DELAY);
    }

    #[test]
    fn a_user_is_held_back_others_are_not() {
        let g = SignInGuard::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..USER_FREE_FAILURES {
            g.check("admin", Some(a)).unwrap();
            g.failed("admin", Some(a));
        }
        assert!(matches!(
            g.check("admin", Some(a)),
            Err(Error::RateLimited(_))
        ));
        g.check("alice", Some(a)).unwrap();
        g.succeeded("admin");
        g.check("admin", Some(a)).unwrap();
    }

    #[test]
    fn an_address_spraying_names_is_held_back() {
        let g = SignInGuard::default();
        let a: IpAddr = "10.0.0.2".parse().unwrap();
        for n in 0..ADDRESS_FREE_FAILURES {
            g.failed(&format!("u{n}"), Some(a));
        }
        assert!(g.check("fresh", Some(a)).is_err());
        g.check("fresh", Some("10.0.0.3".parse().unwrap())).unwrap();
    }
}
