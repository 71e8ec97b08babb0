//! A chat's bounded job queue: the router pushes, the chat's worker takes. When the queue is full
//! the job is dropped and the chat gets ONE notice until its queue has drained (a customer sending
//! faster than the bot can answer them loses the excess, not everyone's time).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Jobs a customer's chat may have waiting.
pub const CHAT_JOBS: usize = 10;
/// Jobs a support-group topic may have waiting (agents are few, but a busy topic is busy).
pub const GROUP_JOBS: usize = 100;

/// What became of a pushed job.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed<T> {
    Queued,
    /// Not queued: the queue is full. `notice`: the first drop since the queue last drained.
    Full {
        job: T,
        notice: bool,
    },
    /// The worker is gone: the job comes back (start a new worker with it).
    Closed(T),
}

/// The pushing end.
pub struct JobQueue<T> {
    tx: mpsc::Sender<T>,
    noticed: Arc<AtomicBool>,
}

/// The worker's end.
pub struct Jobs<T> {
    rx: mpsc::Receiver<T>,
    noticed: Arc<AtomicBool>,
}

/// A queue holding at most `capacity` jobs (at least one).
pub fn bounded<T>(capacity: usize) -> (JobQueue<T>, Jobs<T>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let noticed = Arc::new(AtomicBool::new(false));
    let queue = JobQueue {
        tx,
        noticed: Arc::clone(&noticed),
    };
    (queue, Jobs { rx, noticed })
}

impl<T> JobQueue<T> {
    pub fn push(&self, job: T) -> Pushed<T> {
        crate::ops::metrics::replies_queued_by(1);
        let pushed = self.tx.try_send(job);
        if pushed.is_err() {
            crate::ops::metrics::replies_queued_by(-1);
        }
        match pushed {
            Ok(()) => Pushed::Queued,
            Err(mpsc::error::TrySendError::Full(job)) => Pushed::Full {
                job,
                notice: !self.noticed.swap(true, Ordering::SeqCst),
            },
            Err(mpsc::error::TrySendError::Closed(job)) => Pushed::Closed(job),
        }
    }
}

impl<T> Jobs<T> {
    /// The next job (None once every pushing end is gone). Taking the last waiting job ends a
    /// full spell: a later overflow gets a new notice.
    pub async fn next(&mut self) -> Option<T> {
        let job = self.rx.recv().await?;
        crate::ops::metrics::replies_queued_by(-1);
        if self.rx.is_empty() {
            self.noticed.store(false, Ordering::SeqCst);
        }
        Some(job)
    }

    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }
}

impl<T> Drop for Jobs<T> {
    /// Jobs left behind by a worker that stops no longer wait (`repaybot_replies_queued`).
    fn drop(&mut self) {
        crate::ops::metrics::replies_queued_by(-(self.rx.len() as i64));
    }
}
