//! The `[support]` settings: the support group, its agents and admins, support hours. Validated
//! at start-up; admins may override the alias and the hours from the group (kept in the store).

use crate::dialog::Lang;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// `[support]` in the config file.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportSettings {
    /// The Telegram supergroup where agents work (None: no support group; tickets are stored).
    pub group_id: Option<i64>,
    /// One forum topic per ticket (true) or tagged messages `#T12` in one chat (false).
    pub forum_topics: bool,
    /// Telegram user ids allowed to use admin commands (`/alias`, `/hours`).
    pub admins: Vec<i64>,
    /// `first_name`: customers see the agent's first name; anything else is an alias for all.
    pub agent_name: String,
    /// Support hours, `HH:MM-HH:MM`, in `timezone`.
    pub hours: String,
    pub timezone: String,
    /// A ticket waiting this long outside support hours gets an honest "we will reply at ...".
    pub wait_notice_minutes: u32,
    /// Language of the texts the group sees: `zh` or `en`.
    pub language: String,
}

impl Default for SupportSettings {
    fn default() -> Self {
        SupportSettings {
            group_id: None,
            forum_topics: true,
            admins: Vec::new(),
            agent_name: "first_name".into(),
            hours: "09:00-21:00".into(),
            timezone: "Asia/Shanghai".into(),
            wait_notice_minutes: 10,
            language: "zh".into(),
        }
    }
}

impl SupportSettings {
    /// Every problem of the section (empty when valid).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if Hours::parse(&self.hours).is_none() {
            out.push(format!(
                "support.hours '{}' is not HH:MM-HH:MM with start before end",
                self.hours
            ));
        }
        if self.timezone.parse::<Tz>().is_err() {
            out.push(format!(
                "support.timezone '{}' is not an IANA time zone",
                self.timezone
            ));
        }
        if self.agent_name.trim().is_empty() {
            out.push("support.agent_name is empty (use first_name or an alias)".into());
        }
        if !matches!(self.language.as_str(), "zh" | "en") {
            out.push(format!(
                "support.language '{}' is not zh or en",
                self.language
            ));
        }
        out
    }

    pub fn group_lang(&self) -> Lang {
        if self.language == "en" {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    pub fn tz(&self) -> Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }
}

/// What admins changed from the group; None keeps the config file's value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskOverrides {
    pub agent_name: Option<String>,
    pub hours: Option<String>,
}

/// Daily support hours (start inclusive, end exclusive), same day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Hours {
    pub fn parse(text: &str) -> Option<Hours> {
        let (a, b) = text.trim().split_once('-')?;
        let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
        let end = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
        (start < end).then_some(Hours { start, end })
    }

    /// `09:00-21:00`
    pub fn show(&self) -> String {
        format!(
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }

    pub fn is_open(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        let t = now.with_timezone(&tz).time();
        self.start <= t && t < self.end
    }

    /// When the desk opens next (now when open), in `tz`; `true` when that is another day.
    pub fn next_open(&self, now: DateTime<Utc>, tz: Tz) -> (DateTime<Tz>, bool) {
        let local = now.with_timezone(&tz);
        if self.is_open(now, tz) {
            return (local, false);
        }
        let mut day = local.date_naive();
        if local.time() >= self.end {
            day += Duration::days(1);
        }
        let at = tz
            .from_local_datetime(&day.and_time(self.start))
            .earliest()
            .unwrap_or(local);
        (at, day != local.date_naive())
    }
}
