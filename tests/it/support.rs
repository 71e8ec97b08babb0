//! Human support through the desk core with a temporary store (SPEC 4.11): tickets, the card,
//! agents and customers talking through the bot, `/close`, the queue, support hours, hardship
//! decisions, restarts, and what personal data may reach the support group.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use repaybot::app::{App, ChatInput};
use repaybot::demo;
use repaybot::settings::Settings;
use repaybot::store::{AgentRef, DecisionKind, Store, TicketReason, TicketStatus};
use repaybot::support::{AgentCommand, Content, Desk, FileKind, GroupMessage, Outgoing, RepliedTo};
use rust_decimal_macros::dec;

/// What must not reach a customer from the group (tests/it/support/safety.rs).
mod safety;

const ALICE: &str = "tg:100";
const BOB: &str = "tg:200";
const ADMIN: i64 = 900;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).expect("date")
}

/// 10:00 in Shanghai: inside support hours.
fn day(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 2, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

fn settings(forum: bool) -> Settings {
    let mut s = Settings::default();
    s.support.group_id = Some(-100_555);
    s.support.forum_topics = forum;
    s.support.admins = vec![ADMIN];
    s
}

fn app_on(store: Store, forum: bool) -> Result<App> {
    demo::load_if_empty(&store, today(), &Settings::default().policy)?;
    App::new(store, settings(forum))
}

fn app(forum: bool) -> Result<App> {
    let app = app_on(Store::temporary()?, forum)?;
    assert!(app.store.bind(ALICE, "A1001")?);
    Ok(app)
}

fn agent(id: i64, name: &str) -> AgentRef {
    AgentRef {
        user_id: id,
        first_name: name.into(),
    }
}

/// A fake front end: performs the desk's actions like the Telegram adapter will (topics get ids,
/// group posts get message ids and are reported back) and keeps everything that was sent.
struct Front {
    sent: Vec<Outgoing>,
    next_message: i32,
    next_customer_message: i32,
}

impl Front {
    fn new() -> Front {
        Front {
            sent: Vec::new(),
            next_message: 1000,
            next_customer_message: 1,
        }
    }

    fn perform(&mut self, desk: &Desk, outs: Vec<Outgoing>, now: DateTime<Utc>) -> Vec<Outgoing> {
        let mut done = Vec::new();
        for o in outs {
            match &o {
                Outgoing::CreateTopic { ticket, .. } => {
                    let thread = 500 + *ticket as i32;
                    done.push(o.clone());
                    let card = desk.topic_created(*ticket, thread, now).unwrap();
                    done.extend(self.perform(desk, card, now));
                    continue;
                }
                Outgoing::ToGroup {
                    ticket: Some(t), ..
                }
                | Outgoing::ToGroupFile {
                    ticket: Some(t), ..
                } => {
                    self.next_message += 1;
                    desk.posted(*t, self.next_message).unwrap();
                }
                _ => {}
            }
            done.push(o);
        }
        self.sent.extend(done.clone());
        done
    }

    /// A customer's private message, routed like the front end: desk first, else the bot.
    fn customer(
        &mut self,
        app: &App,
        chat: &str,
        msg: Content,
        now: DateTime<Utc>,
    ) -> Vec<Outgoing> {
        let desk = Desk::new(app);
        self.next_customer_message += 1;
        let id = self.next_customer_message;
        let outs = match desk.on_customer(chat, id, &msg, now).unwrap() {
            Some(outs) => outs,
            None => {
                let Content::Text(text) = msg else {
                    return Vec::new();
                };
                let turn = app.respond(chat, ChatInput::Text(text), today(), now);
                let mut outs: Vec<Outgoing> = turn
                    .replies
                    .into_iter()
                    .map(|r| Outgoing::ToCustomer {
                        chat_key: chat.into(),
                        text: r.text,
                    })
                    .collect();
                outs.extend(desk.after_turn(chat, now).unwrap());
                outs
            }
        };
        self.perform(&desk, outs, now)
    }

    fn say(&mut self, app: &App, chat: &str, text: &str, now: DateTime<Utc>) -> Vec<Outgoing> {
        self.customer(app, chat, Content::Text(text.into()), now)
    }

    fn group(&mut self, app: &App, msg: GroupMessage, now: DateTime<Utc>) -> Vec<Outgoing> {
        let desk = Desk::new(app);
        let outs = desk.on_group(&msg, now).unwrap();
        self.perform(&desk, outs, now)
    }

    fn agent_says(
        &mut self,
        app: &App,
        thread: Option<i32>,
        from: &AgentRef,
        text: &str,
        now: DateTime<Utc>,
    ) -> Vec<Outgoing> {
        self.next_message += 1;
        let msg = GroupMessage {
            message_id: self.next_message,
            thread_id: thread,
            reply_to: None,
            from: from.clone(),
            sender_is_member: true,
            content: Content::Text(text.into()),
        };
        self.group(app, msg, now)
    }
}

fn to_customer(outs: &[Outgoing], chat: &str) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Outgoing::ToCustomer { chat_key, text } if chat_key == chat => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn to_group(outs: &[Outgoing]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Outgoing::ToGroup { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn customer_reaches_an_agent_in_a_topic_and_close_hands_back_to_the_bot() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    front.say(&app, ALICE, "我的账单", day(0));
    let opened = front.say(&app, ALICE, "转人工", day(1));
    let told = to_customer(&opened, ALICE).join("\n");
    assert!(
        told.contains("#1") && told.contains("第 1 位") && told.contains("09:00-21:00"),
        "{told}"
    );
    assert!(
        matches!(&opened[..], [.., Outgoing::CreateTopic { ticket: 1, name }, Outgoing::ToGroup { thread_id: Some(501), .. }] if name.contains("#T1")),
        "{opened:?}"
    );
    let card = to_group(&opened).join("\n");
    assert!(
        card.contains("A1001") && card.contains("138****5678"),
        "{card}"
    );
    assert!(
        card.contains("MI") && card.contains("我的账单"),
        "card has orders and the transcript: {card}"
    );

    let anna = agent(7, "Anna");
    let reply = front.agent_says(&app, Some(501), &anna, "您好，我来帮您看看", day(2));
    let got = to_customer(&reply, ALICE).join("\n");
    assert!(
        got.contains("Anna") && got.contains("您好，我来帮您看看"),
        "{got}"
    );

    let relayed = front.say(&app, ALICE, "谢谢，我想延期还款", day(3));
    assert!(
        to_customer(&relayed, ALICE).is_empty(),
        "the bot stays quiet: {relayed:?}"
    );
    assert!(
        matches!(&relayed[..], [Outgoing::ToGroup { thread_id: Some(501), text, .. }] if text.contains("我想延期还款"))
    );

    let photo = front.customer(
        &app,
        ALICE,
        Content::File {
            file_id: "PHOTO1".into(),
            kind: FileKind::Photo,
            caption: None,
        },
        day(4),
    );
    assert!(
        matches!(&photo[..], [Outgoing::ToGroupFile { thread_id: Some(501), file_id, .. }] if file_id == "PHOTO1")
    );

    let closed = front.agent_says(&app, Some(501), &anna, "/close", day(5));
    assert!(
        to_customer(&closed, ALICE).join("").contains("已结束"),
        "{closed:?}"
    );
    assert_eq!(
        app.store.ticket(1)?.map(|t| t.status),
        Some(TicketStatus::Closed)
    );

    let back = front.say(&app, ALICE, "我的账单", day(6));
    assert!(
        !to_customer(&back, ALICE).is_empty() && to_group(&back).is_empty(),
        "the bot answers again: {back:?}"
    );
    Ok(())
}

#[test]
fn a_note_is_not_relayed_and_a_non_member_cannot_close() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    front.say(&app, ALICE, "/human", day(0));
    let note = front.agent_says(
        &app,
        Some(501),
        &agent(7, "Anna"),
        "/note 客户情绪激动",
        day(1),
    );
    assert!(to_customer(&note, ALICE).is_empty());
    assert_eq!(app.store.ticket(1)?.map(|t| t.notes.len()), Some(1));

    let stranger = GroupMessage {
        message_id: 4242,
        thread_id: Some(501),
        reply_to: None,
        from: agent(66, "Mallory"),
        sender_is_member: false,
        content: Content::Text("/close".into()),
    };
    assert!(front.group(&app, stranger, day(2)).is_empty());
    assert_eq!(
        app.store.ticket(1)?.map(|t| t.status),
        Some(TicketStatus::Waiting)
    );
    Ok(())
}

#[test]
fn an_open_ticket_survives_a_restart_and_a_redelivered_message_is_relayed_once() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("repaybot-support-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let app = app_on(Store::open(&dir)?, true)?;
        app.store.bind(ALICE, "A1001")?;
        let mut front = Front::new();
        front.say(&app, ALICE, "转人工", day(0));
        let desk = Desk::new(&app);
        let first = desk.on_customer(ALICE, 77, &Content::Text("在吗".into()), day(1))?;
        assert_eq!(first.map(|o| o.len()), Some(1));
    }
    let app = app_on(Store::open(&dir)?, true)?;
    let desk = Desk::new(&app);
    let again = desk.on_customer(ALICE, 77, &Content::Text("在吗".into()), day(2))?;
    assert_eq!(
        again,
        Some(Vec::new()),
        "redelivered after the restart: not relayed twice"
    );
    let next = desk.on_customer(ALICE, 78, &Content::Text("还在吗".into()), day(3))?;
    assert!(matches!(
        next.as_deref(),
        Some([Outgoing::ToGroup {
            thread_id: Some(501),
            ..
        }])
    ));
    let mut front = Front::new();
    let reply = front.agent_says(&app, Some(501), &agent(7, "Anna"), "在的", day(4));
    assert_eq!(
        to_customer(&reply, ALICE).len(),
        2,
        "joined + the reply: {reply:?}"
    );
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

#[test]
fn without_topics_the_card_is_tagged_and_replies_to_it_reach_the_customer() -> Result<()> {
    let app = app(false)?;
    let mut front = Front::new();
    let opened = front.say(&app, ALICE, "转人工", day(0));
    assert!(!opened
        .iter()
        .any(|o| matches!(o, Outgoing::CreateTopic { .. })));
    let card = to_group(&opened).join("");
    assert!(card.contains("#T1"), "{card}");
    let card_id = app
        .store
        .ticket(1)?
        .and_then(|t| t.card_message_id)
        .expect("card posted");
    let reply = GroupMessage {
        message_id: 5000,
        thread_id: None,
        reply_to: Some(RepliedTo {
            message_id: card_id,
            text: None,
        }),
        from: agent(7, "Anna"),
        sender_is_member: true,
        content: Content::Text("请稍等".into()),
    };
    assert!(to_customer(&front.group(&app, reply, day(1)), ALICE)
        .join("")
        .contains("请稍等"));
    let relayed = front.say(&app, ALICE, "好的", day(2));
    assert!(
        to_group(&relayed).join("").contains("#T1"),
        "customer messages are tagged"
    );
    // A reply to any message that carries the tag maps to the ticket too.
    let tagged = GroupMessage {
        message_id: 5001,
        thread_id: None,
        reply_to: Some(RepliedTo {
            message_id: 1,
            text: Some("#T1 客户：好的".into()),
        }),
        from: agent(7, "Anna"),
        sender_is_member: true,
        content: Content::Text("/close".into()),
    };
    front.group(&app, tagged, day(3));
    assert_eq!(
        app.store.ticket(1)?.map(|t| t.status),
        Some(TicketStatus::Closed)
    );
    Ok(())
}

#[test]
fn three_waiting_customers_hear_their_place_and_cancel_leaves_the_queue() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    for (i, chat) in ["tg:1", "tg:2", "tg:3"].iter().enumerate() {
        let outs = front.say(&app, chat, "转人工", day(i as i64));
        let told = to_customer(&outs, chat).join("");
        assert!(told.contains(&format!("第 {} 位", i + 1)), "{told}");
    }
    let left = front.say(&app, "tg:1", "/cancel", day(5));
    assert!(
        to_customer(&left, "tg:1").join("").contains("离开排队"),
        "{left:?}"
    );
    assert_eq!(
        app.store.ticket(1)?.map(|t| t.status),
        Some(TicketStatus::Closed)
    );
    assert_eq!(Desk::new(&app).queue_place(3)?, Some(2));
    let list = front.agent_says(&app, None, &agent(7, "Anna"), "/tickets", day(6));
    let text = to_group(&list).join("");
    let (p2, p3) = (text.find("#T2").unwrap(), text.find("#T3").unwrap());
    assert!(
        p2 < p3 && !text.contains("#T1"),
        "open tickets, oldest first: {text}"
    );
    Ok(())
}

#[test]
fn waiting_outside_support_hours_is_told_when_we_will_reply() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    let late = Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0).unwrap(); // 22:00 in Shanghai
    front.say(&app, ALICE, "转人工", late);
    let desk = Desk::new(&app);
    assert!(
        desk.tick(late + chrono::Duration::minutes(5))?.is_empty(),
        "not yet waited long"
    );
    let notice = desk.tick(late + chrono::Duration::minutes(11))?;
    let text = to_customer(&notice, ALICE).join("");
    assert!(text.contains("明天 09:00"), "{text}");
    assert!(
        desk.tick(late + chrono::Duration::minutes(30))?.is_empty(),
        "told once"
    );
    Ok(())
}

#[test]
fn approve_is_validated_and_recorded_on_a_hardship_ticket() -> Result<()> {
    let app = app(true)?;
    let (t, _) = app.open_ticket_for_case(ALICE, "A1001", "CASE-1", day(0))?;
    let mut front = Front::new();
    let desk = Desk::new(&app);
    let announced = desk.announce(t.number, day(0))?;
    front.perform(&desk, announced, day(0));
    let thread = Some(500 + t.number as i32);
    let anna = agent(7, "Anna");
    for bad in [
        "/approve",
        "/approve 12",
        "/approve 0 0.5",
        "/approve 61 0.5",
        "/approve 12 -1",
        "/approve 12 5",
        "/approve x y",
    ] {
        let outs = front.agent_says(&app, thread, &anna, bad, day(1));
        assert!(
            to_group(&outs).join("").contains("/approve 12 0.5"),
            "{bad}: {outs:?}"
        );
        assert!(to_customer(&outs, ALICE).is_empty());
    }
    let ok = front.agent_says(&app, thread, &anna, "/approve 12 0.5", day(2));
    assert!(to_customer(&ok, ALICE).join("").contains("12 期"), "{ok:?}");
    let decision = app
        .store
        .ticket(t.number)?
        .and_then(|t| t.decision)
        .expect("recorded");
    assert_eq!(
        decision.kind,
        DecisionKind::Approve {
            periods: 12,
            fee_rate_percent: dec!(0.5)
        }
    );
    assert_eq!(decision.by.user_id, 7);
    let twice = front.agent_says(&app, thread, &anna, "/reject 收入证明不足", day(3));
    assert!(
        to_customer(&twice, ALICE).is_empty(),
        "the first decision stands"
    );
    assert_eq!(
        AgentCommand::parse("/approve@repaybot 24 0%", dec!(0.6)),
        Some(Ok(AgentCommand::Approve {
            periods: 24,
            fee_rate_percent: dec!(0)
        }))
    );
    Ok(())
}

#[test]
fn only_admins_change_the_agent_alias() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    front.say(&app, ALICE, "转人工", day(0));
    let refused = front.agent_says(&app, None, &agent(7, "Anna"), "/alias 小美", day(1));
    assert!(to_group(&refused).join("").contains("管理员"));
    front.agent_says(&app, None, &agent(ADMIN, "Boss"), "/alias 小美", day(2));
    let reply = front.agent_says(&app, Some(501), &agent(7, "Anna"), "你好", day(3));
    let text = to_customer(&reply, ALICE).join("");
    assert!(text.contains("小美") && !text.contains("Anna"), "{text}");
    Ok(())
}

#[test]
fn complaints_misunderstandings_and_internal_errors_open_tickets_with_their_reason() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    front.say(&app, ALICE, "我要投诉你们乱扣费", day(0));
    assert_eq!(
        app.store.open_ticket_of(ALICE)?.map(|t| t.reason),
        Some(TicketReason::Complaint)
    );
    for _ in 0..3 {
        front.say(&app, BOB, "asdfgh qwerty", day(1));
    }
    assert_eq!(
        app.store.open_ticket_of(BOB)?.map(|t| t.reason),
        Some(TicketReason::NotUnderstood)
    );
    // A binding record this build cannot read makes the turn fail: the customer gets the
    // apology and a ticket, never a crash.
    app.store.put_chat("bind/tg:300", "test", 42u32)?;
    let out = app.respond("tg:300", ChatInput::Text("/bill".into()), today(), day(2));
    let text: Vec<&str> = out.replies.iter().map(|r| r.text.as_str()).collect();
    assert!(text.join("").contains("#3"), "{text:?}");
    assert_eq!(
        app.store.open_ticket_of("tg:300")?.map(|t| t.reason),
        Some(TicketReason::InternalError)
    );
    Ok(())
}

#[test]
fn no_personal_data_leaves_the_chat_except_the_masked_card() -> Result<()> {
    let app = app(true)?;
    app.store.bind(BOB, "A1002")?;
    let mut front = Front::new();
    front.say(&app, ALICE, "我的账单", day(0));
    front.say(&app, ALICE, "我是张伟，手机13800005678", day(1));
    front.say(&app, ALICE, "123X", day(2));
    front.say(&app, ALICE, "转人工", day(3));
    front.say(
        &app,
        ALICE,
        "我的电话是 138 0000 5678，身份证后四位123X",
        day(4),
    );
    front.agent_says(&app, Some(501), &agent(7, "Anna"), "收到", day(5));
    front.say(&app, BOB, "agent please", day(6));
    front.agent_says(&app, Some(502), &agent(8, "Ben"), "Hello", day(7));
    front.say(&app, BOB, "my phone is +86 139-0000-1234", day(8));
    front.agent_says(&app, Some(501), &agent(7, "Anna"), "/close", day(9));
    let secrets = [
        "13800005678",
        "138 0000 5678",
        "123X",
        "张伟",
        "13900001234",
        "139-0000-1234",
        "4521",
        "Li Na",
    ];
    for o in &front.sent {
        match o {
            Outgoing::ToGroup { text, .. } => {
                for s in secrets {
                    assert!(!text.contains(s), "{s} reached the group: {text}");
                }
            }
            Outgoing::ToGroupFile { caption, .. } => assert!(caption
                .as_deref()
                .is_none_or(|c| !secrets.iter().any(|s| c.contains(s)))),
            Outgoing::ToCustomer { chat_key, text } => {
                let others = if chat_key == ALICE {
                    ["A1002", "139****1234"]
                } else {
                    ["A1001", "138****5678"]
                };
                assert!(chat_key == ALICE || chat_key == BOB);
                for s in others {
                    assert!(!text.contains(s), "another customer's data: {text}");
                }
            }
            Outgoing::ToCustomerFile { .. } | Outgoing::CreateTopic { .. } => {}
        }
    }
    let cards = to_group(&front.sent).join("\n");
    assert!(
        cards.contains("138****5678") && cards.contains("139****1234"),
        "{cards}"
    );
    Ok(())
}

#[test]
fn forget_deletes_the_transcript_and_closes_the_open_ticket() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    front.say(&app, ALICE, "转人工", day(0));
    assert!(!app.store.transcript(ALICE)?.is_empty());
    let report = app.store.forget_support(ALICE, day(1))?;
    assert_eq!(report.tickets_closed, vec![1]);
    assert!(app.store.transcript(ALICE)?.is_empty());
    assert!(app.store.open_ticket_of(ALICE)?.is_none());
    Ok(())
}

#[test]
fn ticket_numbers_are_small_and_sequential_across_threads() -> Result<()> {
    let app = app(true)?;
    let store = app.store.clone();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let s = store.clone();
            std::thread::spawn(move || {
                let chat = format!("tg:{}", 1000 + i);
                s.open_ticket(repaybot::store::NewTicket {
                    chat: &chat,
                    account_id: None,
                    reason: TicketReason::Request,
                    case_id: None,
                    lang: repaybot::dialog::Lang::Zh,
                    now: day(0),
                })
                .map(|(t, _)| t.number)
            })
        })
        .collect();
    let mut numbers: Vec<u64> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=8).collect::<Vec<u64>>());
    Ok(())
}

#[test]
fn bad_support_settings_are_refused_at_start() {
    let dir = std::env::temp_dir().join(format!("repaybot-support-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[support]\nhours = \"21:00-09:00\"\ntimezone = \"Mars/Base\"\n",
    )
    .unwrap();
    let err = Settings::load(Some(&file)).unwrap_err().to_string();
    assert!(
        err.contains("support.hours") && err.contains("support.timezone"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_agent_approves_a_hardship_case_and_the_customer_confirms_the_plan_in_chat() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    for line in ["还不上了想协商", "困难申请", "失业", "300"] {
        front.say(&app, ALICE, line, day(0));
    }
    let doc = ChatInput::Document {
        file_id: "AgAD-letter".into(),
        name: "离职证明.jpg".into(),
    };
    app.respond(ALICE, doc, today(), day(0));
    front.say(&app, ALICE, "材料已传完", day(0));
    let opened = front.say(&app, ALICE, "确认提交", day(0));
    assert!(
        to_customer(&opened, ALICE).join("").contains("困难申请 #1"),
        "{opened:?}"
    );
    // The case reached the group in its own topic.
    let case = app.store.pending_case("A1001")?.expect("case open");
    let ticket = case.ticket.expect("case has a ticket");
    assert!(front
        .sent
        .iter()
        .any(|o| matches!(o, Outgoing::CreateTopic { ticket: t, .. } if *t == ticket)));
    // Until an agent takes the case, the bot keeps answering: the customer asks its status.
    let status = front.say(&app, ALICE, "申请进度", day(4));
    assert!(
        to_customer(&status, ALICE).join("").contains("审核"),
        "{status:?}"
    );
    // Once an agent writes, the customer's messages go to the agent.
    let thread = Some(500 + ticket as i32);
    front.agent_says(
        &app,
        thread,
        &agent(7, "Anna"),
        "您好，我们正在审核",
        day(5),
    );
    let relayed = front.say(&app, ALICE, "什么时候有结果", day(6));
    assert!(to_customer(&relayed, ALICE).is_empty());
    assert!(to_group(&relayed).join("").contains("什么时候有结果"));
    let told = front.agent_says(&app, thread, &agent(7, "Anna"), "/approve 24 0", day(10));
    assert!(
        to_customer(&told, ALICE).join("").contains("24"),
        "{told:?}"
    );
    assert_eq!(
        app.store.case(case.number)?.map(|c| c.status),
        Some(repaybot::domain::CaseStatus::Approved)
    );
    // Back with the bot: the customer sees the plan and accepts it.
    let shown = front.say(&app, ALICE, "申请进度", day(11));
    assert!(
        to_customer(&shown, ALICE).join("").contains("分 24 期"),
        "{shown:?}"
    );
    let done = front.say(&app, ALICE, "接受方案", day(12));
    assert!(
        to_customer(&done, ALICE)
            .join("")
            .contains("个性化方案确认"),
        "{done:?}"
    );
    let bill = app.store.bill("A1001", today(), &app.settings.policy)?;
    let plan = bill
        .orders
        .iter()
        .find(|o| o.order.agreements.restructured_from.is_some())
        .expect("the new plan");
    assert_eq!(plan.order.terms.periods, 24);
    assert!(plan.order.terms.monthly_rate.is_zero());
    Ok(())
}

#[test]
fn the_support_defaults_are_valid_settings() {
    let typed =
        repaybot::support::SupportSettings::try_from(repaybot::support::SupportConfig::default());
    let typed = typed.expect("the defaults pass their own checks");
    assert_eq!(typed.hours.show(), "09:00-21:00");
    assert_eq!(typed.timezone, chrono_tz::Asia::Shanghai);
}
