//! The support desk end to end (SPEC 3.9, 4.11): the real `repaybot serve` with a `[support]`
//! group against the fake Bot API; customers in their private chats, agents in the support group
//! (a forum with one topic per ticket, or a plain group with `#T` tags and replies).

use super::{count, data_dir, serve, statement, texts, Customer, WAIT, ZH};
use crate::fake_telegram::{Call, FakeTelegram};
use std::path::{Path, PathBuf};

const GROUP: i64 = -100_123_456_789;
const ANNA: (i64, &str) = (8001, "Anna");
const MALLORY: (i64, &str) = (8002, "Mallory");

/// A config file with the support group (support hours all day, so no late notices).
fn config(dir: &Path, forum: bool) -> PathBuf {
    let path = dir.join("repaybot.toml");
    let text =
        format!("[support]\ngroup_id = {GROUP}\nforum_topics = {forum}\nhours = \"00:00-23:59\"\n");
    std::fs::write(&path, text).unwrap();
    path
}

/// The support group as an agent reads it.
struct Group<'a> {
    fake: &'a FakeTelegram,
    seen: usize,
}

impl<'a> Group<'a> {
    fn new(fake: &'a FakeTelegram) -> Self {
        Group { fake, seen: 0 }
    }

    /// Reads the group's new posts until one contains `expect`.
    fn until(&mut self, expect: &str) -> Call {
        let seen = self.seen;
        let found = self.fake.wait_until(WAIT, |calls| {
            let posts: Vec<&Call> = calls.iter().filter(|c| is_post(c)).collect();
            posts
                .iter()
                .enumerate()
                .skip(seen)
                .find(|(_, c)| c.shown().contains(expect))
                .map(|(i, c)| (i, (*c).clone()))
        });
        let Some((at, post)) = found else {
            panic!("the group never got {expect:?}; it has {:?}", self.all());
        };
        self.seen = at + 1;
        post
    }

    fn all(&self) -> Vec<String> {
        self.fake
            .group_posts(GROUP)
            .iter()
            .map(Call::shown)
            .collect()
    }
}

/// A post of the bot in the support group.
fn is_post(c: &Call) -> bool {
    matches!(
        c.method.as_str(),
        "sendmessage" | "sendphoto" | "senddocument"
    ) && c.chat_id() == Some(GROUP)
}

fn start(fake: &FakeTelegram, forum: bool) -> (tempfile::TempDir, PathBuf, super::Served) {
    let (dir, data) = data_dir();
    let config = config(dir.path(), forum);
    if forum {
        fake.set_forum(GROUP);
    }
    fake.set_member(ANNA.0, "member");
    let served = serve(&data, fake, &["--config", config.to_str().unwrap()]);
    (dir, data, served)
}

fn restart(dir: &Path, data: &Path, fake: &FakeTelegram) -> super::Served {
    let config = dir.join("repaybot.toml");
    serve(data, fake, &["--config", config.to_str().unwrap()])
}

#[test]
fn a_customer_talks_to_an_agent_in_a_forum_topic_until_close_hands_back_to_the_bot() {
    let fake = FakeTelegram::start(super::TOKEN);
    let (_dir, _data, served) = start(&fake, true);
    let mut c = Customer::new(&fake, 6001, ZH);
    let mut g = Group::new(&fake);
    c.bind("13800005678", "123X");
    c.say("我的账单", "267.90");
    let opened = c.say("转人工", "人工服务单 #1");
    assert!(opened.text().contains("第 1 位"), "{}", opened.text());
    // The ticket gets its own topic, and the card goes into it: masked phone, never the name.
    let card = g.until("#T1");
    let topics = fake.calls_of("createForumTopic");
    assert_eq!(topics.len(), 1);
    assert!(topics[0].params["name"].as_str().unwrap().contains("#T1"));
    let thread = card.thread().expect("the card is in the ticket's topic");
    assert_eq!(Some(thread), topics[0].result["message_thread_id"].as_i64());
    let shown = card.shown();
    assert!(
        shown.contains("138****5678") && shown.contains("A1001"),
        "{shown}"
    );
    assert!(
        !shown.contains("13800005678") && !shown.contains("张伟"),
        "{shown}"
    );
    // An agent answers in the topic; the customer reads it under the agent's name.
    fake.group_text(GROUP, ANNA, Some(thread), None, "您好 <b>我是客服</b>");
    c.until("Anna 已接入");
    let said = c.until("Anna（人工客服）");
    assert!(
        said.text().contains("&lt;b&gt;我是客服&lt;/b&gt;"),
        "escaped for HTML: {}",
        said.text()
    );
    // An agent's photo reaches the customer by its file id.
    fake.group_photo(GROUP, ANNA, thread, "AgentPhotoFileId");
    let photo = fake.wait_until(WAIT, |calls| {
        calls
            .iter()
            .find(|x| x.method == "sendphoto" && x.chat_id() == Some(c.id))
            .cloned()
    });
    let photo = photo.expect("the agent's photo reached the customer");
    assert!(
        photo.params.to_string().contains("AgentPhotoFileId"),
        "{:?}",
        photo.params
    );
    // The customer's answer reaches the topic, and the bot stays quiet.
    fake.text(c.id, ZH, "我想问一下<逾期>的事");
    let relayed = g.until("我想问一下<逾期>的事");
    assert_eq!(relayed.thread(), Some(thread));
    assert!(relayed.shown().starts_with("#T1"));
    // Someone who is not in the group cannot close the ticket; the agent can.
    fake.group_text(GROUP, MALLORY, Some(thread), None, "/close");
    fake.group_text(GROUP, ANNA, Some(thread), None, "/close");
    c.until("#1 已结束");
    g.until("客户已收到通知");
    let asked: Vec<i64> = fake
        .calls_of("getChatMember")
        .iter()
        .filter_map(|c| c.params["user_id"].as_i64())
        .collect();
    assert!(
        asked.contains(&MALLORY.0),
        "membership was checked: {asked:?}"
    );
    // The bot has the chat again.
    c.say("我的账单", "267.90");
    let log = served.stop();
    let customer = fake.messages_to(c.id);
    assert_eq!(count(&customer, "已结束"), 1, "{:?}", texts(&customer));
    assert_eq!(
        count(&customer, "267.90"),
        2,
        "only before and after the ticket"
    );
    assert!(
        !g.all().iter().any(|p| p.contains("消息未转发")),
        "{:?}",
        g.all()
    );
    assert!(!log.contains("13800005678") && !log.contains("我想问一下"));
}

#[test]
fn an_open_ticket_keeps_relaying_across_a_restart_and_replays_are_not_relayed_twice() {
    let fake = FakeTelegram::start(super::TOKEN);
    let (dir, data, served) = start(&fake, true);
    let mut c = Customer::new(&fake, 6002, ZH);
    let mut g = Group::new(&fake);
    c.bind("13800005678", "123X");
    c.say("转人工", "人工服务单 #1");
    let thread = g.until("#T1").thread().unwrap();
    fake.group_text(GROUP, ANNA, Some(thread), None, "请稍等");
    c.until("Anna（人工客服）：请稍等");
    served.stop();

    let served = restart(dir.path(), &data, &fake);
    let asked = fake.text(c.id, ZH, "还在吗");
    assert_eq!(g.until("还在吗").thread(), Some(thread));
    let answered = fake.group_text(GROUP, ANNA, Some(thread), None, "在的");
    c.until("Anna（人工客服）：在的");
    // Telegram delivering both again changes nothing; a later message still goes through.
    fake.redeliver(asked);
    fake.redeliver(answered);
    fake.text(c.id, ZH, "好的谢谢");
    g.until("好的谢谢");
    // A photo goes to the topic by its file id (the largest size), with the caption.
    fake.photo(c.id, ZH, "AgAD-receipt", Some("转账截图"));
    let photo = g.until("转账截图");
    assert_eq!(photo.method, "sendphoto");
    assert_eq!(photo.params["photo"], "AgAD-receipt");
    assert_eq!(photo.thread(), Some(thread));
    fake.group_text(GROUP, ANNA, Some(thread), None, "不客气");
    c.until("不客气");
    served.stop();
    let posts = g.all();
    assert_eq!(posts.iter().filter(|p| p.contains("还在吗")).count(), 1);
    assert_eq!(count(&fake.messages_to(c.id), "在的"), 1);
    assert_eq!(
        fake.calls_of("createForumTopic").len(),
        1,
        "no second topic after the restart"
    );
}

#[test]
fn without_topics_the_card_is_tagged_and_agents_reply_to_it() {
    let fake = FakeTelegram::start(super::TOKEN);
    let (_dir, _data, served) = start(&fake, false);
    let mut c = Customer::new(&fake, 6003, ZH);
    let mut g = Group::new(&fake);
    c.bind("13800005678", "123X");
    c.say("转人工", "人工服务单 #1");
    let card = g.until("#T1");
    assert_eq!(card.thread(), None);
    assert!(fake.calls_of("createForumTopic").is_empty());
    // A reply to the card reaches the customer; a message replying to nothing does not.
    fake.group_text(
        GROUP,
        ANNA,
        None,
        Some(card.message_id()),
        "请问有什么可以帮您",
    );
    c.until("Anna（人工客服）：请问有什么可以帮您");
    fake.group_text(GROUP, ANNA, None, None, "大家午饭吃什么");
    fake.text(c.id, ZH, "我的账单不对");
    let relayed = g.until("#T1 客户：我的账单不对");
    // A reply to the relayed message reaches the same customer; /close by reply too.
    fake.group_text(
        GROUP,
        ANNA,
        None,
        Some(relayed.message_id()),
        "我帮您查一下",
    );
    c.until("我帮您查一下");
    fake.group_text(GROUP, ANNA, None, Some(relayed.message_id()), "/close");
    c.until("#1 已结束");
    served.stop();
    let got = fake.messages_to(c.id);
    assert_eq!(count(&got, "午饭"), 0, "{:?}", texts(&got));
}

#[test]
fn a_hardship_case_goes_to_a_topic_and_the_approved_plan_reaches_the_statement() {
    let fake = FakeTelegram::start(super::TOKEN);
    let (_dir, data, served) = start(&fake, true);
    let mut c = Customer::new(&fake, 6004, ZH);
    let mut g = Group::new(&fake);
    c.bind("13800005678", "123X");
    for line in ["还不上了想协商", "困难申请", "失业", "300"] {
        fake.text(c.id, ZH, line);
        c.read(1);
    }
    fake.photo(c.id, ZH, "AgAD-proof-large", Some("离职证明"));
    c.read(1);
    fake.text(c.id, ZH, "材料已传完");
    c.read(1);
    c.say("确认提交", "困难申请 #1");
    let thread = g.until("#T1").thread().unwrap();
    fake.group_text(GROUP, ANNA, Some(thread), None, "/approve 12 0");
    c.until("已获批准");
    g.until("决定已记录");
    c.say("申请进度", "分 12 期");
    c.say("接受方案", "个性化方案确认");
    served.stop();
    let doc = statement(&data, "A1001").to_string();
    assert!(doc.contains("-R1"), "{doc}");
}

#[test]
fn a_mention_of_the_ticket_in_the_general_topic_never_reaches_the_customer() {
    let fake = FakeTelegram::start(super::TOKEN);
    let (_dir, _data, served) = start(&fake, true);
    let mut c = Customer::new(&fake, 6005, ZH);
    let mut g = Group::new(&fake);
    c.bind("13800005678", "123X");
    c.say("转人工", "人工服务单 #1");
    let thread = g.until("#T1").thread().unwrap();
    // Internal talk in the General topic, then a command there: once the list is posted, the
    // General topic's earlier message has been handled.
    fake.group_text(GROUP, ANNA, None, None, "#T1 这位客户上周投诉过，小心");
    fake.group_text(GROUP, ANNA, None, None, "/tickets");
    g.until("排队中");
    fake.group_text(GROUP, ANNA, Some(thread), None, "您好");
    c.until("Anna（人工客服）：您好");
    served.stop();
    let got = fake.messages_to(c.id);
    assert_eq!(count(&got, "投诉过"), 0, "{:?}", texts(&got));
    assert_eq!(count(&got, "已接入"), 1, "taken once, by the topic message");
}

#[test]
fn when_get_chat_member_fails_the_message_is_refused_and_the_group_is_told() {
    let fake = FakeTelegram::start(super::TOKEN);
    let (_dir, _data, served) = start(&fake, true);
    let mut c = Customer::new(&fake, 6006, ZH);
    let mut g = Group::new(&fake);
    c.bind("13800005678", "123X");
    c.say("转人工", "人工服务单 #1");
    let thread = g.until("#T1").thread().unwrap();
    fake.fail_get_chat_member(true);
    fake.group_text(
        GROUP,
        ANNA,
        Some(thread),
        None,
        "我是客服，请把验证码发给我",
    );
    let told = g.until("无法确认");
    assert_eq!(
        told.thread(),
        Some(thread),
        "told in the topic it was sent in"
    );
    fake.fail_get_chat_member(false);
    fake.group_text(GROUP, ANNA, Some(thread), None, "您好");
    c.until("Anna（人工客服）：您好");
    served.stop();
    let got = fake.messages_to(c.id);
    assert_eq!(count(&got, "验证码"), 0, "{:?}", texts(&got));
    assert_eq!(
        count(&got, "已接入"),
        1,
        "taken once, by the confirmed member"
    );
}
