//! Replies → Bot API calls: HTML escaping, splitting at 4,096 characters, inline keyboards, the
//! contact button, documents. [`TelegramSender`] is the one handle every sender uses (the turn
//! handler, the reminder scheduler, the support relay), so all go through the same per-chat
//! pacer (pace.rs) and the same throttled bot.

use super::pace::Pacer;
use super::TgBot;
use crate::app::Reply;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use teloxide::payloads::SendMessageSetters;
use teloxide::prelude::Requester;
use teloxide::types::{
    ButtonRequest, CallbackQueryId, ChatId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, KeyboardRemove, MessageId, ParseMode, ReplyMarkup,
};
use teloxide::{ApiError, RequestError};

/// Telegram's limit on a message's text.
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// Sends replies to customer chats through the throttled bot. Cheap to clone.
#[derive(Clone)]
pub struct TelegramSender {
    bot: TgBot,
    state: Arc<Mutex<Shown>>,
    /// Per-chat send limits (None: the throttle's own).
    pacer: Option<Arc<Pacer>>,
}

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
            pacer: None,
        }
    }

    /// Keeps per-chat limits with `pacer` before the throttle (see pace.rs).
    pub fn with_pacer(mut self, pacer: Pacer) -> TelegramSender {
        self.pacer = Some(Arc::new(pacer));
        self
    }

    /// Waits for the chat's next send slot; every `send*` call goes through it first.
    pub async fn pace(&self, chat_id: i64) {
        if let Some(p) = &self.pacer {
            p.wait(chat_id).await;
        }
    }

    /// Sends one reply: text (split when long), its buttons on the last part, then its file.
    /// The keyboard of the chat's previous step is removed first, so only live buttons show.
    pub async fn send(&self, chat_id: i64, reply: &Reply) -> Result<(), RequestError> {
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
        for (i, part) in parts.iter().enumerate() {
            let html = escape_html(part);
            let markup = (i == last).then(|| markup.clone()).flatten();
            self.pace(chat_id).await;
            let sent = retrying(|| {
                let req = self
                    .bot
                    .send_message(chat, html.clone())
                    .parse_mode(ParseMode::Html);
                let req = match markup.clone() {
                    Some(m) => req.reply_markup(m),
                    None => req,
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
            self.pace(chat_id).await;
            retrying(|| {
                let doc = InputFile::memory(bytes.clone()).file_name(name.clone());
                let req = self.bot.send_document(chat, doc);
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
        let result = retrying(|| {
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
        let result = retrying(|| {
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

/// Runs a Bot API call, honouring `RetryAfter` (up to three times).
pub(super) async fn retrying<T, F, Fut>(call: F) -> Result<T, RequestError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut tries = 0;
    loop {
        match call().await {
            Err(RequestError::RetryAfter(wait)) if tries < 3 => {
                tries += 1;
                tracing::info!(seconds = wait.seconds(), "Telegram asks to retry later");
                tokio::time::sleep(wait.duration()).await;
            }
            other => return other,
        }
    }
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
