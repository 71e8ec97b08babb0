//! Group commit: concurrent flushes share one disk sync. A caller writes, then takes a
//! [`Ticket`]; a sync that starts after the ticket was taken covers its writes. One waiter at a
//! time leads a sync round covering every ticket taken so far; the others wait for it (blocking
//! threads on a condvar, async tasks on a notify) and, when their ticket came too late for it,
//! one of them leads the next round. Async waiters hold no thread while they wait, so under a
//! burst of a thousand turns a few syncs cover them all instead of one or two per turn.

use anyhow::{anyhow, Result};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A flush request: everything written before it was taken is durable once it is covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

#[derive(Debug, Default)]
struct State {
    /// The last ticket handed out.
    requested: u64,
    /// Every ticket up to this one is durable.
    covered: u64,
    /// A round is running.
    syncing: bool,
    /// The last failed round: tickets in (from, upto] got its error.
    failed: Option<(u64, u64, String)>,
    /// Rounds run (a debug figure).
    rounds: u64,
}

impl State {
    /// How `ticket` ended; None while it still waits.
    fn answer(&self, ticket: Ticket) -> Option<Result<()>> {
        if self.covered >= ticket.0 {
            return Some(Ok(()));
        }
        match &self.failed {
            Some((from, upto, error)) if *from < ticket.0 && ticket.0 <= *upto => {
                Some(Err(anyhow!("{error}")))
            }
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct GroupCommit {
    state: Mutex<State>,
    round_over: Condvar,
    round_over_async: tokio::sync::Notify,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A ticket covering every write made before this call.
    pub fn ticket(&self) -> Ticket {
        let mut state = self.lock();
        state.requested += 1;
        Ticket(state.requested)
    }

    /// Sync rounds run so far.
    pub fn rounds(&self) -> u64 {
        self.lock().rounds
    }

    /// Takes a ticket and blocks until it is covered (see [`GroupCommit::wait`]).
    pub fn flush(&self, sync: impl FnOnce() -> Result<()>) -> Result<()> {
        let ticket = self.ticket();
        self.wait(ticket, sync)
    }

    /// Blocks until a sync that started after `ticket` was taken has finished (this call's own
    /// round or another caller's); a failed round fails every ticket it would have covered.
    pub fn wait(&self, ticket: Ticket, sync: impl FnOnce() -> Result<()>) -> Result<()> {
        let mut sync = Some(sync);
        let mut state = self.lock();
        loop {
            if let Some(answer) = state.answer(ticket) {
                return answer;
            }
            if !state.syncing {
                if let Some(sync) = sync.take() {
                    let round = Self::start_round(&mut state);
                    drop(state);
                    self.end_round(round, sync());
                    state = self.lock();
                    continue;
                }
            }
            state = self
                .round_over
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits without holding a thread until `ticket` is covered; a round this call leads runs
    /// `sync` on a thread of its own (and finishes even if this future is dropped).
    pub async fn wait_async<F>(self: &Arc<Self>, ticket: Ticket, sync: F) -> Result<()>
    where
        F: FnOnce() -> Result<()> + Send + 'static,
    {
        let mut sync = Some(sync);
        loop {
            let round_over = self.round_over_async.notified();
            tokio::pin!(round_over);
            round_over.as_mut().enable();
            {
                let mut state = self.lock();
                if let Some(answer) = state.answer(ticket) {
                    return answer;
                }
                if !state.syncing {
                    if let Some(sync) = sync.take() {
                        state.syncing = true;
                        self.run_round_aside(sync);
                    }
                }
            }
            round_over.await;
        }
    }

    /// Runs a round an async waiter leads (`syncing` is already set) on a thread of its own: on
    /// tokio's blocking threads it would queue behind the turns of the burst it is meant to
    /// finish. (A thread per round costs tens of microseconds against a sync's milliseconds.)
    /// The round covers every ticket taken by the time its thread runs.
    fn run_round_aside<F>(self: &Arc<Self>, sync: F)
    where
        F: FnOnce() -> Result<()> + Send + 'static,
    {
        // `sync` sits in a shared slot so that, when no thread can be spawned (the spawn takes
        // the closure with it), a copy of the same closure can still run it on the pool.
        let (group, once) = (Arc::clone(self), Arc::new(Mutex::new(Some(sync))));
        let run = move || {
            let Some(sync) = once.lock().unwrap_or_else(|e| e.into_inner()).take() else {
                return;
            };
            let round = {
                let state = group.lock();
                (state.covered, state.requested)
            };
            group.end_round(round, sync());
        };
        let spawned = std::thread::Builder::new()
            .name("store-sync".into())
            .spawn(run.clone());
        if spawned.is_err() {
            // No thread to be had: the blocking pool, later rather than never.
            tokio::task::spawn_blocking(run);
        }
    }

    /// Marks a round as running now; returns the tickets it covers, (from, upto].
    fn start_round(state: &mut State) -> (u64, u64) {
        state.syncing = true;
        (state.covered, state.requested)
    }

    fn end_round(&self, (from, upto): (u64, u64), synced: Result<()>) {
        {
            let mut state = self.lock();
            state.syncing = false;
            state.rounds += 1;
            match synced {
                Ok(()) => state.covered = state.covered.max(upto),
                Err(e) => state.failed = Some((from, upto, format!("{e:#}"))),
            }
        }
        self.round_over.notify_all();
        self.round_over_async.notify_waiters();
    }
}
