//! One customer action, start to finish: the update becomes an `Event`, `App::handle` runs it
//! off the async threads (the one blocking hop; flushed once), then the replies are sent, what
//! is owed to other chats goes out and the support desk's actions are performed. An error
//! becomes `common.internal_error`.

use super::inbound::{chat_key, Private};
use super::outbound::TelegramSender;
use crate::app::{App, CustomerEvent, Event, Outcome, Reply};
use crate::dialog::Lang;
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What every handler shares.
pub struct Ctx {
    pub app: Arc<App>,
    pub sender: TelegramSender,
    /// The support desk's relay (None without `[support] group_id`).
    pub relay: Option<super::support::Relay>,
}

/// Handles one customer action in its chat (the caller keeps one chat's actions in order).
pub async fn handle(ctx: &Ctx, p: Private) {
    let event = Event::Customer(CustomerEvent {
        chat: chat_key(p.chat_id),
        input: p.input.clone(),
        lang: p.lang,
        desk: p.desk.clone().filter(|_| ctx.relay.is_some()),
    });
    let outcome = match run_event(&ctx.app, event).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!(chat_id = p.chat_id, error = %format!("{e:#}"), "turn failed");
            Outcome {
                replies: vec![internal_error(&ctx.app, p.lang)],
                ..Outcome::default()
            }
        }
    };
    if outcome.taken_by_desk {
        super::support::perform(ctx, outcome.desk).await;
        return;
    }
    if let Some(cb) = &p.callback {
        ctx.sender.answer_callback(&cb.id).await;
        if let Some(message_id) = cb.message_id {
            ctx.sender.remove_keyboard(p.chat_id, message_id).await;
        }
    }
    // The step is over: its buttons go (the new step's come with its reply).
    ctx.sender.clear_keyboard(p.chat_id).await;
    let sent = send_all(ctx, p.chat_id, &outcome.replies).await;
    super::owed::deliver(ctx, outcome.owed, sent).await;
    super::support::perform(ctx, outcome.desk).await;
}

/// Runs one event through `App::handle` off the async threads (the one blocking hop of an
/// update, counted in `repaybot_blocking_hops_total`), then waits without a thread until what
/// it wrote is durable: the turns of a burst share their disk syncs.
pub async fn run_event(app: &Arc<App>, event: Event) -> Result<Outcome> {
    let on_blocking = Arc::clone(app);
    crate::ops::metrics::blocking_hop();
    let handled = tokio::task::spawn_blocking(move || {
        let now = on_blocking.clock.now();
        on_blocking.handle_unsynced(event, now)
    })
    .await
    .map_err(|e| anyhow!("the event panicked or was cancelled: {e}"))??;
    if let Some(ticket) = handled.durable_at {
        app.store.durable(ticket).await?;
    }
    Ok(handled.outcome)
}

/// The flood notice (one per flood).
pub async fn slow_down(ctx: &Ctx, p: Private) {
    if let Some(cb) = &p.callback {
        ctx.sender.answer_callback(&cb.id).await;
    }
    let lang = p.lang.unwrap_or(Lang::Zh);
    let text = ctx
        .app
        .flows
        .text(lang, "common.slow_down", &BTreeMap::new());
    send_all(ctx, p.chat_id, &[Reply::text(text)]).await;
}

/// Sends the replies in order; false when one could not be sent (the rest are not tried).
pub async fn send_all(ctx: &Ctx, chat_id: i64, replies: &[Reply]) -> bool {
    for reply in replies {
        if let Err(e) = ctx.sender.send(chat_id, reply).await {
            tracing::warn!(chat_id, error = %e, "reply not sent");
            return false;
        }
    }
    true
}

pub fn internal_error(app: &App, lang: Option<Lang>) -> Reply {
    let text = app.flows.text(
        lang.unwrap_or(Lang::Zh),
        "common.internal_error",
        &BTreeMap::new(),
    );
    Reply::text(text)
}
