//! Updates → per-chat workers: one chat's updates are handled in order, different chats
//! concurrently. Duplicates (same update id) and floods (judged by the message's own date) are
//! dropped here, at arrival; a chat's waiting jobs are bounded (queue.rs: the excess is dropped
//! with one notice). A panic in a handler is caught at this boundary and never reaches another
//! chat or the loop.

use super::flood::{FloodGuard, Verdict};
use super::handler::{self, Ctx};
use super::inbound::{self, Inbound, Private};
use super::queue::{self, JobQueue, Jobs, Pushed};
use futures_util::FutureExt;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::types::{Message, Update};
use tokio::task::JoinSet;

/// A worker with nothing to do for this long ends (a new update starts a new one).
const IDLE: Duration = Duration::from_secs(60);

enum Job {
    Turn(Private),
    SlowDown(Private),
    /// A support-group message (one worker per forum topic).
    Group(Box<Message>),
    /// Replies owed to the chat (a payment the cashier confirmed): sent in the chat's turn order.
    Owed(String),
}

/// A worker's key: the chat, and the forum topic in a group (0 elsewhere).
type Key = (i64, i32);

#[derive(Default)]
struct Workers {
    queues: HashMap<Key, JobQueue<Job>>,
    tasks: JoinSet<()>,
}

pub struct Router {
    ctx: Arc<Ctx>,
    flood: FloodGuard,
    workers: Arc<Mutex<Workers>>,
}

impl Router {
    pub fn new(ctx: Ctx, flood: FloodGuard) -> Router {
        Router {
            ctx: Arc::new(ctx),
            flood,
            workers: Arc::default(),
        }
    }

    /// Takes one update: the single place every update passes (the support relay hooks in at
    /// `Inbound::Group` and before a private chat's turn).
    pub fn route(&self, update: Update) {
        let id = update.id.0;
        match self.ctx.app.store.first_delivery(u64::from(id)) {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(update = id, "update delivered again: ignored");
                return;
            }
            Err(e) => tracing::warn!(update = id, error = %e, "update id not recorded"),
        }
        match inbound::classify(update) {
            Inbound::Private(p) => self.private(p),
            Inbound::Group { chat_id, message } if self.ctx.relay.is_some() => {
                let thread = message.thread_id.map_or(0, |t| t.0 .0);
                self.enqueue((chat_id, thread), Job::Group(message));
            }
            Inbound::Group { chat_id, .. } => {
                tracing::debug!(chat_id, "group message: no support relay configured");
            }
            Inbound::Other => tracing::debug!(update = id, "update kind skipped"),
        }
    }

    fn private(&self, p: Private) {
        // A button press carries no date of its own: it is judged at arrival.
        let at = p.sent_at.unwrap_or_else(crate::clock::wall_now);
        match self.flood.check(p.user_id, at) {
            Verdict::Pass => self.enqueue((p.chat_id, 0), Job::Turn(p)),
            Verdict::Notice => {
                tracing::info!(chat_id = p.chat_id, "flood: customer slowed down");
                self.enqueue((p.chat_id, 0), Job::SlowDown(p));
            }
            Verdict::Drop => {
                if let Some(cb) = p.callback {
                    let sender = self.ctx.sender.clone();
                    tokio::spawn(async move { sender.answer_callback(&cb.id).await });
                }
            }
        }
    }

    fn enqueue(&self, key: Key, job: Job) {
        let mut w = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        while w.tasks.try_join_next().is_some() {}
        let job = match w.queues.get(&key) {
            Some(queue) => match queue.push(job) {
                Pushed::Queued => return,
                Pushed::Full { job, notice } => return self.overflow(key, job, notice),
                Pushed::Closed(job) => job,
            },
            None => job,
        };
        let capacity = if key.0 < 0 {
            queue::GROUP_JOBS
        } else {
            queue::CHAT_JOBS
        };
        let (tx, rx) = queue::bounded(capacity);
        let _ = tx.push(job);
        w.queues.insert(key, tx);
        let (ctx, workers) = (Arc::clone(&self.ctx), Arc::clone(&self.workers));
        w.tasks.spawn(worker(ctx, workers, key, rx));
    }

    /// A job its chat's full queue could not take: dropped; a customer hears it once (and a
    /// pressed button stops spinning).
    fn overflow(&self, key: Key, job: Job, notice: bool) {
        let p = match job {
            Job::Turn(p) | Job::SlowDown(p) => p,
            Job::Group(_) => {
                tracing::warn!(
                    chat_id = key.0,
                    "support group topic backlogged: message dropped"
                );
                return;
            }
            // Still in the outbox: the next start sends them (or the next payment notice).
            Job::Owed(_) => return,
        };
        tracing::info!(
            chat_id = p.chat_id,
            notice,
            "chat queue full: message dropped"
        );
        let ctx = Arc::clone(&self.ctx);
        tokio::spawn(async move {
            if notice {
                handler::slow_down(&ctx, p).await;
            } else if let Some(cb) = p.callback {
                ctx.sender.answer_callback(&cb.id).await;
            }
        });
    }

    /// Replies owed to `chat` (a `tg:` key) are sent by its worker, in order with its turns.
    pub fn owed(&self, chat: &str) {
        match super::inbound::chat_id_of(chat) {
            Some(chat_id) => self.enqueue((chat_id, 0), Job::Owed(chat.to_string())),
            None => tracing::debug!("owed replies for a chat Telegram cannot reach"),
        }
    }

    /// What every handler shares (for the support desk's ticker).
    pub fn ctx(&self) -> Arc<Ctx> {
        Arc::clone(&self.ctx)
    }

    /// Stops taking updates and waits until every worker has finished what it was given.
    pub async fn finish(&self) {
        let mut tasks = {
            let mut w = self.workers.lock().unwrap_or_else(|e| e.into_inner());
            w.queues.clear();
            std::mem::take(&mut w.tasks)
        };
        while tasks.join_next().await.is_some() {}
    }
}

async fn worker(ctx: Arc<Ctx>, workers: Arc<Mutex<Workers>>, key: Key, mut rx: Jobs<Job>) {
    let chat_id = key.0;
    loop {
        let job = match tokio::time::timeout(IDLE, rx.next()).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(_) => {
                let mut w = workers.lock().unwrap_or_else(|e| e.into_inner());
                if rx.is_empty() {
                    w.queues.remove(&key);
                    return;
                }
                continue;
            }
        };
        let run = async {
            match job {
                Job::Turn(p) => handler::handle(&ctx, p).await,
                Job::SlowDown(p) => handler::slow_down(&ctx, p).await,
                Job::Group(m) => super::support::group(&ctx, &m).await,
                Job::Owed(chat) => super::owed::deliver_to(&ctx, &chat).await,
            }
        };
        if AssertUnwindSafe(run).catch_unwind().await.is_err() {
            tracing::error!(chat_id, "handler panicked; the chat goes on");
            if chat_id < 0 {
                continue;
            }
            let reply = handler::internal_error(&ctx.app, None);
            handler::send_all(&ctx, chat_id, &[reply]).await;
        }
    }
}
