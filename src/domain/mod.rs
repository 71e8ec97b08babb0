//! Pure domain: money, schedules, penalty, allocation, settlement, bills and agreements
//! (SPEC 4.1–4.8).
//!
//! Invariants: no I/O, no clock (dates are parameters), no floats; every amount is `Money`.

pub mod account;
pub mod agreement;
pub mod case;
pub mod ledger;
pub mod money;
pub mod negotiation;
pub mod policy;
pub mod rate;
pub mod schedule;
pub mod view;

pub use account::{Account, IdLast4, Language, Order, Phone};
pub use agreement::{Agreements, Deferral, Restructure};
pub use case::{ApprovedPlan, CaseDocument, CaseStatus, HardshipCase};
pub use ledger::{Allocation, OrderLedger, Payment, PaymentError, PaymentKind, SettlementQuote};
pub use money::Money;
pub use policy::Policy;
pub use schedule::{Installment, Method, Terms};
pub use view::{AccountBill, InstallmentStatus, InstallmentView, NextDue, OrderView};
