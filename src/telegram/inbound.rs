//! Telegram updates → what the conversation core understands. Every update goes through
//! [`classify`] into one [`Inbound`]; the router matches on it (the support relay plugs in there).

use crate::app::ChatInput;
use crate::dialog::Lang;
use crate::support::{Content, FileKind};
use teloxide::types::{CallbackQuery, ChatKind, Message, Update, UpdateKind};

/// A customer's action in a private chat with the bot.
#[derive(Clone, Debug)]
pub struct Private {
    pub chat_id: i64,
    pub user_id: u64,
    /// When Telegram says the message was sent (`date`); None for a pressed button.
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    /// From the user's Telegram `language_code` (None when absent or neither zh nor en).
    pub lang: Option<Lang>,
    pub input: ChatInput,
    /// Set for a pressed button: answered, and its keyboard removed.
    pub callback: Option<Callback>,
    /// The message id and what the support desk relays while a ticket is open (text, photo,
    /// document); None for buttons, contacts and `/start`, which always go to the bot.
    pub desk: Option<(i32, Content)>,
}

#[derive(Clone, Debug)]
pub struct Callback {
    pub id: String,
    pub message_id: Option<i32>,
}

/// Where an update came from.
#[derive(Debug)]
pub enum Inbound {
    Private(Private),
    /// A message in a group or supergroup (the support desk's, once the relay exists).
    Group {
        chat_id: i64,
        message: Box<Message>,
    },
    /// Anything else (edits, channel posts, new update kinds): skipped.
    Other,
}

/// The chat key of a Telegram chat in the store.
pub fn chat_key(chat_id: i64) -> String {
    format!("tg:{chat_id}")
}

/// The Telegram chat id of a chat key (`tg:<id>`), for senders that start from the store
/// (the reminder scheduler); None for other front ends' chats.
pub fn chat_id_of(chat_key: &str) -> Option<i64> {
    chat_key.strip_prefix("tg:")?.parse().ok()
}

/// `zh`, `zh-hans`, `zh-TW` → Zh; `en`, `en-GB` → En; anything else is no preference.
pub fn lang_of(code: Option<&str>) -> Option<Lang> {
    let code = code?.to_ascii_lowercase();
    let base = code.split(['-', '_']).next().unwrap_or("");
    match base {
        "zh" => Some(Lang::Zh),
        "en" => Some(Lang::En),
        _ => None,
    }
}

pub fn classify(update: Update) -> Inbound {
    match update.kind {
        UpdateKind::Message(m) => message(m),
        UpdateKind::CallbackQuery(q) => callback(q),
        _ => Inbound::Other,
    }
}

fn message(m: Message) -> Inbound {
    let chat_id = m.chat.id.0;
    match &m.chat.kind {
        ChatKind::Private(_) => {}
        ChatKind::Public(_) => {
            return Inbound::Group {
                chat_id,
                message: Box::new(m),
            }
        }
    }
    let Some(from) = m.from.as_ref() else {
        return Inbound::Other;
    };
    let (input, desk) = if let Some(c) = m.contact() {
        let own = c.user_id == Some(from.id);
        let phone = c.phone_number.clone();
        (ChatInput::Contact { phone, own }, None)
    } else if let Some((input, content)) = file(&m) {
        (input, Some(content))
    } else {
        let text = m.text().unwrap_or("").to_string();
        if is_command(&text, "start") {
            (ChatInput::Start, None)
        } else {
            let desk = (!text.is_empty()).then(|| Content::Text(text.clone()));
            (ChatInput::Text(text), desk)
        }
    };
    Inbound::Private(Private {
        chat_id,
        user_id: from.id.0,
        sent_at: Some(m.date),
        lang: lang_of(from.language_code.as_deref()),
        input,
        callback: None,
        desk: desk.map(|d| (m.id.0, d)),
    })
}

/// A photo (its largest size, named `photo.jpg`) or a document: a document for the dialog (a
/// hardship case's proof) and a file for the desk.
fn file(m: &Message) -> Option<(ChatInput, Content)> {
    let caption = m.caption().map(str::to_string);
    let (file_id, name, kind) = if let Some(sizes) = m.photo() {
        let largest = sizes
            .iter()
            .max_by_key(|p| (u64::from(p.width) * u64::from(p.height), p.file.size))?;
        (
            largest.file.id.0.clone(),
            "photo.jpg".to_string(),
            FileKind::Photo,
        )
    } else {
        let d = m.document()?;
        let name = d.file_name.clone().unwrap_or_else(|| "document".into());
        (d.file.id.0.clone(), name, FileKind::Document)
    };
    let content = Content::File {
        file_id: file_id.clone(),
        kind,
        caption,
    };
    Some((ChatInput::Document { file_id, name }, content))
}

fn callback(q: CallbackQuery) -> Inbound {
    let Some(msg) = q.message.as_ref() else {
        return Inbound::Other;
    };
    let chat = msg.chat();
    if !chat.is_private() {
        return Inbound::Other;
    }
    Inbound::Private(Private {
        chat_id: chat.id.0,
        user_id: q.from.id.0,
        sent_at: None,
        lang: lang_of(q.from.language_code.as_deref()),
        input: ChatInput::Button(q.data.clone().unwrap_or_default()),
        callback: Some(Callback {
            id: q.id.0.clone(),
            message_id: Some(msg.id().0),
        }),
        desk: None,
    })
}

/// `/start`, `/start payload` or `/start@bot`.
pub fn is_command(text: &str, name: &str) -> bool {
    let word = text.trim().split([' ', '@']).next().unwrap_or("");
    word.strip_prefix('/') == Some(name)
}
