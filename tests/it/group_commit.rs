//! Group commit (src/store/group_commit.rs): flushes asked at once share a disk sync, each
//! caller returns only after a sync that started after its request, a failed sync fails the
//! requests it covered, and async waiters (the Telegram front end) hold no thread while they
//! wait, so a burst's turns need only a few syncs.

use anyhow::anyhow;
use repaybot::store::group_commit::GroupCommit;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A fake disk: `written` counts writes; a sync makes every write so far durable.
#[derive(Default)]
struct Disk {
    written: AtomicU64,
    durable: AtomicU64,
    syncs: AtomicU64,
}

impl Disk {
    fn write(&self) -> u64 {
        self.written.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn sync(&self, takes: Duration) {
        let upto = self.written.load(Ordering::SeqCst);
        std::thread::sleep(takes);
        self.durable.fetch_max(upto, Ordering::SeqCst);
        self.syncs.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn concurrent_flushes_share_a_sync_and_each_waits_for_one_that_covers_it() {
    let (group, disk) = (Arc::new(GroupCommit::default()), Arc::new(Disk::default()));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (group, disk) = (Arc::clone(&group), Arc::clone(&disk));
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let mine = disk.write();
                    group
                        .flush(|| {
                            disk.sync(Duration::from_millis(2));
                            Ok(())
                        })
                        .unwrap();
                    assert!(
                        disk.durable.load(Ordering::SeqCst) >= mine,
                        "returned before its write was synced"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let syncs = disk.syncs.load(Ordering::SeqCst);
    assert!(syncs < 160, "8 threads × 20 flushes took {syncs} syncs");
    assert!(syncs >= 20, "at least one sync per round of a thread");
}

#[test]
fn async_waiters_of_a_burst_share_a_few_syncs_and_none_returns_before_its_write_is_synced() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (group, disk) = (Arc::new(GroupCommit::default()), Arc::new(Disk::default()));
    rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..500 {
            let (group, disk) = (Arc::clone(&group), Arc::clone(&disk));
            tasks.spawn(async move {
                let mine = disk.write();
                let ticket = group.ticket();
                let on_disk = Arc::clone(&disk);
                group
                    .wait_async(ticket, move || {
                        on_disk.sync(Duration::from_millis(20));
                        Ok(())
                    })
                    .await
                    .unwrap();
                assert!(
                    disk.durable.load(Ordering::SeqCst) >= mine,
                    "returned before its write was synced"
                );
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    });
    let syncs = disk.syncs.load(Ordering::SeqCst);
    assert!(syncs >= 1);
    assert!(syncs <= 10, "500 waiters took {syncs} syncs");
    assert_eq!(group.rounds(), syncs);
}

#[test]
fn a_failed_sync_fails_the_requests_it_covered_and_a_later_one_syncs_again() {
    let group = GroupCommit::default();
    let failed = group.flush(|| Err(anyhow!("disk full")));
    assert!(
        format!("{:#}", failed.unwrap_err()).contains("disk full"),
        "the caller hears why"
    );
    let mut ran = false;
    group
        .flush(|| {
            ran = true;
            Ok(())
        })
        .unwrap();
    assert!(ran, "a request after the failure runs a sync of its own");
    assert_eq!(group.rounds(), 2);
}

#[test]
fn an_async_waiter_hears_a_failed_sync() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let group = Arc::new(GroupCommit::default());
    let ticket = group.ticket();
    let got = rt.block_on(group.wait_async(ticket, || Err(anyhow!("I/O error"))));
    assert!(format!("{:#}", got.unwrap_err()).contains("I/O error"));
}
