//! Replies → Bot API calls: HTML escaping, splitting at 4,096 characters, inline keyboards, the
//! contact button, documents. [`TelegramSender`] is the one handle every sender uses (the turn
//! handler, the reminder scheduler, the support relay), so all go through the same limiter
//! (limiter.rs: per-chat slots, the overall budget, replies before proactive messages).
//! Telegram's answers are handled here: `429 retry_after` pauses the chat (or every send),
//! a server error is retried a few times with backoff, and a chat that cannot be delivered to
//! (bot blocked, chat not found, user deactivated) is recorded in the store and not retried.

use super::limiter::{ChatLocks, Limiter, Priority};
use super::TgBot;
use crate::app::Reply;
use crate::clock::Clock;
use crate::store::Store;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::payloads::{SendDocumentSetters, SendMessageSetters};
use teloxide::prelude::Requester;
use teloxide::types::{
    ButtonRequest, CallbackQueryId, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, KeyboardRemove, MessageId, ParseMode, ReplyMarkup,
};
use teloxide::{ApiError, RequestError};

/// Telegram's limit on a message's text.
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// Sends replies to customer chats within Telegram's limits. Cheap to clone.
#[derive(Clone)]
pub struct TelegramSender {
    bot: TgBot,
    state: Arc<Mutex<Shown>>,
    /// Send limits (None: none, for tests that do not care).
    limiter: Option<Arc<Limiter>>,
    locks: Arc<ChatLocks>,
    /// Bot API requests in flight at once: a burst reuses kept-alive connections instead of
    /// opening one per message.
    in_flight: Arc<tokio::sync::Semaphore>,
    priority: Priority,
    /// Where undeliverable chats are recorded, and the clock that dates them.
    blocked: Option<(Store, Clock)>,
}

/// Bot API requests one sender (and its clones) has in flight at most.
const IN_FLIGHT: usize = 64;
/// Tries of one call when Telegram says 429 (each waits its `retry_after`).
const RETRY_AFTER_TRIES: u32 = 5;
/// Retries of one call after a server error or a failed connection, with doubling waits.
const SERVER_RETRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// What the chats currently show: the message with the live inline keyboard, and whether the
/// contact (reply) keyboard is up.
#[derive(Default)]
struct Shown {
    keyboard: HashMap<i64, i32>,
    contact: HashSet<i64>,
}

impl TelegramSender {
    pub fn new(bot: TgBot) -> TelegramSender {
        TelegramSender {
            bot,
            state: Arc::default(),
            limiter: None,
            locks: Arc::default(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT)),
            priority: Priority::Reply,
            blocked: None,
        }
    }

    /// Keeps `--send-limits` with `limiter` (see limiter.rs).
    pub fn with_limiter(mut self, limiter: Arc<Limiter>) -> TelegramSender {
        self.limiter = Some(limiter);
        self
    }

    /// Keeps per-chat limits with `pacer` and no overall limit (kept for callers of the
    /// earlier API; `serve` uses [`TelegramSender::with_limiter`]).
    pub fn with_pacer(self, pacer: super::pace::Pacer) -> TelegramSender {
        self.with_limiter(Limiter::paced(pacer, u32::MAX))
    }

    /// Records chats Telegram will not deliver to in `store`, dated by `clock`.
    pub fn with_blocked_log(mut self, store: Store, clock: Clock) -> TelegramSender {
        self.blocked = Some((store, clock));
        self
    }

    /// The same sender for messages nobody is waiting for (reminders, notices): they use only
    /// the capacity replies leave.
    pub fn proactive(&self) -> TelegramSender {
        TelegramSender {
            priority: Priority::Proactive,
            ..self.clone()
        }
    }

    /// The proactive sender as Telegram paid broadcasts (`[reminders] paid_broadcast`): every
    /// message carries `allow_paid_broadcast` (0.1 Stars each) and skips the free overall
    /// budget (up to 1,000 a second); per-chat limits still hold.
    pub fn paid_broadcast(&self) -> TelegramSender {
        TelegramSender {
            priority: Priority::PaidBroadcast,
            ..self.clone()
        }
    }

    /// Waits for the chat's next send slot; every `send*` call goes through it first.
    pub async fn pace(&self, chat_id: i64) {
        if let Some(l) = &self.limiter {
            l.acquire(Some(chat_id), self.priority).await;
        }
    }

    /// One Bot API call for `chat` (None: a call outside any chat's limit), within the limits:
    /// `paced` calls wait for a slot first (each try); 429 waits as Telegram says, server errors
    /// back off, an undeliverable chat is recorded.
    async fn call<T, F, Fut>(
        &self,
        chat: Option<i64>,
        paced: bool,
        call: F,
    ) -> Result<T, RequestError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, RequestError>>,
    {
        let (mut waits, mut backoffs) = (0, 0);
        loop {
            if paced {
                if let (Some(l), Some(chat)) = (&self.limiter, chat) {
                    l.acquire(Some(chat), self.priority).await;
                }
            }
            let result = {
                let _slot = self.in_flight.acquire().await;
                call().await
            };
            match result {
                Err(RequestError::RetryAfter(wait)) if waits < RETRY_AFTER_TRIES => {
                    waits += 1;
                    match &self.limiter {
                        Some(l) => l.retry_after(chat, wait.duration()),
                        None => tokio::time::sleep(wait.duration()).await,
                    }
                    if !paced {
                        tokio::time::sleep(wait.duration()).await;
                    }
                }
                Err(e) if transient(&e) && backoffs < SERVER_RETRIES => {
                    tracing::info!(chat_id = chat, error = %e, "Bot API call failed: retrying");
                    tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(backoffs)).await;
                    backoffs += 1;
                }
                Err(e) => {
                    if let Some(chat) = chat.filter(|_| undeliverable(&e)) {
                        self.record_blocked(chat);
                    }
                    return Err(e);
                }
                Ok(v) => return Ok(v),
            }
        }
    }

    fn record_blocked(&self, chat_id: i64) {
        let Some((store, clock)) = &self.blocked else {
            return;
        };
        let chat = super::inbound::chat_key(chat_id);
        match store.mark_blocked(&chat, clock.now()) {
            Ok(()) => tracing::info!(chat_id, "chat cannot be delivered to: recorded"),
            Err(e) => tracing::warn!(chat_id, error = %e, "undeliverable chat not recorded"),
        }
    }

    /// A reply went through: a chat marked undeliverable is reachable again.
    fn delivered(&self, chat_id: i64) {
        if self.priority != Priority::Reply {
            return;
        }
        if let Some((store, _)) = &self.blocked {
            if let Err(e) = store.unblock(&super::inbound::chat_key(chat_id)) {
                tracing::warn!(chat_id, error = %e, "undeliverable mark not cleared");
            }
        }
    }

    /// Sends one reply: text (split when long), its buttons on the last part, then its file.
    /// The keyboard of the chat's previous step is removed first, so only live buttons show.
    pub async fn send(&self, chat_id: i64, reply: &Reply) -> Result<(), RequestError> {
        if let (Some(l), Priority::Proactive) = (&self.limiter, self.priority) {
            l.proactive_ready().await;
        }
        let _turn = self.locks.lock(chat_id).await;
        self.send_locked(chat_id, reply).await?;
        self.delivered(chat_id);
        Ok(())
    }

    async fn send_locked(&self, chat_id: i64, reply: &Reply) -> Result<(), RequestError> {
        let chat = ChatId(chat_id);
        let markup = self.markup_for(chat_id, reply);
        let inline = matches!(markup, Some(ReplyMarkup::InlineKeyboard(_)));
        if inline {
            self.clear_keyboard(chat_id).await;
        }
        let mut parts = split_text(&reply.text, MAX_MESSAGE_CHARS);
        if parts.is_empty() && markup.is_some() {
            // Telegram refuses an empty text; buttons still need a message to sit on.
            parts.push("\u{1F447}".to_string());
        }
        let last = parts.len().saturating_sub(1);
        let paid = self.priority == Priority::PaidBroadcast;
        for (i, part) in parts.iter().enumerate() {
            let html = escape_html(part);
            let markup = (i == last).then(|| markup.clone()).flatten();
            let sent = self
                .call(Some(chat_id), true, || {
                    let req = self
                        .bot
                        .send_message(chat, html.clone())
                        .parse_mode(ParseMode::Html);
                    let req = match markup.clone() {
                        Some(m) => req.reply_markup(m),
                        None => req,
                    };
                    let req = if paid {
                        req.allow_paid_broadcast(true)
                    } else {
                        req
                    };
                    async move { req.await }
                })
                .await
                .inspect_err(|_| crate::ops::metrics::telegram_error("sendMessage"))?;
            if i == last && inline {
                self.lock().keyboard.insert(chat_id, sent.id.0);
            }
        }
        if let Some(file) = &reply.attachment {
            let bytes = file.bytes.clone();
            let name = file.file_name.clone();
            self.call(Some(chat_id), true, || {
                let doc = InputFile::memory(bytes.clone()).file_name(name.clone());
                let req = self.bot.send_document(chat, doc);
                let req = if paid {
                    req.allow_paid_broadcast(true)
                } else {
                    req
                };
                async move { req.await }
            })
            .await
            .inspect_err(|_| crate::ops::metrics::telegram_error("sendDocument"))?;
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shown> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The contact button (with the step's buttons as typed-label buttons under it, since a
    /// message has one keyboard); else inline buttons; else the removal of a contact keyboard
    /// still up.
    fn markup_for(&self, chat_id: i64, reply: &Reply) -> Option<ReplyMarkup> {
        let mut shown = self.lock();
        if let Some(label) = &reply.request_contact {
            shown.contact.insert(chat_id);
            let mut rows = vec![vec![
                KeyboardButton::new(label).request(ButtonRequest::Contact)
            ]];
            rows.extend(
                reply
                    .buttons
                    .iter()
                    .map(|(label, _)| vec![KeyboardButton::new(label)]),
            );
            let keyboard = KeyboardMarkup::new(rows)
                .resize_keyboard()
                .one_time_keyboard();
            return Some(ReplyMarkup::Keyboard(keyboard));
        }
        if !reply.buttons.is_empty() {
            let rows = reply.buttons.iter().filter_map(|(label, data)| {
                // A link button (the cashier page of a payment) opens its URL.
                if let Some(url) = crate::app::link_of(data) {
                    let url = url.parse().ok()?;
                    return Some(vec![InlineKeyboardButton::url(label, url)]);
                }
                (1..=64)
                    .contains(&data.len())
                    .then(|| vec![InlineKeyboardButton::callback(label, data)])
            });
            return Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(rows)));
        }
        shown
            .contact
            .remove(&chat_id)
            .then(|| ReplyMarkup::KeyboardRemove(KeyboardRemove::new()))
    }

    /// Removes the inline keyboard of the chat's last step (if any is still shown).
    pub async fn clear_keyboard(&self, chat_id: i64) {
        let old = self.lock().keyboard.remove(&chat_id);
        if let Some(message_id) = old {
            self.remove_keyboard(chat_id, message_id).await;
        }
    }

    /// Removes the inline keyboard of one message (a pressed button's message).
    pub async fn remove_keyboard(&self, chat_id: i64, message_id: i32) {
        {
            let mut shown = self.lock();
            if shown.keyboard.get(&chat_id) == Some(&message_id) {
                shown.keyboard.remove(&chat_id);
            }
        }
        let result = self
            .call(Some(chat_id), false, || {
                let req = self
                    .bot
                    .edit_message_reply_markup(ChatId(chat_id), MessageId(message_id));
                async move { req.await.map(|_| ()) }
            })
            .await;
        match result {
            Ok(()) | Err(RequestError::Api(ApiError::MessageNotModified)) => {}
            Err(e) => tracing::debug!(chat_id, message_id, error = %e, "keyboard not removed"),
        }
    }

    /// Stops the button's spinner.
    pub async fn answer_callback(&self, id: &str) {
        let id = CallbackQueryId(id.to_string());
        let result = self
            .call(None, false, || {
                let req = self.bot.answer_callback_query(id.clone());
                async move { req.await.map(|_| ()) }
            })
            .await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "callback query not answered");
        }
    }

    /// The bot, for wiring (commands, webhooks).
    pub fn bot(&self) -> &TgBot {
        &self.bot
    }
}

/// Runs a Bot API call, honouring `RetryAfter` (up to three times) and retrying server errors
/// with backoff (for calls made outside a [`TelegramSender`], e.g. the support relay's).
pub(super) async fn retrying<T, F, Fut>(call: F) -> Result<T, RequestError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let (mut tries, mut backoffs) = (0, 0);
    loop {
        match call().await {
            Err(RequestError::RetryAfter(wait)) if tries < 3 => {
                tries += 1;
                tracing::info!(seconds = wait.seconds(), "Telegram asks to retry later");
                tokio::time::sleep(wait.duration()).await;
            }
            Err(e) if transient(&e) && backoffs < SERVER_RETRIES => {
                tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(backoffs)).await;
                backoffs += 1;
            }
            other => return other,
        }
    }
}

/// A failure worth trying again: Telegram's server error (5xx: "Internal Server Error", "Bad
/// Gateway", or a body that is not the Bot API's JSON) or a connection that never opened. A
/// timeout is not retried: the message may have gone.
pub fn transient(e: &RequestError) -> bool {
    match e {
        RequestError::Api(ApiError::Unknown(text)) => {
            let text = text.to_ascii_lowercase();
            [
                "internal server error",
                "bad gateway",
                "gateway timeout",
                "service unavailable",
            ]
            .iter()
            .any(|t| text.contains(t))
        }
        RequestError::InvalidJson { .. } => true,
        RequestError::Network(e) => e.is_connect(),
        _ => false,
    }
}

/// A chat Telegram will not deliver to: retrying cannot help.
pub fn undeliverable(e: &RequestError) -> bool {
    matches!(
        e,
        RequestError::Api(
            ApiError::BotBlocked
                | ApiError::ChatNotFound
                | ApiError::UserDeactivated
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
        )
    )
}

/// Escapes text for Telegram's HTML parse mode (teloxide's own helper: `<`, `>`, `&`).
pub fn escape_html(text: &str) -> String {
    teloxide::utils::html::escape(text)
}

/// Splits text into parts of at most `max` characters once escaped, at line breaks when it can
/// (a single longer line is cut at a character boundary). Blank parts are dropped.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for line in text.split('\n') {
        for piece in cut_line(line, max) {
            let w = escaped_len(&piece);
            current = match current.take() {
                Some((mut s, len)) if len + 1 + w <= max => {
                    s.push('\n');
                    s.push_str(&piece);
                    Some((s, len + 1 + w))
                }
                Some((s, _)) => {
                    parts.push(s);
                    Some((piece, w))
                }
                None => Some((piece, w)),
            };
        }
    }
    parts.extend(current.map(|(s, _)| s));
    parts.retain(|p| !p.trim().is_empty());
    parts
}

/// The length in characters of `s` once escaped.
fn escaped_len(s: &str) -> usize {
    escape_html(s).chars().count()
}

/// A line longer than `max` (escaped) in pieces that fit.
fn cut_line(line: &str, max: usize) -> Vec<String> {
    if escaped_len(line) <= max {
        return vec![line.to_string()];
    }
    let mut out = Vec::new();
    let mut piece = String::new();
    let mut len = 0;
    for c in line.chars() {
        let w = escaped_len(c.encode_utf8(&mut [0; 4]));
        if len + w > max {
            out.push(std::mem::take(&mut piece));
            len = 0;
        }
        piece.push(c);
        len += w;
    }
    out.push(piece);
    out
}
