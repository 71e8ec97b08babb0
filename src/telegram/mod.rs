//! The Telegram front end (`repaybot serve`): a thin adapter around `App::turn`. Only this
//! module knows teloxide. inbound.rs (update → input), router.rs (dedupe, flood, per-chat
//! order), queue.rs (a chat's bounded jobs), handler.rs (one turn), outbound.rs (reply → Bot
//! API), limiter.rs (overall budget, priorities), pace.rs (per-chat send limits), flood.rs, commands.rs,
//! deliver.rs (the reminder scheduler inside `serve`, sending through the same sender).

mod commands;
pub mod deliver;
pub mod flood;
mod handler;
pub mod inbound;
pub mod limiter;
pub mod outbound;
mod owed;
pub mod pace;
pub mod queue;
mod router;
mod support;

pub use deliver::TelegramDeliver;
pub use outbound::{escape_html, split_text, TelegramSender};

use crate::app::App;
use crate::settings::Secret;
use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use teloxide::adaptors::throttle::Limits;
use teloxide::prelude::Requester;
use teloxide::update_listeners::{webhooks, Polling, UpdateListener};
use teloxide::Bot;

/// The bot every request goes through; sends keep Telegram's limits in [`TelegramSender`]
/// (limiter.rs). `Limits` is teloxide's type only as the shape of `--send-limits`.
pub type TgBot = Bot;

/// How `serve` runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The bot token (prints as `***`).
    pub token: Secret,
    pub api_url: Option<String>,
    /// Public URL Telegram posts updates to; None for long polling.
    pub webhook: Option<String>,
    /// Local address the webhook server listens on.
    pub listen: SocketAddr,
    /// Secret token Telegram sends with every webhook call (generated when None).
    pub webhook_secret: Option<Secret>,
    pub limits: Limits,
    /// Flood protection per user: burst, then one message per interval.
    pub flood: (u32, std::time::Duration),
}

/// `PER_CHAT_SEC/PER_CHAT_MIN/OVERALL_SEC[/GROUP_MIN]`, e.g. `1/20/30/20`. GROUP_MIN is the
/// per-minute limit of a supergroup (the support group; the bot posts in no other), by default
/// PER_CHAT_MIN: teloxide's own default of 10 would hold back a busy support group, while
/// Telegram allows about 20 a minute in one group.
pub fn parse_limits(text: &str) -> Result<Limits> {
    let usage = || anyhow!("--send-limits '{text}': expected three or four numbers like 1/20/30");
    let n: Vec<u32> = text
        .split('/')
        .map(|x| x.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| usage())?;
    let (per_sec, per_min, overall, group) = match n[..] {
        [per_sec, per_min, overall] => (per_sec, per_min, overall, per_min),
        [per_sec, per_min, overall, group] => (per_sec, per_min, overall, group),
        _ => return Err(usage()),
    };
    if n.contains(&0) {
        bail!("--send-limits '{text}': limits must be positive");
    }
    Ok(Limits {
        messages_per_sec_chat: per_sec,
        messages_per_min_chat: per_min,
        messages_per_min_channel_or_supergroup: group,
        messages_per_sec_overall: overall,
    })
}

/// `BURST/MILLIS`, e.g. `5/700`: five messages at once, then one per 700 ms.
pub fn parse_flood(text: &str) -> Result<(u32, std::time::Duration)> {
    let bad = || anyhow!("--flood '{text}': expected BURST/MILLIS like 5/700");
    let (burst, millis) = text.split_once('/').ok_or_else(bad)?;
    let burst: u32 = burst.trim().parse().map_err(|_| bad())?;
    let millis: u64 = millis.trim().parse().map_err(|_| bad())?;
    if burst == 0 || millis == 0 {
        return Err(bad());
    }
    Ok((burst, std::time::Duration::from_millis(millis)))
}

/// `REPAYBOT_WEBHOOK_SECRET` checked against Telegram's rule for `secret_token` (1-256 of
/// `A-Z a-z 0-9 _ -`): a bad one is a clear error at start, never a panic in teloxide. Unset: None
/// (webhook mode generates one).
pub fn webhook_secret(value: Option<std::ffi::OsString>) -> Result<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let rule = "1 to 256 characters of A-Z a-z 0-9 _ -";
    let text = value
        .into_string()
        .map_err(|_| anyhow!("REPAYBOT_WEBHOOK_SECRET is not valid UTF-8: use {rule}"))?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !(1..=256).contains(&text.len()) || !text.chars().all(allowed) {
        bail!(
            "REPAYBOT_WEBHOOK_SECRET is not a valid secret token ({} characters): use {rule}",
            text.chars().count()
        );
    }
    Ok(Some(text))
}

/// Threads for blocking work (the turns, the desk, flushes). tokio's default of 512 lets a
/// burst of a thousand chats start hundreds of threads that fight over sled and the cores; a
/// few threads take the turns in order instead (measured in benches/telegram.rs).
const BLOCKING_THREADS: usize = 8;

/// Runs the bot until Ctrl-C or SIGTERM; the turns in hand are finished first.
pub fn serve(app: App, opts: ServeOptions) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("serve")
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let app = Arc::new(app);
    runtime.block_on(serve_async(Arc::clone(&app), opts))?;
    app.store.flush()
}

/// The bot on its Bot API server, its token checked with getMe.
async fn connect(opts: &ServeOptions) -> Result<Bot> {
    let mut bot = Bot::new(opts.token.expose());
    if let Some(url) = &opts.api_url {
        let url = url
            .parse()
            .map_err(|e| anyhow!("--api-url '{url}' is not a URL: {e}"))?;
        bot = bot.set_api_url(url);
    }
    let me = bot.get_me().await.map_err(|e| {
        anyhow!("the Bot API refused the token in TELOXIDE_TOKEN (getMe failed: {e})")
    })?;
    tracing::info!(bot_id = me.id.0, "connected to the Bot API");
    Ok(bot)
}

/// Receives updates by webhook or long polling until a stop signal.
async fn receive(bot: Bot, opts: &ServeOptions, router: &router::Router) -> Result<()> {
    match &opts.webhook {
        Some(url) => {
            let url = url
                .parse()
                .map_err(|e| anyhow!("--webhook '{url}' is not a URL: {e}"))?;
            let mut options = webhooks::Options::new(opts.listen, url);
            if let Some(secret) = &opts.webhook_secret {
                options = options.secret_token(secret.expose().to_string());
            }
            let listener = webhooks::axum(bot, options)
                .await
                .context("setting the webhook")?;
            tracing::info!(listen = %opts.listen, "receiving updates by webhook");
            crate::ops::health::webhook_set(true);
            listen(listener, router).await;
        }
        None => {
            let listener = Polling::builder(bot)
                .timeout(std::time::Duration::from_secs(10))
                .delete_webhook()
                .await
                .build();
            tracing::info!("receiving updates by long polling");
            listen(listener, router).await;
        }
    }
    Ok(())
}

async fn serve_async(app: Arc<App>, opts: ServeOptions) -> Result<()> {
    let bot = connect(&opts).await?;
    // Every send keeps the limits in the one limiter (per chat, overall, replies first).
    let sender = TelegramSender::new(bot.clone())
        .with_limiter(limiter::Limiter::new(&opts.limits))
        .with_blocked_log(app.store.clone(), app.clock.clone());
    // Proactive senders (the reminder scheduler) get a proactive clone of `sender` here, so
    // every message shares the same limits; the support relay hooks into `Router::route`.
    commands::register(&bot, &app).await;
    // The http payment gateway (SPEC 2.5): callbacks and reconciliation; what they make owed
    // to a chat (a receipt) is sent by the task below.
    let (owed_tx, mut owed_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let notify: crate::payments::callback::Notify = Arc::new(move |chat| {
        let _ = owed_tx.send(chat);
    });
    let payments_core = app.shared_core();
    let apply_report = crate::app::payment_applier(Arc::clone(&app));
    let deliver = TelegramDeliver::new(if app.settings.reminders.paid_broadcast {
        sender.paid_broadcast()
    } else {
        sender.proactive()
    });
    let scheduler = deliver::Scheduler::start(Arc::clone(&app), deliver);
    let router = Arc::new(router::Router::new(
        handler::Ctx {
            relay: support::Relay::from_app(&app),
            app,
            sender,
        },
        flood::FloodGuard::new(opts.flood.0, opts.flood.1),
    ));
    owed::deliver_left_over(&router.ctx()).await;
    // After the left-over replies, so a receipt is not sent by both.
    let payments = crate::payments::reconcile::start(payments_core, apply_report, notify).await?;
    // What a payment owes a chat goes through that chat's worker, after the turn in hand (which
    // may be sending the same receipt), never beside it.
    let owed_router = Arc::clone(&router);
    let owed_task = tokio::spawn(async move {
        while let Some(chat) = owed_rx.recv().await {
            owed_router.owed(&chat);
        }
    });
    let support_ticker = support::Ticker::start(router.ctx());
    receive(bot, &opts, &router).await?;
    // The turns in hand and the scheduler's pass in hand finish together; then the desk's tick.
    tokio::join!(router.finish(), scheduler.stop());
    if let Some(ticker) = support_ticker {
        ticker.stop().await;
    }
    if let Some(p) = payments {
        p.stop().await;
    }
    owed_task.abort();
    tracing::info!("stopped");
    Ok(())
}

/// Feeds updates to the router until the listener ends or a stop signal arrives.
async fn listen<L>(mut listener: L, router: &router::Router)
where
    L: UpdateListener,
    L::Err: std::fmt::Debug,
{
    let stop = listener.stop_token();
    {
        let stream = listener.as_stream();
        futures_util::pin_mut!(stream);
        let signal = shutdown_signal();
        futures_util::pin_mut!(signal);
        // Health (/healthz): alive while updates arrive, or while the listener runs without
        // errors (an empty long poll yields nothing); a failing getUpdates stops the beat until
        // no error has come for longer than teloxide's longest back-off and a poll.
        let mut beat = tokio::time::interval(crate::ops::health::beat_interval());
        let mut last_error: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                () = &mut signal => {
                    tracing::info!("stop signal: finishing the turns in hand");
                    break;
                }
                _ = beat.tick() => if crate::ops::health::recovered(last_error) {
                    crate::ops::health::polled();
                },
                next = stream.next() => match next {
                    Some(Ok(update)) => {
                        last_error = None;
                        crate::ops::health::polled();
                        crate::ops::metrics::update(update_kind(&update));
                        router.route(update);
                    }
                    Some(Err(e)) => {
                        last_error = Some(tokio::time::Instant::now());
                        crate::ops::metrics::telegram_error("getUpdates");
                        tracing::warn!(error = ?e, "receiving updates failed");
                    }
                    None => break,
                },
            }
        }
    }
    stop.stop();
}

/// The update's kind as a metric label (never an id or a text).
fn update_kind(update: &teloxide::types::Update) -> &'static str {
    use teloxide::types::UpdateKind;
    match &update.kind {
        UpdateKind::Message(_) => "message",
        UpdateKind::CallbackQuery(_) => "callback_query",
        UpdateKind::EditedMessage(_) => "edited_message",
        _ => "other",
    }
}

/// Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
