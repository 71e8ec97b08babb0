//! The `[support]` settings: the support group, its agents and admins, support hours. Validated
//! at start-up; admins may override the alias and the hours from the group (kept in the store).

use crate::dialog::Lang;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// `[support]` as the config file writes it (strings as given); [`SupportSettings`] is the
/// checked form the desk uses.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportConfig {
    pub group_id: Option<i64>,
    pub forum_topics: bool,
    pub admins: Vec<i64>,
    pub agent_name: String,
    pub hours: String,
    pub timezone: String,
    pub wait_notice_minutes: u32,
    pub language: String,
}

/// `[support]`, checked: the support group, its agents and admins, support hours.
#[derive(Clone, Debug)]
pub struct SupportSettings {
    /// The Telegram supergroup where agents work (None: no support group; tickets are stored).
    pub group_id: Option<i64>,
    /// One forum topic per ticket (true) or tagged messages `#T12` in one chat (false).
    pub forum_topics: bool,
    /// Telegram user ids allowed to use admin commands (`/alias`, `/hours`).
    pub admins: Vec<i64>,
    /// `first_name`: customers see the agent's first name; anything else is an alias for all.
    pub agent_name: String,
    /// Support hours, in `timezone`.
    pub hours: Hours,
    pub timezone: Tz,
    /// A ticket waiting this long outside support hours gets an honest "we will reply at ...".
    pub wait_notice_minutes: u32,
    /// Language of the texts the group sees.
    pub language: Lang,
}

impl Default for SupportConfig {
    fn default() -> Self {
        SupportConfig {
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

impl Default for SupportSettings {
    fn default() -> Self {
        // The defaults above are valid by construction (a test checks it).
        SupportSettings::try_from(SupportConfig::default()).unwrap_or(SupportSettings {
            group_id: None,
            forum_topics: true,
            admins: Vec::new(),
            agent_name: "first_name".into(),
            hours: Hours {
                start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
                end: NaiveTime::from_hms_opt(21, 0, 0).unwrap_or(NaiveTime::MIN),
            },
            timezone: chrono_tz::Asia::Shanghai,
            wait_notice_minutes: 10,
            language: Lang::Zh,
        })
    }
}

impl TryFrom<SupportConfig> for SupportSettings {
    /// Every problem of the section, worded for the operator.
    type Error = Vec<String>;

    fn try_from(raw: SupportConfig) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let hours = Hours::parse(&raw.hours);
        if hours.is_none() {
            problems.push(format!(
                "support.hours '{}' is not HH:MM-HH:MM with start before end",
                raw.hours
            ));
        }
        let timezone = raw.timezone.parse::<Tz>().ok();
        if timezone.is_none() {
            problems.push(format!(
                "support.timezone '{}' is not an IANA time zone",
                raw.timezone
            ));
        }
        if raw.agent_name.trim().is_empty() {
            problems.push("support.agent_name is empty (use first_name or an alias)".into());
        }
        let language = match raw.language.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            other => {
                problems.push(format!("support.language '{other}' is not zh or en"));
                None
            }
        };
        match (hours, timezone, language) {
            (Some(hours), Some(timezone), Some(language)) if problems.is_empty() => {
                Ok(SupportSettings {
                    group_id: raw.group_id,
                    forum_topics: raw.forum_topics,
                    admins: raw.admins,
                    agent_name: raw.agent_name,
                    hours,
                    timezone,
                    wait_notice_minutes: raw.wait_notice_minutes,
                    language,
                })
            }
            _ => Err(problems),
        }
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
