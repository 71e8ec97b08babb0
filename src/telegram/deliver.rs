//! The reminder scheduler's way out to Telegram: [`TelegramDeliver`] implements
//! `reminders::Deliver` on a proactive clone of the [`TelegramSender`] the turn handlers use, so
//! reminders share Telegram's limits and the chat's order of sends, and take only the capacity
//! replies leave. A chat Telegram will not deliver to ends as `Unreachable` (not retried). A reminder is sent
//! like any reply: the chat's previous keyboard goes, the reminder's buttons (`r:pay`,
//! `r:snooze`, `r:plan`) become the live ones and go when pressed. [`Scheduler`] runs
//! `reminders::run` inside `serve` with its handle, on the app's clock (the one turns read).

use super::inbound::chat_id_of;
use super::outbound::TelegramSender;
use crate::app::{App, Reply};
use crate::reminders::{Deliver, DeliverFuture, Unreachable};
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Sends the scheduler's messages to `tg:<chat id>` chats.
#[derive(Clone)]
pub struct TelegramDeliver {
    sender: TelegramSender,
}

impl TelegramDeliver {
    pub fn new(sender: TelegramSender) -> TelegramDeliver {
        TelegramDeliver { sender }
    }
}

impl Deliver for TelegramDeliver {
    fn deliver<'a>(&'a self, chat_key: &'a str, reply: &'a Reply) -> DeliverFuture<'a> {
        Box::pin(async move {
            let Some(chat_id) = chat_id_of(chat_key) else {
                // Another front end's chat (`term:...`): nothing to send it through.
                tracing::debug!(chat = chat_key, "not a Telegram chat: reminder not sent");
                return Err(Unreachable.into());
            };
            match self.sender.send(chat_id, reply).await {
                // Recorded by the sender (the scheduler skips the chat from now on): this
                // day is not retried either.
                Err(e) if super::outbound::undeliverable(&e) => Err(Unreachable.into()),
                other => Ok(other?),
            }
        })
    }
}

/// The reminder scheduler running inside `serve`, with its handle and its stop switch.
pub struct Scheduler {
    handle: JoinHandle<()>,
    stop: oneshot::Sender<()>,
}

impl Scheduler {
    /// Spawns `reminders::run` delivering through `deliver`.
    pub fn start(app: Arc<App>, deliver: TelegramDeliver) -> Scheduler {
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let handle = tokio::spawn(async move {
            let deliver: Arc<dyn Deliver> = Arc::new(deliver);
            if let Err(e) = crate::reminders::run(app.shared_core(), app, deliver, shutdown).await {
                tracing::error!("the reminder scheduler stopped: {e:#}");
            }
        });
        Scheduler { handle, stop }
    }

    /// Asks the scheduler to stop (it finishes the pass in hand) and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.handle.await {
            tracing::error!("the reminder scheduler panicked: {e}");
        }
    }
}
