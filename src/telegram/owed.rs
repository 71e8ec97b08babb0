//! Replies owed through the outbox (`app::owed`): what a turn owes other chats (a binding
//! attempt's notice) and, at start, what a crash kept from being sent (a payment's receipt).
//! Each entry is removed once its message went out; a failed send leaves it for the next start.

use super::handler::Ctx;
use super::inbound::chat_id_of;
use crate::app::OwedReply;

/// Sends what `owed` holds for other chats and settles it; the turn's own entries (already
/// among its replies) are settled when those were sent (`own_sent`).
pub async fn deliver(ctx: &Ctx, owed: Vec<OwedReply>, own_sent: bool) {
    let mut done = Vec::new();
    for o in owed {
        let sent = match (&o.reply, chat_id_of(&o.chat)) {
            (None, _) => own_sent,
            (Some(reply), Some(chat_id)) => ctx.sender.send(chat_id, reply).await.is_ok(),
            // Another front end's chat (the terminal) cannot be reached from here.
            (Some(_), None) => false,
        };
        if sent {
            done.push(o);
        }
    }
    if let Err(e) = ctx.app.settle_owed(&done) {
        tracing::warn!(error = %format!("{e:#}"), "cannot settle owed replies");
    }
}

/// At start: every reply still owed to a Telegram chat.
pub async fn deliver_left_over(ctx: &Ctx) {
    let owed = match ctx.app.owed_replies(None) {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "cannot read owed replies");
            return;
        }
    };
    let owed: Vec<OwedReply> = owed
        .into_iter()
        .filter(|o| chat_id_of(&o.chat).is_some())
        .collect();
    if !owed.is_empty() {
        tracing::info!(
            count = owed.len(),
            "sending replies owed from before the restart"
        );
    }
    deliver(ctx, owed, false).await;
}

/// What the payment gateway made owed to one chat (a receipt, a notice), sent now.
pub async fn deliver_to(ctx: &Ctx, chat: &str) {
    match ctx.app.owed_replies(Some(chat)) {
        Ok(owed) => deliver(ctx, owed, false).await,
        Err(e) => tracing::warn!(error = %format!("{e:#}"), "cannot read owed replies"),
    }
}
