//! Agent commands in the support group, parsed and validated into a typed command. Parsing is
//! pure; a bad argument gives the usage text key to show.

use rust_decimal::Decimal;

/// The most periods a hardship plan may have (SPEC 4.8).
pub const MAX_HARDSHIP_PERIODS: u32 = 60;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentCommand {
    Take,
    Close,
    Note(String),
    /// `/approve PERIODS FEE_RATE`: periods 1..=60, the monthly fee in percent (0 waives it).
    Approve {
        periods: u32,
        fee_rate_percent: Decimal,
    },
    Reject(String),
    Tickets,
    /// Admin: the name customers see for every agent; `first_name` goes back to first names.
    Alias(String),
    /// Admin: support hours `HH:MM-HH:MM`.
    Hours(String),
}

/// Why a command was refused: the text key of its usage line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandError {
    pub usage_key: &'static str,
}

fn usage(key: &'static str) -> CommandError {
    CommandError { usage_key: key }
}

impl AgentCommand {
    /// `None`: not a desk command (plain text, or another bot's command). `max_fee_percent` is
    /// the highest monthly fee an approval may set (the policy's re-installment rate).
    pub fn parse(
        text: &str,
        max_fee_percent: Decimal,
    ) -> Option<Result<AgentCommand, CommandError>> {
        let rest = text.trim().strip_prefix('/')?;
        let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let word = word.split('@').next().unwrap_or(word).to_ascii_lowercase();
        let args = args.trim();
        let parsed = match word.as_str() {
            "take" => Ok(AgentCommand::Take),
            "close" => Ok(AgentCommand::Close),
            "tickets" => Ok(AgentCommand::Tickets),
            "note" if args.is_empty() => Err(usage("support.usage_note")),
            "note" => Ok(AgentCommand::Note(args.to_string())),
            "reject" if args.is_empty() => Err(usage("support.usage_reject")),
            "reject" => Ok(AgentCommand::Reject(args.to_string())),
            "approve" => parse_approve(args, max_fee_percent),
            "alias" if args.is_empty() || args.chars().count() > 32 => {
                Err(usage("support.usage_alias"))
            }
            "alias" => Ok(AgentCommand::Alias(args.to_string())),
            "hours" if super::Hours::parse(args).is_none() => Err(usage("support.usage_hours")),
            "hours" => Ok(AgentCommand::Hours(args.to_string())),
            _ => return None,
        };
        Some(parsed)
    }

    /// Only configured admins may run it.
    pub fn is_admin_only(&self) -> bool {
        matches!(self, AgentCommand::Alias(_) | AgentCommand::Hours(_))
    }
}

fn parse_approve(args: &str, max_fee_percent: Decimal) -> Result<AgentCommand, CommandError> {
    let bad = || usage("support.usage_approve");
    let parts: Vec<&str> = args.split_whitespace().collect();
    let [periods, rate] = parts[..] else {
        return Err(bad());
    };
    let periods: u32 = periods.parse().map_err(|_| bad())?;
    let rate: Decimal = rate.trim_end_matches('%').parse().map_err(|_| bad())?;
    let ok = (1..=MAX_HARDSHIP_PERIODS).contains(&periods)
        && rate >= Decimal::ZERO
        && rate <= max_fee_percent
        && rate.scale() <= 4;
    if !ok {
        return Err(bad());
    }
    Ok(AgentCommand::Approve {
        periods,
        fee_rate_percent: rate.normalize(),
    })
}
