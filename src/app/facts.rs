//! What the actions of one step may read from the store. Each read keeps the first store error
//! it meets; the step then fails with that error, so an error never reads as an empty history,
//! "no auto-debit", "no such phone" or a failed binding attempt.

use crate::domain::{Account, HardshipCase, Payment};
use crate::store::{BindSubject, LastPaid, PendingPayment, Store};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::cell::RefCell;

pub(super) struct Facts<'a> {
    store: &'a Store,
    chat: &'a str,
    account: Option<&'a Account>,
    now: DateTime<Utc>,
    /// The first store error of the step.
    pub(super) error: RefCell<Option<anyhow::Error>>,
}

impl<'a> Facts<'a> {
    pub(super) fn new(
        store: &'a Store,
        chat: &'a str,
        account: Option<&'a Account>,
        now: DateTime<Utc>,
    ) -> Facts<'a> {
        Facts {
            store,
            chat,
            account,
            now,
            error: RefCell::new(None),
        }
    }

    /// The value, or None with the error kept.
    fn keep<T>(&self, read: Result<T>) -> Option<T> {
        read.map_err(|e| {
            self.error.borrow_mut().get_or_insert(e);
        })
        .ok()
    }

    pub(super) fn account_by_phone(&self, phone: &str) -> Option<Account> {
        let found = self
            .store
            .account_id_by_phone(phone)
            .and_then(|id| match id {
                Some(id) => Ok(self.store.account(&id)?.map(|s| s.data)),
                None => Ok(None),
            });
        self.keep(found).flatten()
    }

    /// Locked when the store cannot say (and the error fails the step anyway).
    pub(super) fn account_locked(&self, id: &str) -> bool {
        let locked = self.store.bind_locked(BindSubject::Account(id), self.now);
        self.keep(locked).unwrap_or(true)
    }

    /// The chat's last payment when it was made within `minutes`.
    pub(super) fn recent_paid(&self, minutes: i64) -> Option<LastPaid> {
        let last = self.keep(self.store.last_paid(self.chat)).flatten()?;
        (self.now - last.at < chrono::Duration::minutes(minutes)).then_some(last)
    }

    pub(super) fn autopay_card(&self, order: &str) -> Option<String> {
        self.keep(self.store.autopay_card(order)).flatten()
    }

    pub(super) fn payments_of(&self, order: &str) -> Vec<Payment> {
        self.keep(self.store.payments_of(order)).unwrap_or_default()
    }

    pub(super) fn pending_case(&self) -> Option<HardshipCase> {
        let account = self.account?;
        self.keep(self.store.pending_case(&account.id)).flatten()
    }

    pub(super) fn open_payments(&self) -> Vec<PendingPayment> {
        self.keep(self.store.open_payments_of(self.chat))
            .unwrap_or_default()
    }
}
