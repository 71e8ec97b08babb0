//! The outbound path against the fake Bot API (tests/it/fake_telegram.rs): a chat's messages
//! keep their order under concurrency, Telegram's `429 retry_after` pauses its scope and every
//! message still arrives once, a reply overtakes queued reminders, and a chat whose user blocked
//! the bot is recorded and gets no more reminders. Not timed beyond generous bounds.

use crate::fake_telegram::{FakeTelegram, Fault};
use chrono::{Days, NaiveDate, TimeZone, Utc};
use repaybot::app::{App, Reply};
use repaybot::reminders::{self, PassOptions};
use repaybot::settings::Settings;
use repaybot::store::Store;
use repaybot::telegram::limiter::Limiter;
use repaybot::telegram::{TelegramDeliver, TelegramSender};
use std::time::{Duration, Instant};
use teloxide::adaptors::throttle::Limits;

const TOKEN: &str = "5:outbound";

fn limits(per_sec_chat: u32, per_min_chat: u32, overall: u32) -> Limits {
    Limits {
        messages_per_sec_chat: per_sec_chat,
        messages_per_min_chat: per_min_chat,
        messages_per_min_channel_or_supergroup: per_min_chat,
        messages_per_sec_overall: overall,
    }
}

fn sender(fake: &FakeTelegram, limits: &Limits) -> TelegramSender {
    let bot = teloxide::Bot::new(TOKEN).set_api_url(fake.url().parse().expect("url"));
    TelegramSender::new(bot).with_limiter(Limiter::new(limits))
}

fn texts(fake: &FakeTelegram, chat: i64) -> Vec<String> {
    fake.messages_to(chat).iter().map(|c| c.text()).collect()
}

/// A reply in `parts` parts of about 4,000 characters each, every line naming the part.
fn long_reply(tag: &str, parts: usize) -> Reply {
    let lines: Vec<String> = (0..parts * 40)
        .map(|i| format!("{tag}{}:{}", i / 40, "x".repeat(95)))
        .collect();
    Reply::text(lines.join("\n"))
}

#[test]
fn a_chats_messages_keep_their_order_and_never_interleave_under_concurrency() {
    let fake = FakeTelegram::start(TOKEN);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let sender = sender(&fake, &limits(5, 1000, 200));
        // 30 chats, each a turn of 6 replies in order, all at once; two chats are asked to wait.
        fake.fail_next(3, &[Fault::RetryAfter(1)]);
        fake.fail_next(4, &[Fault::RetryAfter(1), Fault::RetryAfter(1)]);
        let mut tasks = tokio::task::JoinSet::new();
        for chat in 1..=30i64 {
            let sender = sender.clone();
            tasks.spawn(async move {
                for i in 0..6 {
                    let sent = sender.send(chat, &Reply::text(format!("m{i}"))).await;
                    assert!(sent.is_ok(), "chat {chat} message {i}: {sent:?}");
                }
            });
        }
        // Two senders of one chat at once (a turn and a reminder): each long reply stays whole.
        for tag in ["A", "B"] {
            let sender = sender.clone();
            tasks.spawn(async move {
                let sent = sender.proactive().send(99, &long_reply(tag, 3)).await;
                assert!(sent.is_ok(), "{sent:?}");
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("sender task");
        }
    });
    let want: Vec<String> = (0..6).map(|i| format!("m{i}")).collect();
    for chat in 1..=30 {
        assert_eq!(texts(&fake, chat), want, "chat {chat}");
    }
    let parts: Vec<String> = texts(&fake, 99)
        .iter()
        .map(|t| t[..2].to_string())
        .collect();
    assert!(
        parts == ["A0", "A1", "A2", "B0", "B1", "B2"]
            || parts == ["B0", "B1", "B2", "A0", "A1", "A2"],
        "{parts:?}"
    );
}

#[test]
fn a_429_pauses_that_chat_only_and_every_message_still_arrives_once() {
    let fake = FakeTelegram::start(TOKEN);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    rt.block_on(async {
        let sender = sender(&fake, &limits(10, 1000, 100));
        fake.fail_next(5, &[Fault::RetryAfter(2)]);
        let (a, b) = (sender.clone(), sender.clone());
        let five = tokio::spawn(async move {
            for i in 0..3 {
                a.send(5, &Reply::text(format!("five{i}")))
                    .await
                    .expect("sent");
            }
        });
        let six = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            for i in 0..3 {
                b.send(6, &Reply::text(format!("six{i}")))
                    .await
                    .expect("sent");
            }
        });
        five.await.expect("chat 5");
        six.await.expect("chat 6");
    });
    assert_eq!(
        texts(&fake, 5),
        ["five0", "five1", "five2"],
        "each once, in order"
    );
    assert_eq!(texts(&fake, 6), ["six0", "six1", "six2"]);
    let refused = fake.refused();
    assert_eq!(refused.len(), 1, "one refusal, then the wait was kept");
    let first_five = fake.messages_to(5)[0].at;
    assert!(
        first_five.duration_since(refused[0].2) >= Duration::from_millis(1900),
        "chat 5 waited Telegram's 2 s"
    );
    let last_six = fake.messages_to(6)[2].at;
    assert!(
        last_six.duration_since(started) < Duration::from_millis(1500),
        "another chat was not held by chat 5's pause"
    );
}

#[test]
fn a_429_from_two_chats_at_once_pauses_every_send() {
    let fake = FakeTelegram::start(TOKEN);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let sender = sender(&fake, &limits(10, 1000, 100));
        fake.fail_next(1, &[Fault::RetryAfter(1)]);
        fake.fail_next(2, &[Fault::RetryAfter(1)]);
        let mut tasks = tokio::task::JoinSet::new();
        for chat in [1i64, 2] {
            let sender = sender.clone();
            tasks.spawn(async move { sender.send(chat, &Reply::text("hi".into())).await });
        }
        let waited = Instant::now();
        while fake.refused().len() < 2 && waited.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sender
            .send(3, &Reply::text("third".into()))
            .await
            .expect("sent");
        while let Some(done) = tasks.join_next().await {
            done.expect("task").expect("sent");
        }
    });
    let second_refusal = fake.refused()[1].2;
    let third = fake.messages_to(3)[0].at;
    assert!(
        third.duration_since(second_refusal) >= Duration::from_millis(900),
        "a third chat waited for the bot-wide pause"
    );
    assert_eq!(texts(&fake, 1), ["hi"]);
    assert_eq!(texts(&fake, 2), ["hi"]);
}

#[test]
fn a_reply_overtakes_queued_reminders() {
    let fake = FakeTelegram::start(TOKEN);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut asked = Instant::now();
    rt.block_on(async {
        // 5 a second overall: 40 reminders take 8 seconds.
        let sender = sender(&fake, &limits(1, 20, 5));
        let mut reminders = tokio::task::JoinSet::new();
        for chat in 100..140i64 {
            let proactive = sender.proactive();
            reminders.spawn(async move {
                let sent = proactive.send(chat, &Reply::text("reminder".into())).await;
                sent.expect("reminder sent");
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        asked = Instant::now();
        sender
            .send(7, &Reply::text("answer".into()))
            .await
            .expect("sent");
        while let Some(done) = reminders.join_next().await {
            done.expect("reminder task");
        }
    });
    let answer = fake.messages_to(7)[0].at;
    let after: usize = (100..140)
        .filter(|c| fake.messages_to(*c)[0].at > answer)
        .count();
    assert!(
        answer.duration_since(asked) < Duration::from_millis(500),
        "the answer took {:?}",
        answer.duration_since(asked)
    );
    assert!(
        after >= 25,
        "only {after} reminders were still queued behind the answer"
    );
}

fn shanghai(date: NaiveDate, h: u32) -> chrono::DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&date.and_hms_opt(h, 0, 0).expect("time"))
        .earliest()
        .expect("time")
        .with_timezone(&Utc)
}

#[test]
fn a_user_who_blocked_the_bot_is_recorded_and_gets_no_more_reminders() -> anyhow::Result<()> {
    let fake = FakeTelegram::start(TOKEN);
    let start = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let store = Store::temporary()?;
    repaybot::demo::load_if_empty(&store, start, &Settings::default().policy)?;
    let app = App::new(store, Settings::default())?;
    let ids = app.store.account_ids()?;
    for (n, id) in ids.iter().enumerate() {
        app.store.bind(&format!("tg:{}", n + 1), id)?;
    }
    reminders::reschedule_all(&app.store, &app.settings, shanghai(start, 0))?;
    fake.set_blocked(1, true);
    let sender = sender(&fake, &limits(100, 1000, 1000))
        .with_blocked_log(app.store.clone(), app.clock.clone());
    let deliver = TelegramDeliver::new(sender.proactive());
    let opts = PassOptions {
        max_accounts: 1000,
        pace: None,
    };
    let rt = tokio::runtime::Runtime::new()?;
    let mut blocked = 0;
    for d in 0..60 {
        let now = shanghai(start + Days::new(d), 12);
        let r = rt.block_on(reminders::run_once_with(&app, &app, &deliver, now, &opts))?;
        blocked += r.blocked;
    }
    let tries_to_blocked = fake.refused().iter().filter(|r| r.1 == 1).count();
    assert_eq!(tries_to_blocked, 1, "tried once, then never again");
    assert!(blocked >= 1, "later reminder days were skipped");
    assert!(app.store.blocked_since("tg:1")?.is_some(), "recorded");
    let others: usize = (2..=ids.len() as i64)
        .map(|c| fake.messages_to(c).len())
        .sum();
    assert!(
        others >= 2 * (ids.len() - 1),
        "the other customers were reminded"
    );
    Ok(())
}

#[test]
fn paid_broadcast_reminders_carry_the_flag_and_skip_the_free_overall_budget() {
    let fake = FakeTelegram::start(TOKEN);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let took = rt.block_on(async {
        // One free message a second overall: 20 paid broadcasts must not wait for it.
        let paid = sender(&fake, &limits(1, 20, 1)).paid_broadcast();
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for chat in 300..320i64 {
            let paid = paid.clone();
            tasks.spawn(async move { paid.send(chat, &Reply::text("reminder".into())).await });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("task").expect("sent");
        }
        started.elapsed()
    });
    assert!(took < Duration::from_secs(3), "took {took:?}");
    let sent = fake.calls_of("sendMessage");
    assert_eq!(sent.len(), 20);
    assert!(sent
        .iter()
        .all(|c| c.params["allow_paid_broadcast"] == true));
}

#[test]
fn more_than_30_reminders_a_second_need_paid_broadcasts() {
    let mut policy = repaybot::reminders::RemindPolicy {
        messages_per_second: 500,
        ..Default::default()
    };
    assert!(!policy.problems().is_empty());
    policy.paid_broadcast = true;
    assert!(policy.problems().is_empty(), "{:?}", policy.problems());
    policy.messages_per_second = 1001;
    assert!(!policy.problems().is_empty());
}

#[test]
fn a_reminder_waiting_for_capacity_does_not_hold_up_a_reply_to_its_chat() {
    let fake = FakeTelegram::start(TOKEN);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut asked = Instant::now();
    rt.block_on(async {
        // 2 a second overall: 20 reminders take 10 s; one of them is for chat 7.
        let sender = sender(&fake, &limits(100, 1000, 2));
        let mut reminders = tokio::task::JoinSet::new();
        for chat in (100..119i64).chain([7]) {
            let proactive = sender.proactive();
            reminders.spawn(async move {
                let sent = proactive.send(chat, &long_reply("R", 2)).await;
                sent.expect("reminder sent");
            });
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        asked = Instant::now();
        sender
            .send(7, &Reply::text("answer".into()))
            .await
            .expect("sent");
        reminders.abort_all();
    });
    let answer = fake
        .messages_to(7)
        .into_iter()
        .find(|m| m.text() == "answer")
        .expect("the answer");
    assert!(
        answer.at.duration_since(asked) < Duration::from_millis(1500),
        "the answer waited {:?} behind chat 7's reminder",
        answer.at.duration_since(asked)
    );
}

#[test]
fn a_server_error_is_retried_and_the_message_arrives_once() {
    // teloxide itself waits 10 s after a 5xx before it reports it: this test takes that long.
    let fake = FakeTelegram::start(TOKEN);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let sender = sender(&fake, &limits(10, 1000, 100));
        fake.fail_next(8, &[Fault::ServerError]);
        let sent = sender.send(8, &Reply::text("after a 500".into())).await;
        assert!(sent.is_ok(), "{sent:?}");
    });
    assert_eq!(texts(&fake, 8), ["after a 500"]);
    assert_eq!(fake.refused().len(), 1);
}

#[test]
fn which_failures_are_retried_and_which_mark_the_chat() {
    use repaybot::telegram::outbound::{transient, undeliverable};
    use teloxide::{ApiError, RequestError};
    let api = |e: ApiError| RequestError::Api(e);
    assert!(transient(&api(ApiError::Unknown(
        "Internal Server Error".into()
    ))));
    assert!(transient(&api(ApiError::Unknown("Bad Gateway".into()))));
    assert!(!transient(&api(ApiError::BotBlocked)));
    assert!(undeliverable(&api(ApiError::BotBlocked)));
    assert!(undeliverable(&api(ApiError::ChatNotFound)));
    assert!(undeliverable(&api(ApiError::UserDeactivated)));
    assert!(!undeliverable(&api(ApiError::MessageNotModified)));
}
