//! `--shard K/N`: this run takes only its share of the targets, so N runs
//! (N machines, N jobs of an array) together fetch every target once.
//!
//! A target belongs to shard `K` when `fnv1a64(host) % N == K - 1`, where
//! `host` is the target's normalised host: the host the engine would look
//! up (lower case, internationalised names in their ASCII form), without a
//! trailing dot. A line that is not a target at all is hashed as written
//! (trimmed), so it too is reported by exactly one shard. The hash is
//! FNV-1a with 64 bits (see `fnv.rs`), fixed and written out here rather
//! than std's `DefaultHasher`, which may change between Rust releases:
//!
//! - the same target goes to the same shard on every machine and in every
//!   run, whatever the order of the list or what was appended to it;
//! - every target of one host (`a.example/x`, `http://A.example:8080/`)
//!   goes to one shard, so no two machines fetch from the same host at once
//!   for it, and a resolver cache on each machine sees each name once.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::str::FromStr;

use fetch_headers::fetch::{parse_target, Targets};

use super::fnv::fnv1a64;

/// Which share of the targets a run takes: `K` of `N`, counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    /// This shard, 1 ≤ k ≤ n.
    pub(crate) k: u64,
    /// How many shards there are.
    pub(crate) n: u64,
}

impl Shard {
    /// Whether `target` (a target line as given) is this shard's.
    pub(crate) fn owns(&self, target: &str) -> bool {
        // One shard owns everything: no need to parse the target for it
        // (a run without --shard is shard 1/1).
        self.n == 1 || shard_key(target) % self.n == self.k - 1
    }
}

/// The hash a target is sharded by (see the module docs).
fn shard_key(target: &str) -> u64 {
    match parse_target(target) {
        Ok(target) => fnv1a64(
            target
                .host
                .strip_suffix('.')
                .unwrap_or(&target.host)
                .as_bytes(),
        ),
        Err(_) => fnv1a64(target.trim().as_bytes()),
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N`, with 1 ≤ K ≤ N.
    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("'{text}' is not a shard: write K/N with 1 <= K <= N, as 2/8");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// The targets of this shard only.
pub(crate) struct ShardTargets<T> {
    pub(crate) targets: T,
    pub(crate) shard: Shard,
    /// How many belonged to other shards, for the summary.
    pub(crate) skipped: Rc<Cell<u64>>,
}

impl<T: Targets> Targets for ShardTargets<T> {
    async fn next(&mut self) -> Option<String> {
        loop {
            let target = self.targets.next().await?;
            if self.shard.owns(&target) {
                return Some(target);
            }
            self.skipped.set(self.skipped.get() + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_of_n_is_parsed_and_checked() {
        assert_eq!("2/8".parse(), Ok(Shard { k: 2, n: 8 }));
        assert_eq!(" 1 / 1 ".parse(), Ok(Shard { k: 1, n: 1 }));
        for bad in ["0/8", "9/8", "1/0", "8", "a/b", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_target_of_a_host_is_in_one_shard_and_all_shards_cover_all() {
        let targets = [
            "Example.COM",
            "example.com:8080/x",
            "http://example.com./y",
            "例子.测试",
            "xn--fsqu00a.xn--0zwm56d",
            "not a target",
            "10.0.0.1",
        ];
        for n in [1, 2, 3, 7] {
            let owners =
                |t: &str| -> Vec<u64> { (1..=n).filter(|&k| Shard { k, n }.owns(t)).collect() };
            for target in targets {
                assert_eq!(owners(target).len(), 1, "{target} with n={n}");
            }
            let first = owners(targets[0]);
            for same_host in &targets[1..3] {
                assert_eq!(owners(same_host), first, "{same_host} with n={n}");
            }
            assert_eq!(owners(targets[3]), owners(targets[4]), "IDN with n={n}");
        }
    }

    /// FNV-1a-64 of "example.com", checked by hand against the reference
    /// algorithm, so the documented assignment cannot drift.
    #[test]
    fn the_documented_hash_decides() {
        assert_eq!(shard_key("example.com"), fnv1a64(b"example.com"));
        assert_eq!(shard_key("http://EXAMPLE.com./"), fnv1a64(b"example.com"));
    }
}
