//! The support desk on Telegram (SPEC 4.11): support-group messages become [`GroupMessage`]
//! events, and the desk's [`Outgoing`] actions become Bot API calls (see `crate::support` for
//! what each means). The desk itself runs inside `App::handle` (customer messages go to it
//! there, before the bot); failures are logged with ids only and never stop the chat.
//!
//! Who is an agent: a message delivered from the configured group proves that its sender could
//! post there, not that they still belong to it (public groups, linked chats), so every sender is
//! checked with `getChatMember` (present = creator, administrator, member or a restricted member),
//! cached for a minute. When Telegram cannot answer, the message is refused (neither relayed nor
//! run) and the group is told to send it again. An anonymous admin (posting as the group) is a member;
//! messages on behalf of other chats and from other bots are not.

use super::handler::{run_event, Ctx};
use super::inbound::chat_id_of;
use super::outbound::{retrying, split_text, MAX_MESSAGE_CHARS};
use crate::app::{App, Event, Reply};
use crate::store::AgentRef;
use crate::support::{Content, FileKind, GroupMessage, Outgoing, RepliedTo};
use anyhow::Result;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use teloxide::payloads::{SendDocumentSetters, SendMessageSetters, SendPhotoSetters};
use teloxide::prelude::Requester;
use teloxide::types::{ChatId, FileId, InputFile, Message, MessageId, ThreadId, UserId};

/// How long a `getChatMember` answer is trusted.
const MEMBER_TTL: Duration = Duration::from_secs(60);
/// Telegram's limits on a caption and a topic name.
const MAX_CAPTION_CHARS: usize = 1024;
const MAX_TOPIC_CHARS: usize = 128;
/// How often the desk's periodic work runs.
const TICK: Duration = Duration::from_secs(60);

/// The relay's state: the support group and the membership cache.
pub struct Relay {
    pub group: i64,
    members: Mutex<HashMap<u64, (bool, Instant)>>,
}

impl Relay {
    /// The relay for `[support] group_id`; None without a support group (the bot answers every
    /// message and tickets only wait in the store).
    pub fn from_app(app: &App) -> Option<Relay> {
        let group = app.settings.support.group_id?;
        Some(Relay {
            group,
            members: Mutex::default(),
        })
    }

    fn cached(&self, user: u64) -> Option<bool> {
        let members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members
            .get(&user)
            .filter(|(_, at)| at.elapsed() < MEMBER_TTL)
            .map(|(is, _)| *is)
    }

    fn remember(&self, user: u64, is: bool) {
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members.retain(|_, (_, at)| at.elapsed() < MEMBER_TTL);
        members.insert(user, (is, Instant::now()));
    }
}

/// A message in a group: only the configured support group's reach the desk.
pub async fn group(ctx: &Ctx, m: &Message) {
    let Some(relay) = &ctx.relay else {
        return;
    };
    if m.chat.id.0 != relay.group {
        tracing::debug!(chat_id = m.chat.id.0, "message in another group ignored");
        return;
    }
    let Some((msg, known)) = group_message(ctx, relay, m).await else {
        return;
    };
    let message_id = msg.message_id;
    let event = Event::Group {
        message: msg,
        membership_known: known,
    };
    match run_event(&ctx.app, event).await {
        Ok(outcome) => perform(ctx, outcome.desk).await,
        Err(e) => {
            tracing::warn!(message_id, error = %format!("{e:#}"), "group message not handled")
        }
    }
}

/// What the desk needs of a group message (None for service messages and other content), and
/// whether the sender's membership is known (false: `getChatMember` failed).
async fn group_message(ctx: &Ctx, relay: &Relay, m: &Message) -> Option<(GroupMessage, bool)> {
    let content = content_of(m)?;
    let from = m.from.as_ref()?;
    let membership = match &m.sender_chat {
        Some(chat) => Some(chat.id.0 == relay.group),
        None if from.is_bot => Some(false),
        None => is_member(ctx, relay, from.id).await,
    };
    let msg = GroupMessage {
        message_id: m.id.0,
        // Outside forums, Telegram sets a thread id on every reply: only topics count.
        thread_id: m.thread_id.filter(|_| m.is_topic_message).map(|t| t.0 .0),
        reply_to: m.reply_to_message().map(|r| RepliedTo {
            message_id: r.id.0,
            text: r.text().or(r.caption()).map(str::to_string),
        }),
        from: AgentRef {
            user_id: i64::try_from(from.id.0).unwrap_or(i64::MAX),
            first_name: from.first_name.clone(),
        },
        sender_is_member: membership.unwrap_or(false),
        content,
    };
    Some((msg, membership.is_some()))
}

fn content_of(m: &Message) -> Option<Content> {
    let caption = m.caption().map(str::to_string);
    if let Some(text) = m.text() {
        return Some(Content::Text(text.to_string()));
    }
    if let Some(sizes) = m.photo() {
        let largest = sizes
            .iter()
            .max_by_key(|p| (u64::from(p.width) * u64::from(p.height), p.file.size))?;
        return Some(Content::File {
            file_id: largest.file.id.0.clone(),
            kind: FileKind::Photo,
            caption,
        });
    }
    m.document().map(|d| Content::File {
        file_id: d.file.id.0.clone(),
        kind: FileKind::Document,
        caption,
    })
}

/// `getChatMember` in the support group, cached briefly; None when Telegram did not answer
/// (not cached: the next message asks again).
async fn is_member(ctx: &Ctx, relay: &Relay, user: UserId) -> Option<bool> {
    if let Some(is) = relay.cached(user.0) {
        return Some(is);
    }
    let bot = ctx.sender.bot();
    let answer = retrying(|| {
        let req = bot.get_chat_member(ChatId(relay.group), user);
        async move { req.await }
    })
    .await;
    match answer {
        Ok(member) => {
            let is = member.kind.is_present();
            relay.remember(user.0, is);
            Some(is)
        }
        Err(e) => {
            crate::ops::metrics::telegram_error("getChatMember");
            tracing::warn!(user = user.0, error = %e, "getChatMember failed");
            None
        }
    }
}

/// Performs the desk's actions in order (a new topic's card before what follows it).
pub async fn perform(ctx: &Ctx, outs: Vec<Outgoing>) {
    let Some(relay) = &ctx.relay else {
        return;
    };
    let mut queue: VecDeque<Outgoing> = outs.into();
    while let Some(out) = queue.pop_front() {
        match out {
            Outgoing::ToCustomer { chat_key, text } => {
                let Some(chat_id) = chat_id_of(&chat_key) else {
                    continue;
                };
                if let Err(e) = ctx.sender.send(chat_id, &Reply::text(text)).await {
                    tracing::warn!(chat_id, error = %e, "relay to the customer failed");
                }
            }
            Outgoing::ToCustomerFile {
                chat_key,
                file_id,
                kind,
                caption,
            } => {
                let Some(chat_id) = chat_id_of(&chat_key) else {
                    continue;
                };
                let file = FileOut {
                    file_id,
                    kind,
                    caption,
                };
                if let Err(e) = send_file(ctx, chat_id, None, &file).await {
                    tracing::warn!(chat_id, error = %e, "file to the customer failed");
                }
            }
            Outgoing::CreateTopic { ticket, name } => {
                let more = create_topic(ctx, relay, ticket, name).await;
                for out in more.into_iter().rev() {
                    queue.push_front(out);
                }
            }
            Outgoing::ToGroup {
                thread_id,
                text,
                ticket,
            } => {
                for part in split_text(&text, MAX_MESSAGE_CHARS) {
                    let sent = send_group_text(ctx, relay, thread_id, part).await;
                    posted(ctx, ticket, sent).await;
                }
            }
            Outgoing::ToGroupFile {
                thread_id,
                file_id,
                kind,
                caption,
                ticket,
            } => {
                let file = FileOut {
                    file_id,
                    kind,
                    caption,
                };
                let sent = send_file(ctx, relay.group, thread_id, &file).await;
                let sent = sent
                    .map_err(|e| tracing::warn!(ticket, error = %e, "file to the group failed"));
                posted(ctx, ticket, sent.ok()).await;
            }
        }
    }
}

/// `createForumTopic`, then the desk's card for it (nothing when Telegram refused: the next tick
/// asks again).
async fn create_topic(ctx: &Ctx, relay: &Relay, ticket: u64, name: String) -> Vec<Outgoing> {
    let name: String = name.chars().take(MAX_TOPIC_CHARS).collect();
    let bot = ctx.sender.bot();
    let created = retrying(|| {
        let req = bot.create_forum_topic(ChatId(relay.group), name.clone());
        async move { req.await }
    })
    .await;
    let thread = match created {
        Ok(topic) => topic.thread_id.0 .0,
        Err(e) => {
            crate::ops::metrics::telegram_error("createForumTopic");
            tracing::warn!(ticket, error = %e, "createForumTopic failed");
            return Vec::new();
        }
    };
    tracing::info!(ticket, thread, "ticket topic created");
    match run_event(&ctx.app, Event::TopicCreated { ticket, thread }).await {
        Ok(outcome) => outcome.desk,
        Err(e) => {
            tracing::warn!(ticket, error = %format!("{e:#}"), "topic not recorded");
            Vec::new()
        }
    }
}

/// Plain text (no parse mode: nothing to escape) into the group or one of its topics.
async fn send_group_text(
    ctx: &Ctx,
    relay: &Relay,
    thread_id: Option<i32>,
    text: String,
) -> Option<i32> {
    let bot = ctx.sender.bot();
    ctx.sender.pace(relay.group).await;
    let sent = retrying(|| {
        let req = bot.send_message(ChatId(relay.group), text.clone());
        let req = match thread_id {
            Some(t) => req.message_thread_id(ThreadId(MessageId(t))),
            None => req,
        };
        async move { req.await }
    })
    .await;
    match sent {
        Ok(m) => Some(m.id.0),
        Err(e) => {
            crate::ops::metrics::telegram_error("sendMessage");
            tracing::warn!(thread = thread_id, error = %e, "message to the group failed");
            None
        }
    }
}

/// A group message a ticket's replies should reach.
async fn posted(ctx: &Ctx, ticket: Option<u64>, sent: Option<i32>) {
    let (Some(ticket), Some(message_id)) = (ticket, sent) else {
        return;
    };
    if let Err(e) = run_event(&ctx.app, Event::Posted { ticket, message_id }).await {
        tracing::warn!(ticket, message_id, error = %format!("{e:#}"), "group message not linked");
    }
}

struct FileOut {
    file_id: String,
    kind: FileKind,
    caption: Option<String>,
}

/// `sendPhoto` / `sendDocument` by file id, with a plain caption (cut to Telegram's limit).
async fn send_file(
    ctx: &Ctx,
    chat_id: i64,
    thread_id: Option<i32>,
    file: &FileOut,
) -> Result<i32, teloxide::RequestError> {
    let bot = ctx.sender.bot();
    let caption: Option<String> = file
        .caption
        .as_ref()
        .map(|c| c.chars().take(MAX_CAPTION_CHARS).collect());
    let thread = thread_id.map(|t| ThreadId(MessageId(t)));
    let input = || InputFile::file_id(FileId(file.file_id.clone()));
    ctx.sender.pace(chat_id).await;
    let sent = retrying(|| {
        let (caption, thread) = (caption.clone(), thread);
        let req = match file.kind {
            FileKind::Photo => {
                let mut req = bot.send_photo(ChatId(chat_id), input());
                if let Some(c) = caption {
                    req = req.caption(c);
                }
                if let Some(t) = thread {
                    req = req.message_thread_id(t);
                }
                futures_util::future::Either::Left(async move { req.await })
            }
            FileKind::Document => {
                let mut req = bot.send_document(ChatId(chat_id), input());
                if let Some(c) = caption {
                    req = req.caption(c);
                }
                if let Some(t) = thread {
                    req = req.message_thread_id(t);
                }
                futures_util::future::Either::Right(async move { req.await })
            }
        };
        req
    })
    .await
    .inspect_err(|_| {
        let method = match file.kind {
            FileKind::Photo => "sendPhoto",
            FileKind::Document => "sendDocument",
        };
        crate::ops::metrics::telegram_error(method);
    })?;
    Ok(sent.id.0)
}

/// The desk's periodic work (late notices, interrupted announcements): at start-up, then every
/// minute, until stopped.
pub struct Ticker {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Ticker {
    /// None without a support group.
    pub fn start(ctx: Arc<Ctx>) -> Option<Ticker> {
        ctx.relay.as_ref()?;
        // What a tick sends (late notices, interrupted announcements) is proactive: it uses only
        // the capacity replies leave, like reminders.
        let ctx = Arc::new(Ctx {
            app: Arc::clone(&ctx.app),
            sender: ctx.sender.proactive(),
            relay: Relay::from_app(&ctx.app),
        });
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = every.tick() => {}
                }
                match run_event(&ctx.app, Event::DeskTick).await {
                    Ok(outcome) => perform(&ctx, outcome.desk).await,
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "support tick failed"),
                }
            }
        });
        Some(Ticker { stop, task })
    }

    /// Lets the tick in hand finish, then ends the task.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "support ticker ended badly");
        }
    }
}
