//! One customer action, start to finish: the support desk first (an open ticket), else answer the
//! button, run the turn off the async threads (`App::respond`; flushed), send the replies, then
//! announce a ticket the turn opened. An error becomes `common.internal_error`.

use super::inbound::{chat_key, Private};
use super::outbound::TelegramSender;
use crate::app::{App, ChatInput, Reply};
use crate::dialog::Lang;
use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
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
    if super::support::customer(ctx, &p).await {
        return;
    }
    if let Some(cb) = &p.callback {
        ctx.sender.answer_callback(&cb.id).await;
        if let Some(message_id) = cb.message_id {
            ctx.sender.remove_keyboard(p.chat_id, message_id).await;
        }
    }
    let (replies, owed) = match run_turn(ctx, &p).await {
        Ok(out) => (out.replies, out.owed),
        Err(e) => {
            tracing::error!(chat_id = p.chat_id, error = %format!("{e:#}"), "turn failed");
            (vec![internal_error(&ctx.app, p.lang)], Vec::new())
        }
    };
    // The step is over: its buttons go (the new step's come with its reply).
    ctx.sender.clear_keyboard(p.chat_id).await;
    let sent = send_all(ctx, p.chat_id, &replies).await;
    super::owed::deliver(ctx, owed, sent).await;
    super::support::after_turn(ctx, p.chat_id).await;
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

async fn run_turn(ctx: &Ctx, p: &Private) -> Result<crate::app::TurnOutput> {
    let app = Arc::clone(&ctx.app);
    let (chat, input, lang) = (chat_key(p.chat_id), p.input.clone(), p.lang);
    let now = ctx.app.clock.now();
    tokio::task::spawn_blocking(move || turn_blocking(&app, &chat, input, lang, now))
        .await
        .map_err(|e| anyhow!("the turn panicked or was cancelled: {e}"))?
}

/// The turn itself. A new chat takes its language from Telegram until the customer chooses;
/// `/start` in a chat that is not bound goes on to binding (with the contact button).
fn turn_blocking(
    app: &App,
    chat: &str,
    input: ChatInput,
    lang: Option<Lang>,
    now: DateTime<Utc>,
) -> Result<crate::app::TurnOutput> {
    if let Some(lang) = lang {
        if !app.store.has_session(chat)? {
            app.set_lang(chat, lang)?;
        }
    }
    let today = app.clock.day_at(now, zone_of(app, chat)?);
    let start = matches!(input, ChatInput::Start);
    // `respond`: an internal error opens a ticket instead of failing the turn.
    let mut out = app.respond(chat, input, today, now);
    if start && app.store.binding(chat)?.is_none() {
        let bind = app.turn(chat, ChatInput::Text("/bind".into()), today, now)?;
        out.replies.extend(bind.replies);
    }
    app.store.flush()?;
    Ok(out)
}

/// The time zone of the chat's account (the house zone before binding).
fn zone_of(app: &App, chat: &str) -> Result<chrono_tz::Tz> {
    let account = match app.store.binding(chat)? {
        Some(id) => app.store.account(&id)?.map(|a| a.data),
        None => None,
    };
    Ok(account.map_or(crate::clock::HOUSE_TZ, |a| crate::reminders::tz_of(&a)))
}
