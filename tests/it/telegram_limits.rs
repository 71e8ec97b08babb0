//! What keeps a few flooding chats from slowing everyone, without a server and with explicit
//! times: the flood guard refills at the configured rate, a chat's job queue is bounded with one
//! notice, and one chat's send backlog never delays another chat's slot.

use chrono::{DateTime, TimeZone, Utc};
use repaybot::telegram::flood::{FloodGuard, Verdict};
use repaybot::telegram::pace::Pacer;
use repaybot::telegram::queue::{bounded, Pushed};
use std::time::{Duration, Instant};
use teloxide::adaptors::throttle::Limits;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap()
}

/// Messages passed when a user sends one every `every_ms` for `for_ms`.
fn passed(guard: &FloodGuard, every_ms: i64, for_ms: i64) -> usize {
    (0..for_ms / every_ms)
        .map(|i| guard.check(1, t0() + chrono::Duration::milliseconds(i * every_ms)))
        .filter(|v| *v == Verdict::Pass)
        .count()
}

#[test]
fn the_flood_guard_refills_at_the_configured_rate_not_a_fixed_700_ms() {
    // 3 at once, then one every 2 s: a message every 100 ms for 10 s passes 3, then one at
    // 2, 4, 6 and 8 s.
    assert_eq!(
        passed(&FloodGuard::new(3, Duration::from_secs(2)), 100, 10_000),
        7
    );
    // 5 at once, then one every 100 ms: a message every 50 ms for 10 s passes 5 + 99.
    assert_eq!(
        passed(&FloodGuard::new(5, Duration::from_millis(100)), 50, 10_000),
        104
    );
}

#[test]
fn the_flood_guard_judges_by_the_messages_own_date() {
    let guard = FloodGuard::new(2, Duration::from_secs(1));
    // Ten messages sent a minute apart, delivered together after an outage: none is a flood.
    let verdicts: Vec<Verdict> = (0..10)
        .map(|i| guard.check(7, t0() + chrono::Duration::minutes(i)))
        .collect();
    assert!(verdicts.iter().all(|v| *v == Verdict::Pass), "{verdicts:?}");
    // Ten sent within the same second are one, however slowly they arrive.
    let later = t0() + chrono::Duration::hours(1);
    let burst: Vec<Verdict> = (0..10).map(|_| guard.check(7, later)).collect();
    assert_eq!(burst.iter().filter(|v| **v == Verdict::Pass).count(), 2);
    assert_eq!(burst.iter().filter(|v| **v == Verdict::Notice).count(), 1);
}

#[test]
fn a_chats_job_queue_is_bounded_and_overflow_gets_one_notice_until_it_drains() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (queue, mut jobs) = bounded::<u32>(3);
        let pushed: Vec<Pushed<u32>> = (0..8).map(|i| queue.push(i)).collect();
        assert!(pushed[..3].iter().all(|p| *p == Pushed::Queued));
        assert_eq!(
            pushed[3],
            Pushed::Full {
                job: 3,
                notice: true
            }
        );
        assert!(pushed[4..]
            .iter()
            .all(|p| matches!(p, Pushed::Full { notice: false, .. })));
        // Still backlogged: a freed slot takes a job, the next overflow stays silent.
        assert_eq!(jobs.next().await, Some(0));
        assert_eq!(queue.push(8), Pushed::Queued);
        assert_eq!(
            queue.push(9),
            Pushed::Full {
                job: 9,
                notice: false
            }
        );
        // Drained: a new overflow is a new spell with its own notice.
        for want in [1, 2, 8] {
            assert_eq!(jobs.next().await, Some(want));
        }
        assert!(jobs.is_empty());
        for i in 0..3 {
            assert_eq!(queue.push(i), Pushed::Queued);
        }
        assert_eq!(
            queue.push(3),
            Pushed::Full {
                job: 3,
                notice: true
            }
        );
    });
}

#[test]
fn one_chats_send_backlog_never_delays_another_chats_slot() {
    let pacer = Pacer::new(&Limits {
        messages_per_sec_chat: 1,
        messages_per_min_chat: 20,
        messages_per_min_channel_or_supergroup: 10,
        messages_per_sec_overall: 30,
    });
    let now = Instant::now();
    // Forty flooding chats ask for 25 slots each.
    let mut last = now;
    for chat in 1..=40 {
        let slots: Vec<Instant> = (0..25).map(|_| pacer.reserve(chat, now)).collect();
        let secs: Vec<u64> = slots.iter().map(|t| (*t - now).as_secs()).collect();
        assert_eq!(
            &secs[..20],
            &(0..20).collect::<Vec<u64>>()[..],
            "one a second"
        );
        assert_eq!(secs[20], 60, "the 21st waits for the minute");
        last = last.max(slots[24]);
    }
    assert!(last > now + Duration::from_secs(60));
    // A quiet customer's answer goes at once, and a second one a second later.
    assert_eq!(pacer.reserve(5000, now), now);
    assert_eq!(pacer.reserve(5000, now), now + Duration::from_secs(1));
    // The support group has its own per-minute limit.
    let group: Vec<Instant> = (0..11).map(|_| pacer.reserve(-100, now)).collect();
    assert_eq!(group[10] - now, Duration::from_secs(60));
}
