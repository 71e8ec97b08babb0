//! The one clock: where every part of the bot reads "now" and "today". Built once from the
//! command line (`--today`, `--clock-start`) and carried by the [`Core`](crate::core::Core), so turns,
//! the support desk, the reminder scheduler and the operators' commands see the same instant and
//! the same calendar day. This is the only module that reads the wall clock.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use std::sync::{Arc, Mutex};

/// The house time zone: a chat not bound to an account lives in it, and `--today` names a day
/// in it.
pub const HOUSE_TZ: Tz = chrono_tz::Asia::Shanghai;

/// Where time comes from. Cheap to clone; clones share a manual clock's setting.
#[derive(Clone, Debug)]
pub struct Clock {
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    /// The system clock.
    System,
    /// `--today`: every zone's calendar day is `day`; `now()` is the real instant moved by whole
    /// days so that it falls on `day` in the house zone (the real time of day).
    OnDay { day: NaiveDate, shift: Duration },
    /// `--clock-start`: the start instant plus the real time elapsed since.
    Shifted { shift: Duration },
    /// Tests: a start instant moved by tokio's (pausable) time.
    Tokio {
        start: DateTime<Utc>,
        base: tokio::time::Instant,
    },
    /// Tests: an instant set by hand.
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

/// The real instant, whatever `--today`/`--clock-start` say: only for comparing with
/// Telegram's own timestamps (the flood guard judges a message by its real date).
pub fn wall_now() -> DateTime<Utc> {
    Utc::now()
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock {
            source: Source::System,
        }
    }

    /// `--today`: the calendar day is `day` in every zone; the time of day is the real one.
    pub fn on_day(day: NaiveDate) -> Clock {
        let real = Utc::now().with_timezone(&HOUSE_TZ).date_naive();
        Clock {
            source: Source::OnDay {
                day,
                shift: Duration::days((day - real).num_days()),
            },
        }
    }

    /// `--clock-start`: `now()` is `start` plus the real time elapsed since this call.
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock {
            source: Source::Shifted {
                shift: start - Utc::now(),
            },
        }
    }

    /// The clock of the command line: `--clock-start` wins (the day follows it), else `--today`,
    /// else the system clock.
    pub fn from_options(today: Option<NaiveDate>, start: Option<DateTime<Utc>>) -> Clock {
        match (start, today) {
            (Some(start), _) => Clock::starting_at(start),
            (None, Some(day)) => Clock::on_day(day),
            (None, None) => Clock::system(),
        }
    }

    /// A test clock starting at `start` and following tokio's time (`tokio::time::pause` and
    /// `advance` move it).
    pub fn following_tokio(start: DateTime<Utc>) -> Clock {
        Clock {
            source: Source::Tokio {
                start,
                base: tokio::time::Instant::now(),
            },
        }
    }

    /// A test clock standing at `at` until [`Clock::set`] moves it.
    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock {
            source: Source::Manual(Arc::new(Mutex::new(at))),
        }
    }

    /// Moves a manual clock (and its clones) to `at`; other clocks ignore it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Source::Manual(cell) = &self.source {
            *cell.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.source {
            Source::System => Utc::now(),
            Source::OnDay { shift, .. } | Source::Shifted { shift } => Utc::now() + *shift,
            Source::Tokio { start, base } => {
                let elapsed = tokio::time::Instant::now() - *base;
                *start + Duration::from_std(elapsed).unwrap_or_default()
            }
            Source::Manual(cell) => *cell.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Today's calendar day in `tz`.
    pub fn today_in(&self, tz: Tz) -> NaiveDate {
        self.day_at(self.now(), tz)
    }

    /// Today's calendar day in the zone named `timezone` (an IANA name; the house zone when it
    /// is not one).
    pub fn today_for(&self, timezone: &str) -> NaiveDate {
        self.today_in(timezone.parse().unwrap_or(HOUSE_TZ))
    }

    /// The calendar day in `tz` at `now`, an instant this clock gave: under `--today` always
    /// that day, so the day never depends on which part of the bot asks or in which zone.
    pub fn day_at(&self, now: DateTime<Utc>, tz: Tz) -> NaiveDate {
        match &self.source {
            Source::OnDay { day, .. } => *day,
            _ => now.with_timezone(&tz).date_naive(),
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}
