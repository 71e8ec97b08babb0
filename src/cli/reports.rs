//! The operators' read-only reports on the command line: `repaybot reminders ACCOUNT_ID` and
//! `repaybot report`. The numbers come from `reminders` and `report`; this only opens the store,
//! checks the options and prints.

use super::{open_for_account, open_store, Cli, Command, Failure};
use crate::clock::Clock;
use crate::report::{html, text, Period, REPORT_TZ};
use crate::settings::Settings;
use chrono::Days;

/// `repaybot reminders ACCOUNT_ID [--days N]`.
pub fn reminders(
    cli: &Cli,
    settings: &Settings,
    clock: &Clock,
    account_id: &str,
    count: usize,
) -> Result<(), Failure> {
    let (store, account) = open_for_account(cli, &settings.policy, clock, account_id)?;
    let today = clock.today_in(crate::reminders::tz_of(&account.data));
    let o = crate::reminders::overview(&store, settings, account_id, today, count)?
        .ok_or_else(|| Failure::BadInput(format!("no account {account_id}")))?;
    print!("{}", crate::reminders::report::render(&o, settings));
    Ok(())
}

/// `repaybot report [--from DATE] [--to DATE] [--json | --html FILE]`.
pub fn report(cli: &Cli, settings: &Settings, clock: &Clock) -> Result<(), Failure> {
    let Command::Report {
        from,
        to,
        json,
        html,
    } = &cli.command
    else {
        return Ok(());
    };
    let today = clock.today_in(REPORT_TZ);
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| to.checked_sub_days(Days::new(29)).unwrap_or(to));
    if from > to {
        return Err(Failure::BadInput(format!(
            "--from {from} is after --to {to}"
        )));
    }
    let store = open_store(cli)?;
    let report = crate::report::build_showing_progress(
        &store,
        &settings.policy,
        Period { from, to, today },
    )?;
    if let Some(path) = html {
        std::fs::write(path, html::render(&report))
            .map_err(|e| Failure::BadInput(format!("{}: cannot write: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    } else if *json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)?
        );
    } else {
        print!("{}", text::render(&report));
    }
    Ok(())
}
