//! The names the dialogs and the app share: events the app sends into a conversation, the
//! slots a message carries, the vars, and `known()` for `dialogs check`, built from the action
//! and effect tables; plus the check that every handler is named by some state.

use super::{actions, effects, negotiation};
use crate::dialog::{self, Known};
use anyhow::Result;

/// Events the app sends back into a conversation.
pub const EVENTS: &[&str] = &[
    "payment_ok",
    "payment_failed",
    "payment_pending",
    "payment_refused",
    "payment_later",
    "bound",
    "bind_refused",
    "done",
    "ticket_opened",
    "agreed",
    "agreement_refused",
    "case_opened",
    "remind_plan",
    "remind_saved",
    "remind_added",
    "remind_bad_date",
    "remind_bad_days",
    "remind_bad_time",
    "remind_ics",
    "remind_none",
];
/// Slots a message can carry: the NLU's and the app's own (`phone` only from a shared contact,
/// `typed_phone` a number typed as text, id_last4, card; `note` is the message's own words,
/// `document` a file the customer sent: file id TAB name).
pub const SLOTS: &[&str] = &[
    "amount",
    "date",
    "days",
    "periods",
    "order_id",
    "phone",
    "typed_phone",
    "id_last4",
    "card",
    "note",
    "document",
    "time",
];

/// The names `dialogs check` accepts.
pub fn known() -> Known {
    let own = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Known {
        intents: crate::nlu::Intent::ALL
            .iter()
            .map(|i| i.as_str().to_string())
            .collect(),
        slots: own(SLOTS),
        actions: actions::action_table()
            .map(|(name, _)| name.to_string())
            .collect(),
        effects: effects::EFFECTS
            .iter()
            .map(|(name, _)| name.to_string())
            .collect(),
        events: own(EVENTS),
        vars: own(&[
            actions::VARS,
            negotiation::VARS,
            crate::support::TEXT_VARS,
            crate::payments::TEXT_VARS,
        ]
        .concat()),
    }
}

/// Every action and effect handler is named by some dialog state: a handler nothing uses is a
/// renamed or forgotten state, refused at start-up like an unknown name.
pub fn check_handlers_used(flows: &dialog::Flows) -> Result<()> {
    let (actions, effects) = flows.names_used();
    let unused: Vec<&str> = actions::action_table()
        .map(|(n, _)| *n)
        .filter(|n| !actions.contains(*n))
        .chain(
            effects::EFFECTS
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| !effects.contains(*n)),
        )
        .collect();
    match unused.is_empty() {
        true => Ok(()),
        false => Err(anyhow::anyhow!(
            "handlers no dialog state names: {}",
            unused.join(", ")
        )),
    }
}
