//! The reminder rules of SPEC 4.10 as pure functions: the operator's defaults, the customer's
//! choices, which installments a day's message covers and the next day anything is due.
//! Everything is derived from order views (deferred and restructured plans included), never
//! from raw schedule fields; no clock, no I/O.

use crate::domain::{InstallmentStatus, Money, OrderView};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// The operator's reminder settings (`[reminders]` in the config file), SPEC 4.10 defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemindPolicy {
    /// Days before a due date (0 = on the day).
    pub days_before: Vec<u32>,
    /// Local time of day of every proactive message (`HH:MM` in the file).
    #[serde(with = "hhmm")]
    pub at: NaiveTime,
    /// Days after a due date on which an overdue notice goes out.
    pub overdue_days: Vec<u32>,
    /// Quiet hours, start to end (`HH:MM` in the file): nothing proactive inside.
    #[serde(with = "hhmm")]
    pub quiet_start: NaiveTime,
    #[serde(with = "hhmm")]
    pub quiet_end: NaiveTime,
    /// Proactive messages per second over all chats (Telegram allows about 30).
    pub messages_per_second: u32,
    /// How long "pause" pauses pre-due reminders.
    pub pause_days: u32,
    /// Minutes before a failed delivery is tried again (three tries a day).
    pub retry_minutes: u32,
    /// Send reminders as Telegram paid broadcasts (`allow_paid_broadcast`): up to 1,000 a
    /// second outside the free limit of about 30, for 0.1 Telegram Stars per message, taken
    /// from the bot's balance. `messages_per_second` may then be up to 1,000.
    pub paid_broadcast: bool,
}

impl Default for RemindPolicy {
    fn default() -> Self {
        RemindPolicy {
            days_before: vec![3, 1, 0],
            at: hour(10),
            overdue_days: vec![1, 3, 7, 15, 30],
            quiet_start: hour(21),
            quiet_end: hour(9),
            messages_per_second: 30,
            pause_days: 30,
            retry_minutes: 10,
            paid_broadcast: false,
        }
    }
}

/// Days before a due date a customer may choose.
pub const MAX_DAYS_BEFORE: u32 = 7;

pub fn parse_hhmm(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

/// `h`:00 (0–23).
fn hour(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// A time of day in the config file: `HH:MM`, read into a `NaiveTime` once (a bad one names
/// its key and stops the start).
mod hhmm {
    use chrono::NaiveTime;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_hhmm(&text)
            .ok_or_else(|| D::Error::custom(format!("must be a time HH:MM, got '{text}'")))
    }
}

impl RemindPolicy {
    /// Every problem with the settings, one message each (empty when valid).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.days_before.iter().any(|d| *d > MAX_DAYS_BEFORE) {
            p.push(format!(
                "reminders.days_before must list 0 to {MAX_DAYS_BEFORE} days"
            ));
        }
        if self.overdue_days.iter().any(|d| *d == 0 || *d > 365) {
            p.push("reminders.overdue_days must list 1 to 365 days".into());
        }
        if self.paid_broadcast && !(1..=1000).contains(&self.messages_per_second) {
            p.push("reminders.messages_per_second must be 1 to 1000 (paid broadcasts)".into());
        } else if !self.paid_broadcast && !(1..=30).contains(&self.messages_per_second) {
            p.push("reminders.messages_per_second must be 1 to 30 (Telegram's limit)".into());
        }
        if !(1..=365).contains(&self.pause_days) {
            p.push("reminders.pause_days must be 1 to 365".into());
        }
        if !(1..=720).contains(&self.retry_minutes) {
            p.push("reminders.retry_minutes must be 1 to 720".into());
        }
        if p.is_empty() && self.is_quiet(self.send_time()) {
            p.push("reminders.at falls inside the quiet hours".into());
        }
        if p.is_empty() && self.quiet_start == self.quiet_end {
            p.push("reminders.quiet_start and quiet_end must differ".into());
        }
        p
    }

    pub fn send_time(&self) -> NaiveTime {
        self.at
    }

    fn quiet_bounds(&self) -> (NaiveTime, NaiveTime) {
        (self.quiet_start, self.quiet_end)
    }

    /// Whether a local time of day is inside the quiet hours.
    pub fn is_quiet(&self, t: NaiveTime) -> bool {
        let (start, end) = self.quiet_bounds();
        if start > end {
            t >= start || t < end
        } else {
            t >= start && t < end
        }
    }

    /// When the quiet hours end (local time of day).
    pub fn quiet_end_time(&self) -> NaiveTime {
        self.quiet_bounds().1
    }

    /// Seconds a day outside the quiet hours.
    pub fn allowed_seconds_per_day(&self) -> i64 {
        let (start, end) = self.quiet_bounds();
        let quiet = if start > end {
            (NaiveTime::MIN - start).num_seconds() + 86_400 + (end - NaiveTime::MIN).num_seconds()
        } else {
            (end - start).num_seconds()
        };
        (86_400 - quiet.rem_euclid(86_400)).max(0)
    }
}

/// A customer's reminder choices, stored as `remind/<account>` in the chat tree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefs {
    /// First reminder this many days before (then the day before and on the day); None: policy.
    pub days_before: Option<u32>,
    /// Local time `HH:MM`; None: policy.
    pub at: Option<String>,
    /// Pre-due reminders paused through this date.
    pub paused_until: Option<NaiveDate>,
    /// Pre-due reminders stopped until turned on again.
    pub pre_due_off: bool,
    /// One-off reminder dates the customer asked for.
    pub one_offs: Vec<NaiveDate>,
}

impl Prefs {
    /// The days before a due date on which a reminder goes out, largest first.
    pub fn days(&self, policy: &RemindPolicy) -> Vec<u32> {
        let mut days: Vec<u32> = match self.days_before {
            None => policy.days_before.clone(),
            Some(n) => [n, 1, 0].into_iter().filter(|d| *d <= n).collect(),
        };
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        days
    }

    pub fn send_time(&self, policy: &RemindPolicy) -> NaiveTime {
        self.at
            .as_deref()
            .and_then(parse_hhmm)
            .filter(|t| !policy.is_quiet(*t))
            .unwrap_or_else(|| policy.send_time())
    }

    /// Whether pre-due reminders go out on `date`.
    pub fn pre_due_on(&self, date: NaiveDate) -> bool {
        !self.pre_due_off && self.paused_until.is_none_or(|until| date > until)
    }
}

/// Why an installment is in a message, as of the message's day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Due in this many days (at least 1).
    Before(i64),
    DueToday,
    /// This many days past its due date.
    Overdue(i64),
    /// A planned notice for an installment not yet late: this many days past its due date, if
    /// it stays unpaid (only in the plan views, never in a message).
    OverdueIfUnpaid(i64),
}

/// One installment a message mentions, with what remains of it on the message's day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub order_id: String,
    pub item: String,
    pub n: u32,
    pub due_date: NaiveDate,
    pub amount: Money,
    pub kind: Kind,
}

pub fn kind_on(day: NaiveDate, due: NaiveDate) -> Kind {
    let d = (due - day).num_days();
    match d {
        0 => Kind::DueToday,
        d if d > 0 => Kind::Before(d),
        d => Kind::Overdue(-d),
    }
}

/// Installments still owed (not paid, not closed by a restructuring): the only ones reminded of.
fn open_installments(views: &[OrderView]) -> impl Iterator<Item = (&OrderView, usize)> {
    views.iter().flat_map(|o| {
        o.installments
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                i.remaining.is_positive() && i.status != InstallmentStatus::Restructured
            })
            .map(move |(k, _)| (o, k))
    })
}

/// Every day (on or after `from`) on which something may be reminded of, with the views of
/// one day. Overdue days are listed even when notices are paused: the pause is checked when
/// the day comes, so closing a dispute needs no reschedule to resume them.
pub fn fire_dates(
    views: &[OrderView],
    prefs: &Prefs,
    policy: &RemindPolicy,
    from: NaiveDate,
) -> BTreeSet<NaiveDate> {
    let days = prefs.days(policy);
    let mut out = BTreeSet::new();
    for (o, k) in open_installments(views) {
        let due = o.installments[k].due_date;
        for d in &days {
            if let Some(day) = due.checked_sub_days(Days::new(u64::from(*d))) {
                if day >= from && prefs.pre_due_on(day) {
                    out.insert(day);
                }
            }
        }
        for d in &policy.overdue_days {
            if let Some(day) = due.checked_add_days(Days::new(u64::from(*d))) {
                if day >= from {
                    out.insert(day);
                }
            }
        }
    }
    out.extend(prefs.one_offs.iter().filter(|d| **d >= from));
    out
}

/// What one proactive message on `to` covers: every open installment with a reminder day in
/// `from..=to` (more than one day only after downtime: one catch-up message), described as of
/// `to` with `views` computed on `to`. Overdue items are left out while notices are paused.
pub fn due_in_window(
    views: &[OrderView],
    prefs: &Prefs,
    policy: &RemindPolicy,
    overdue_paused: bool,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Item> {
    let days = prefs.days(policy);
    let in_window = |day: Option<NaiveDate>| day.is_some_and(|d| d >= from && d <= to);
    let one_off = prefs.one_offs.iter().any(|d| *d >= from && *d <= to);
    let mut out = Vec::new();
    for (o, k) in open_installments(views) {
        let inst = &o.installments[k];
        let due = inst.due_date;
        let pre = days.iter().any(|d| {
            let day = due.checked_sub_days(Days::new(u64::from(*d)));
            in_window(day) && day.is_some_and(|x| prefs.pre_due_on(x))
        });
        let late = policy
            .overdue_days
            .iter()
            .any(|d| in_window(due.checked_add_days(Days::new(u64::from(*d)))));
        let next = o.next_due.as_ref().is_some_and(|n| n.date == due);
        let asked = one_off && (next || due < to);
        let kind = kind_on(to, due);
        if overdue_paused && matches!(kind, Kind::Overdue(_)) {
            continue;
        }
        if pre || late || asked {
            out.push(Item {
                order_id: o.order.id.clone(),
                item: o.order.item.clone(),
                n: inst.n,
                due_date: due,
                amount: inst.remaining,
                kind,
            });
        }
    }
    out
}

/// The next `count` reminder days from `from`, each with what it would cover (amounts as of
/// the views' day): the plan shown to the customer and to the operator. The overdue notices of
/// an installment not yet late are listed as what follows if it stays unpaid
/// (`Kind::OverdueIfUnpaid`).
pub fn upcoming(
    views: &[OrderView],
    prefs: &Prefs,
    policy: &RemindPolicy,
    overdue_paused: bool,
    from: NaiveDate,
    count: usize,
) -> Vec<(NaiveDate, Vec<Item>)> {
    let today = views.first().map_or(from, |v| v.today);
    fire_dates(views, prefs, policy, from)
        .into_iter()
        .map(|day| {
            let mut items = due_in_window(views, prefs, policy, overdue_paused, day, day);
            for i in &mut items {
                if let (Kind::Overdue(n), true) = (i.kind, i.due_date >= today) {
                    i.kind = Kind::OverdueIfUnpaid(n);
                }
            }
            (day, items)
        })
        .filter(|(_, items)| !items.is_empty())
        .take(count)
        .collect()
}

/// A time of day typed by a customer: `18:00`, `9:30`, `18点`, `下午3点`, `晚上8点半`, `3pm`.
pub fn parse_time_of_day(text: &str) -> Option<NaiveTime> {
    let t: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '：' => ':',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let digits_at = t.find(|c: char| c.is_ascii_digit())?;
    let rest = &t[digits_at..];
    let hour_len = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let mut hour: u32 = rest[..hour_len].parse().ok()?;
    let after = rest[hour_len..].trim_start();
    let mut minute = 0;
    if let Some(m) = after.strip_prefix(':') {
        let len = m.find(|c: char| !c.is_ascii_digit()).unwrap_or(m.len());
        minute = m[..len].parse().ok()?;
    } else if let Some(m) = after.strip_prefix('点') {
        if m.starts_with('半') {
            minute = 30;
        }
    } else if !(after.starts_with("pm") || after.starts_with("am")) {
        return None;
    }
    let before = &t[..digits_at];
    let afternoon = ["下午", "晚上", "傍晚", "中午"]
        .iter()
        .any(|w| before.contains(w))
        || after.contains("pm");
    if afternoon && hour < 12 {
        hour += 12;
    }
    NaiveTime::from_hms_opt(hour, minute, 0)
}

/// When each of a day's wakes (earliest first) can really go at `per_second` messages a second,
/// never before its own wake: a crowded second's overflow moves on to the next second with room,
/// in the order given (earliest due first). `allowed(key, at)` moves an instant out of the
/// wake's quiet hours (to their end); a wake moved there takes the first free second from then
/// without holding up the wakes after it.
pub fn spread<K>(
    wakes: &[(DateTime<Utc>, K)],
    per_second: u32,
    allowed: impl Fn(&K, DateTime<Utc>) -> DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let per_second = per_second.max(1);
    let mut used: HashMap<i64, u32> = HashMap::new();
    let mut cursor: Option<DateTime<Utc>> = None;
    let mut out = Vec::with_capacity(wakes.len());
    let free_from = |used: &mut HashMap<i64, u32>, mut at: DateTime<Utc>| {
        while used.get(&at.timestamp()).is_some_and(|n| *n >= per_second) {
            at += chrono::Duration::seconds(1);
        }
        *used.entry(at.timestamp()).or_default() += 1;
        at
    };
    for (wake, key) in wakes {
        let at = cursor.map_or(*wake, |c| c.max(*wake));
        let mut slot = at;
        while used
            .get(&slot.timestamp())
            .is_some_and(|n| *n >= per_second)
        {
            slot += chrono::Duration::seconds(1);
        }
        let moved = allowed(key, slot);
        if moved == slot {
            *used.entry(slot.timestamp()).or_default() += 1;
            cursor = Some(slot);
            out.push(slot);
        } else {
            out.push(free_from(&mut used, moved));
        }
    }
    out
}
