//! What must NOT cross from the support group to a customer: a `#T12` mention outside the
//! ticket (internal talk), and the desk's relay marks do not pile up forever.

use super::{agent, app, day, to_customer, Front, ALICE};
use anyhow::Result;
use chrono::Duration;
use repaybot::store::TicketStatus;
use repaybot::support::{Content, Desk, GroupMessage, RepliedTo, MARKS_KEPT_DAYS};

fn plain(
    message_id: i32,
    thread: Option<i32>,
    reply_to: Option<RepliedTo>,
    text: &str,
) -> GroupMessage {
    GroupMessage {
        message_id,
        thread_id: thread,
        reply_to,
        from: agent(7, "Anna"),
        sender_is_member: true,
        content: Content::Text(text.into()),
    }
}

#[test]
fn a_mention_of_a_ticket_outside_its_topic_is_not_relayed_and_does_not_take_it() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    front.say(&app, ALICE, "转人工", day(0));
    // In the General topic, then in another (non-ticket) topic: internal talk about #T1.
    for (id, thread) in [(6000, None), (6001, Some(999))] {
        let said = front.group(
            &app,
            plain(id, thread, None, "#T1 这位上周投诉过，小心"),
            day(1),
        );
        assert!(to_customer(&said, ALICE).is_empty(), "{said:?}");
    }
    let t = app.store.ticket(1)?.expect("ticket");
    assert_eq!(t.status, TicketStatus::Waiting, "nobody took it");
    assert!(t.agent.is_none());
    // In the ticket's own topic it is agent speech.
    let said = front.group(&app, plain(6002, Some(501), None, "您好"), day(2));
    let told = to_customer(&said, ALICE).join("\n");
    assert!(told.contains("Anna（人工客服）：您好"), "{told}");
    // A command may still name its ticket from the General topic.
    front.group(&app, plain(6003, None, None, "/close #T1"), day(3));
    assert_eq!(
        app.store.ticket(1)?.map(|t| t.status),
        Some(TicketStatus::Closed)
    );
    Ok(())
}

#[test]
fn without_topics_only_replies_to_the_tickets_own_posts_reach_the_customer() -> Result<()> {
    let app = app(false)?;
    let mut front = Front::new();
    front.say(&app, ALICE, "转人工", day(0));
    // A message that only mentions the ticket, and a reply to a member's message mentioning it.
    let mention = front.group(&app, plain(6100, None, None, "#T1 谁来跟一下"), day(1));
    let member_post = RepliedTo {
        message_id: 6100,
        text: Some("#T1 谁来跟一下".into()),
    };
    let reply = front.group(&app, plain(6101, None, Some(member_post), "我来"), day(1));
    assert!(to_customer(&mention, ALICE).is_empty() && to_customer(&reply, ALICE).is_empty());
    assert_eq!(
        app.store.ticket(1)?.map(|t| t.status),
        Some(TicketStatus::Waiting)
    );
    // A reply to the card (the bot's own post for the ticket) is agent speech.
    let card = app
        .store
        .ticket(1)?
        .and_then(|t| t.card_message_id)
        .expect("card");
    let to_card = RepliedTo {
        message_id: card,
        text: None,
    };
    let said = front.group(&app, plain(6102, None, Some(to_card), "请稍等"), day(2));
    assert!(to_customer(&said, ALICE).join("").contains("请稍等"));
    Ok(())
}

#[test]
fn relay_marks_older_than_the_kept_days_are_pruned_and_recent_ones_still_dedupe() -> Result<()> {
    let app = app(true)?;
    let mut front = Front::new();
    front.say(&app, ALICE, "转人工", day(0));
    let desk = Desk::new(&app);
    for id in 10..20 {
        desk.on_customer(ALICE, id, &Content::Text("在吗".into()), day(1))?;
    }
    let later = day(1) + Duration::days(MARKS_KEPT_DAYS);
    desk.on_customer(ALICE, 20, &Content::Text("还在吗".into()), later)?;
    let before = app.store.relay_marks();
    assert!(before >= 11, "{before}");
    desk.tick(later + Duration::minutes(1))?;
    assert_eq!(
        app.store.relay_marks(),
        before - 10,
        "the ten old marks went"
    );
    let again = desk.on_customer(ALICE, 20, &Content::Text("还在吗".into()), later)?;
    assert_eq!(
        again,
        Some(Vec::new()),
        "a recent mark still stops a redelivery"
    );
    Ok(())
}
