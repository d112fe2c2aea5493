//! `--shard K/N`: N runs over the same list fetch every target exactly
//! once between them, and say how many they left to the others.
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::{cli, with_deadline, FAST};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn n_shards_fetch_every_target_exactly_once() {
    with_deadline(LIMIT, || {
        let closed = support::closed_port();
        // Many hosts (loopback addresses, all refusing fast), one host
        // written several ways, duplicates, and lines that are no target.
        let mut targets: Vec<String> = (1..=40)
            .map(|i| format!("127.0.0.{i}:{}", closed.port()))
            .collect();
        targets.push(format!("http://127.0.0.1:{}/other-path", closed.port()));
        targets.push(format!("127.0.0.1:{}", closed.port()));
        targets.push("bad target".into());
        targets.push("h:0".into());
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("list.txt");
        std::fs::write(&list, targets.join("\n")).unwrap();

        const N: usize = 4;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut shard_of_host: BTreeMap<String, usize> = BTreeMap::new();
        for k in 1..=N {
            let shard = format!("{k}/{N}");
            let run = cli(FAST.iter().copied().chain([
                "--json",
                "--stats",
                "--shard",
                &shard,
                "-i",
                list.to_str().unwrap(),
            ]));
            let first_line = run.stderr.lines().next().unwrap_or_default();
            let stats: serde_json::Value =
                serde_json::from_str(first_line).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
            let summary = &stats["summary"];
            assert_eq!(summary["shard"]["k"], k);
            assert_eq!(summary["shard"]["n"], N);
            let (hosts, skipped) = (
                summary["hosts"].as_u64().unwrap(),
                summary["shard"]["skipped"].as_u64().unwrap(),
            );
            assert_eq!(
                (hosts + skipped) as usize,
                targets.len(),
                "shard {shard}: its own and the others' add up to the list"
            );
            for outcome in run.json() {
                let target = outcome["target"].as_str().unwrap().to_owned();
                *seen.entry(target.clone()).or_default() += 1;
                if let Some(url) = outcome["url"].as_str() {
                    let host = url.split('/').nth(2).unwrap().split(':').next().unwrap();
                    let first = *shard_of_host.entry(host.to_owned()).or_insert(k);
                    assert_eq!(first, k, "every target of {host} in one shard");
                }
            }
        }
        let mut expected: BTreeMap<String, usize> = BTreeMap::new();
        for target in &targets {
            *expected.entry(target.clone()).or_default() += 1;
        }
        assert_eq!(seen, expected, "every target once, a duplicate line twice");
        assert!(
            shard_of_host
                .values()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                > 1
        );
    });
}

#[test]
fn a_bad_shard_is_a_usage_error() {
    for bad in ["0/4", "5/4", "4", "x/y"] {
        let run = cli(["--shard", bad, "h.invalid"]);
        assert_eq!(run.code, Some(2), "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("K/N"), "{bad}: {}", run.stderr);
    }
}
