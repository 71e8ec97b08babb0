//! The sled store: one documented key layout, versioned records, multi-tree changes in one
//! transaction, flushed before anything is reported done.
//!
//! Key layout (every value is JSON `{"v": VERSION, "origin": "file:line", "data": ...}`):
//!
//! | tree             | key                                          | value                     |
//! |------------------|----------------------------------------------|---------------------------|
//! | `accounts`       | account_id                                   | `Stored<Account>`         |
//! | `phones`         | 11-digit phone                               | account_id                |
//! | `orders`         | order_id                                     | `Stored<Order>`           |
//! | `account_orders` | account_id 0x00 order_id                     | annual rate text, "13.03" |
//! | `payments`       | payment_id                                   | `Stored<PaymentRow>`      |
//! | `order_payments` | order_id 0x00 paid_on (YYYY-MM-DD) 0x00 id   | compact payment (below)   |
//! | `order_rev`      | order_id                                     | u64 big-endian revision   |
//! | `order_rev`      | `\0payment_seq`                              | u64 BE: last recording sequence of payments |
//! | `order_rev`      | `\0import_pending`                           | JSON journal of a chunked import in progress |
//! | `idempotency`    | idempotency key of a chat payment            | payment_id                |
//! | `sessions`       | chat key (e.g. `term:A1001`, `tg:12345`)      | `Stored<Session>`         |
//! | `chat`           | `bind/<chat>`                                | `Stored<String>` account  |
//! | `chat`           | `bound/<account_id>`                         | `Stored<String>` chat     |
//! | `bind_guard`     | `chat/<chat>`, `account/<account_id>`        | `Stored<BindFailures>` (bind_guard.rs; kept by `/forget`) |
//! | `outbox`         | `o` 0x00 chat 0x00 id, `p` 0x00 chat         | replies owed, the chat's last payment (outbox.rs) |
//! | `chat`           | `autopay/<order_id>`                         | `Stored<String>` card ****|
//! | `cases`          | `case/<20-digit number>`                     | `Stored<HardshipCase>`    |
//! | `cases`          | `next`                                       | u64 big-endian: last number |
//!
//! Agreements (deferral, re-installment) live on the order record (`Order::agreements`); a
//! re-installment writes the closed order, its new plan `ORDER-R1` (with `account_orders`
//! entry) and the down payment in one transaction guarded by `order_rev`.
//!
//! | `support`        | `seq`                                        | u64 big-endian: last ticket number |
//! | `support`        | `t/<20-digit number>`                        | `Stored<Ticket>`          |
//! | `support`        | `open/<chat>`                                | open ticket number (text) |
//! | `support`        | `thread/<message_thread_id>`                 | ticket number (text)      |
//! | `support`        | `gmsg/<group message id>`                    | ticket number (text)      |
//! | `support`        | `seen/<c/chat/msg id or g/msg id>`           | `1`: relayed once already |
//! | `support`        | `tx/<chat>`                                  | `Stored<Vec<TranscriptTurn>>`, last 20 |
//! | `support`        | `cfg`                                        | `Stored<DeskOverrides>` (alias, hours) |
//! | `chat`           | `remind/<account_id>`                        | `Stored<reminders::Prefs>`|
//! | `remind_due`     | UTC seconds (i64 BE, sign bit flipped) account_id | empty: the next wake |
//! | `remind_state`   | account_id                                   | `Stored<RemindState>`     |
//!
//! `remind_due` holds one entry per account, its next reminder instant, so a range scan up to
//! now finds every account with something due; `remind_state` (handled-through date, last day
//! sent, the wake) changes in the same transaction as its index entry (src/reminders/index.rs).
//! | `updates`        | Telegram update id, u64 big-endian           | empty (processed marker)  |
//! | `events`         | UTC seconds (i64 BE, sign flipped), seq u64 BE | operations event (events.rs) |
//! | `events_chat`    | chat 0x00 `events` key                       | empty: the chat's events  |
//! | `pending_payments` | `p/<payment_id>`, `k/<confirm key>`       | payments started at the payment API (pending_payments.rs) |
//!
//! `order_payments` sorts by date then id, so an order's payments come back by date from one
//! prefix scan, and each value is the payment itself (`records::payment_index_value`: tag 2,
//! kind, `Decimal::serialize` amount, paid_on days, recording sequence; tag 1 has no sequence)
//! so a statement reads no `payments` record. Replay order is date, then recording sequence
//! (one per chat payment or import file, from `\0payment_seq`), then id (`sort_for_replay`). The `account_orders` value is the order's disclosed annual rate (`view::annual_rate_of`),
//! computed once at import. Both values are derived copies: an empty value (older data) is
//! recomputed from `orders` / `payments` on read. Per-chat records are keyed `<kind>/<chat>` so
//! `Store::forget_chat` (privacy.rs) finds them. `order_rev` is bumped by every payment so concurrent writers conflict.

mod agreements;
mod bind_guard;
mod blocked;
mod cases;
mod chat_records;
pub mod events;
pub mod group_commit;
mod import_commit;
pub mod kept_messages;
mod outbox;
mod pending_payments;
mod privacy;
mod records;
pub mod remind_index;
mod sessions;
mod tickets;
mod writes;

pub use agreements::{AgreementOutcome, RestructureRequest};
pub use bind_guard::{BindFailures, BindSubject, BIND_LOCK_MINUTES, MAX_BIND_FAILURES};
pub use import_commit::ImportBatch;
pub use outbox::{owed_key, receipt_writes, LastPaid, Owed, OwedEntry, OwedKind};
pub use pending_payments::{Applied, Notices, PendingPayment, PendingStatus};
pub use privacy::UPDATES_KEPT;
pub use records::{PaymentRow, Stored, RECORD_VERSION};
pub use sessions::LoadedSession;
pub use tickets::{
    close as close_ticket, AgentRef, Decision, DecisionKind, NewTicket, Note, SupportForgotten,
    Ticket, TicketReason, TicketStatus, TranscriptTurn, TRANSCRIPT_TURNS,
};
pub use writes::{PaymentOutcome, PaymentWriteError};

use crate::domain::{view, Account, AccountBill, Order, Payment, Policy};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::path::Path;

/// Handle to the database; cheap to clone (sled trees are reference-counted).
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    flushes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    group_commit: std::sync::Arc<group_commit::GroupCommit>,
    pub(crate) accounts: sled::Tree,
    pub(crate) phones: sled::Tree,
    pub(crate) orders: sled::Tree,
    pub(crate) account_orders: sled::Tree,
    pub(crate) payments: sled::Tree,
    pub(crate) order_payments: sled::Tree,
    pub(crate) order_rev: sled::Tree,
    pub(crate) idempotency: sled::Tree,
    pub(crate) sessions: sled::Tree,
    pub(crate) chat: sled::Tree,
    pub(crate) cases: sled::Tree,
    pub(crate) support: sled::Tree,
    pub(crate) remind_due: sled::Tree,
    pub(crate) remind_state: sled::Tree,
    pub(crate) updates: sled::Tree,
    pub(crate) bind_guard: sled::Tree,
    pub(crate) outbox: sled::Tree,
    pub(crate) pending: sled::Tree,
}

/// Sorts payments with their recording sequence into replay order: date, sequence, id. A
/// payment not yet recorded takes `u64::MAX`: it goes after every recorded one of its day.
pub fn sort_for_replay(payments: &mut [(u64, Payment)]) {
    payments.sort_by(|(sa, a), (sb, b)| (a.paid_on, sa, &a.id).cmp(&(b.paid_on, sb, &b.id)));
}

/// Separator inside composite keys; ids never contain it (the importer refuses control chars).
pub const SEP: u8 = 0;

pub fn composite_key(parts: &[&str]) -> Vec<u8> {
    let mut key = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            key.push(SEP);
        }
        key.extend_from_slice(p.as_bytes());
    }
    key
}

impl Store {
    /// Opens (or creates) the database folder. One process per folder (sled's file lock).
    pub fn open(dir: &Path) -> Result<Store> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(64 * 1024 * 1024)
            .open()
            .with_context(|| {
                format!(
                    "cannot open the data folder {} (is another repaybot using it?)",
                    dir.display()
                )
            })?;
        Store::from_db(db)
    }

    /// A throw-away database for tests and benchmarks.
    pub fn temporary() -> Result<Store> {
        Store::from_db(sled::Config::new().temporary(true).open()?)
    }

    fn from_db(db: sled::Db) -> Result<Store> {
        let store = Store {
            accounts: db.open_tree("accounts")?,
            phones: db.open_tree("phones")?,
            orders: db.open_tree("orders")?,
            account_orders: db.open_tree("account_orders")?,
            payments: db.open_tree("payments")?,
            order_payments: db.open_tree("order_payments")?,
            order_rev: db.open_tree("order_rev")?,
            idempotency: db.open_tree("idempotency")?,
            sessions: db.open_tree("sessions")?,
            chat: db.open_tree("chat")?,
            cases: db.open_tree("cases")?,
            support: db.open_tree("support")?,
            remind_due: db.open_tree("remind_due")?,
            remind_state: db.open_tree("remind_state")?,
            updates: db.open_tree("updates")?,
            bind_guard: db.open_tree("bind_guard")?,
            outbox: db.open_tree("outbox")?,
            pending: db.open_tree("pending_payments")?,
            db,
            flushes: Default::default(),
            group_commit: Default::default(),
        };
        store.recover_import()?;
        Ok(store)
    }

    /// How many times this store (any clone of it) was asked to flush: a debug figure, since a
    /// turn should cost one.
    pub fn flushes(&self) -> u64 {
        self.flushes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Blocks until everything written so far is on disk (concurrent callers share one sync).
    pub fn flush(&self) -> Result<()> {
        let ticket = self.flush_ticket();
        self.wait_durable(ticket)
    }

    /// A flush request covering everything written so far; [`Store::wait_durable`] or
    /// [`Store::durable`] waits for it. Counted in [`Store::flushes`].
    pub fn flush_ticket(&self) -> group_commit::Ticket {
        self.flushes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.group_commit.ticket()
    }

    /// Blocks until `ticket` is durable (concurrent callers share one sync).
    pub fn wait_durable(&self, ticket: group_commit::Ticket) -> Result<()> {
        self.group_commit.wait(ticket, || sync_db(&self.db))
    }

    /// Waits, holding no thread, until `ticket` is durable: the async front ends' flush, so
    /// that every turn of a burst waiting for its sync shares it with the others.
    pub async fn durable(&self, ticket: group_commit::Ticket) -> Result<()> {
        let db = self.db.clone();
        self.group_commit
            .wait_async(ticket, move || sync_db(&db))
            .await
    }

    /// Disk syncs run so far (a debug figure: [`Store::flushes`] shared them).
    pub fn syncs(&self) -> u64 {
        self.group_commit.rounds()
    }

    /// A new id for a payment made in the chat, unique by construction: the day, the account
    /// and a number from the store's id generator (sled's `generate_id`, never repeated, also
    /// after a crash): `C20261121-A1003-000123`.
    pub fn new_payment_id(&self, account_id: &str, today: NaiveDate) -> Result<String> {
        let n = self.db.generate_id().context("generating a payment id")?;
        Ok(format!("C{}-{account_id}-{n:06}", today.format("%Y%m%d")))
    }

    /// Raw access to the sessions tree, for diagnostics and for tests that plant a damaged record.
    pub fn sessions_tree(&self) -> &sled::Tree {
        &self.sessions
    }

    pub fn has_accounts(&self) -> bool {
        !self.accounts.is_empty()
    }

    pub fn account(&self, id: &str) -> Result<Option<Stored<Account>>> {
        records::get(&self.accounts, id.as_bytes())
    }

    /// Every account id, in order.
    pub fn account_ids(&self) -> Result<Vec<String>> {
        self.accounts
            .iter()
            .keys()
            .map(|k| Ok(String::from_utf8_lossy(&k?).into_owned()))
            .collect()
    }

    pub fn account_id_by_phone(&self, phone: &str) -> Result<Option<String>> {
        Ok(self
            .phones
            .get(phone.as_bytes())?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn order(&self, id: &str) -> Result<Option<Stored<Order>>> {
        records::get(&self.orders, id.as_bytes())
    }

    pub fn payment(&self, id: &str) -> Result<Option<Stored<PaymentRow>>> {
        records::get(&self.payments, id.as_bytes())
    }

    /// The account's orders, by order id.
    pub fn orders_of(&self, account_id: &str) -> Result<Vec<Order>> {
        Ok(self
            .orders_and_rates_of(account_id)?
            .into_iter()
            .map(|(o, _)| o)
            .collect())
    }

    /// The account's orders with the annual rate stored at import (None for older data).
    fn orders_and_rates_of(&self, account_id: &str) -> Result<Vec<(Order, Option<Decimal>)>> {
        let mut prefix = account_id.as_bytes().to_vec();
        prefix.push(SEP);
        let mut out = Vec::new();
        for entry in self.account_orders.scan_prefix(&prefix) {
            let (key, value) = entry?;
            let rate = std::str::from_utf8(&value)
                .ok()
                .and_then(|t| t.parse::<Decimal>().ok());
            if let Some(o) = records::get(&self.orders, &key[prefix.len()..])? {
                out.push((o.data, rate));
            }
        }
        Ok(out)
    }

    /// The order's payments in allocation order: by date, then by when they were recorded (then
    /// id, which orders the rows of one import file).
    pub fn payments_of(&self, order_id: &str) -> Result<Vec<Payment>> {
        Ok(self
            .recorded_payments_of(order_id)?
            .into_iter()
            .map(|(_, p)| p)
            .collect())
    }

    /// `payments_of` with each payment's recording sequence (0 for older data).
    pub fn recorded_payments_of(&self, order_id: &str) -> Result<Vec<(u64, Payment)>> {
        let mut prefix = order_id.as_bytes().to_vec();
        prefix.push(SEP);
        let mut out = Vec::new();
        for entry in self.order_payments.scan_prefix(&prefix) {
            let (key, value) = entry?;
            let id_start = key
                .iter()
                .rposition(|b| *b == SEP)
                .map_or(key.len(), |i| i + 1);
            let payment_id = String::from_utf8_lossy(&key[id_start..]).into_owned();
            if let Some(p) = records::payment_from_index(&payment_id, &value) {
                out.push((p.1, p.0));
                continue;
            }
            let row = self
                .payment(&payment_id)?
                .with_context(|| format!("index names payment {payment_id} that is missing"))?;
            out.push((row.data.seq, row.data.payment));
        }
        sort_for_replay(&mut out);
        Ok(out)
    }

    /// The account's bill on `today`: every order replayed with its payments.
    pub fn bill(&self, account_id: &str, today: NaiveDate, policy: &Policy) -> Result<AccountBill> {
        let mut orders = Vec::new();
        for (order, rate) in self.orders_and_rates_of(account_id)? {
            let payments = self.payments_of(&order.id)?;
            let v = view::order_view_at_rate(&order, rate, &payments, today, policy).map_err(
                |(i, e)| {
                    anyhow::anyhow!(
                        "stored payment {} of order {} is invalid: {e}",
                        payments[i].id,
                        order.id
                    )
                },
            )?;
            orders.push(v);
        }
        Ok(AccountBill {
            account_id: account_id.to_string(),
            today,
            orders,
        })
    }
}

fn sync_db(db: &sled::Db) -> Result<()> {
    db.flush().context("flushing the database")?;
    Ok(())
}
