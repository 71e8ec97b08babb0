//! Updates → per-chat workers: one chat's updates are handled in order, different chats
//! concurrently. Duplicates (same update id) and floods are dropped here, at arrival. A panic
//! in a handler is caught at this boundary and never reaches another chat or the loop.

use super::flood::{FloodGuard, Verdict};
use super::handler::{self, Ctx};
use super::inbound::{self, Inbound, Private};
use futures_util::FutureExt;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use teloxide::types::Update;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// A worker with nothing to do for this long ends (a new update starts a new one).
const IDLE: Duration = Duration::from_secs(60);

enum Job {
    Turn(Private),
    SlowDown(Private),
}

#[derive(Default)]
struct Workers {
    queues: HashMap<i64, mpsc::UnboundedSender<Job>>,
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
            Inbound::Group { chat_id, .. } => {
                tracing::debug!(chat_id, "group message: no support relay configured");
            }
            Inbound::Other => tracing::debug!(update = id, "update kind skipped"),
        }
    }

    fn private(&self, p: Private) {
        match self.flood.check(p.user_id, Instant::now()) {
            Verdict::Pass => self.enqueue(Job::Turn(p)),
            Verdict::Notice => {
                tracing::info!(chat_id = p.chat_id, "flood: customer slowed down");
                self.enqueue(Job::SlowDown(p));
            }
            Verdict::Drop => {
                if let Some(cb) = p.callback {
                    let sender = self.ctx.sender.clone();
                    tokio::spawn(async move { sender.answer_callback(&cb.id).await });
                }
            }
        }
    }

    fn enqueue(&self, job: Job) {
        let chat_id = match &job {
            Job::Turn(p) | Job::SlowDown(p) => p.chat_id,
        };
        let mut w = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        while w.tasks.try_join_next().is_some() {}
        let job = match w.queues.get(&chat_id) {
            Some(queue) => match queue.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        w.queues.insert(chat_id, tx);
        let (ctx, workers) = (Arc::clone(&self.ctx), Arc::clone(&self.workers));
        w.tasks.spawn(worker(ctx, workers, chat_id, rx));
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

async fn worker(
    ctx: Arc<Ctx>,
    workers: Arc<Mutex<Workers>>,
    chat_id: i64,
    mut rx: mpsc::UnboundedReceiver<Job>,
) {
    loop {
        let job = match tokio::time::timeout(IDLE, rx.recv()).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(_) => {
                let mut w = workers.lock().unwrap_or_else(|e| e.into_inner());
                if rx.is_empty() {
                    w.queues.remove(&chat_id);
                    return;
                }
                continue;
            }
        };
        let run = async {
            match job {
                Job::Turn(p) => handler::handle(&ctx, p).await,
                Job::SlowDown(p) => handler::slow_down(&ctx, p).await,
            }
        };
        if AssertUnwindSafe(run).catch_unwind().await.is_err() {
            tracing::error!(chat_id, "handler panicked; the chat goes on");
            let reply = handler::internal_error(&ctx.app, None);
            handler::send_all(&ctx, chat_id, &[reply]).await;
        }
    }
}
