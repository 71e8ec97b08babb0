//! The command line of SPEC 2.1 and the commands it runs. Exit status 2 with a one-line reason
//! for bad arguments or bad input files.

use crate::clock::Clock;
use crate::domain::Policy;
use crate::import::{self, ImportFailure, Kind};
use crate::settings::Settings;
use crate::store::Store;
use crate::{demo, statement};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

mod nlu_cli;
mod reports;

#[derive(Parser, Debug)]
#[command(
    name = "repaybot",
    version,
    about = "Customer-service assistant for an installment shop"
)]
pub struct Cli {
    /// The sled database folder.
    #[arg(
        long,
        env = "REPAYBOT_DATA",
        default_value = "./repaybot-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// TOML file with the policy and settings (built-in defaults without it).
    #[arg(long, env = "REPAYBOT_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Fixes the calendar date (YYYY-MM-DD) for demos and tests.
    #[arg(long, env = "REPAYBOT_TODAY", global = true, value_parser = parse_date)]
    pub today: Option<NaiveDate>,
    /// Log lines as text or as one JSON object per line (for log collectors).
    #[arg(long, env = "REPAYBOT_LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Testing and demo aid: run as if started at this instant (RFC 3339, e.g.
    /// 2026-12-11T01:59:50Z); the clock then moves in real time. Reminders and the customers'
    /// calendar day follow it (it wins over --today, which then only dates the demo data).
    /// Without it, --today fixes the day and the clock keeps the real time of day.
    #[arg(long, env = "REPAYBOT_CLOCK_START", global = true, value_parser = parse_instant)]
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    #[command(subcommand)]
    pub command: Command,
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Load the shop's export: accounts, orders or payments.
    Import {
        #[arg(value_enum)]
        kind: Kind,
        file: PathBuf,
    },
    /// A conversation in the terminal with the same engine, dialogs and store as Telegram.
    Chat {
        /// Act as this account, already verified (an operator's tool).
        #[arg(long)]
        account: Option<String>,
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
    },
    /// Read messages on stdin, write one JSON line each: text, intent, slots. With an action:
    /// measure (eval), retrain (train) or list messages not understood (review).
    Nlu {
        #[command(subcommand)]
        action: Option<nlu_cli::NluAction>,
    },
    /// Validate (check) or draw (graph) the dialog files.
    Dialogs {
        #[arg(value_enum)]
        action: DialogsAction,
        /// The dialogs folder (default: ./dialogs when present, else the built-in copy).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print the planned reminders of an account (operators' view).
    Reminders {
        account_id: String,
        /// How many reminder days to list.
        #[arg(long, default_value_t = 10)]
        days: usize,
    },
    /// Run the Telegram bot (token from TELOXIDE_TOKEN): long polling, or a webhook.
    Serve {
        /// Public HTTPS URL for webhook mode (Telegram posts updates there); long polling without it.
        #[arg(long)]
        webhook: Option<String>,
        /// Address the webhook server listens on.
        #[arg(long, default_value = "0.0.0.0:8443")]
        listen: std::net::SocketAddr,
        /// A self-hosted Bot API server, e.g. http://127.0.0.1:8081.
        #[arg(long, env = "TELOXIDE_API_URL")]
        api_url: Option<String>,
        /// Outgoing message limits PER_CHAT_SEC/PER_CHAT_MIN/OVERALL_SEC[/GROUP_MIN] (GROUP_MIN: the
        /// support group, default PER_CHAT_MIN).
        #[arg(long, default_value = "1/20/30")]
        send_limits: String,
        /// Flood protection per customer BURST/MILLIS: a burst, then one message per MILLIS.
        #[arg(long, default_value = "5/700")]
        flood: String,
        /// Serve GET /metrics (Prometheus) and GET /healthz on this address, e.g. 127.0.0.1:9184.
        #[arg(long, env = "REPAYBOT_METRICS_LISTEN")]
        metrics_listen: Option<std::net::SocketAddr>,
    },
    /// The operations report (SPEC 2.6): conversations, containment, tickets, understanding,
    /// payments, reminders and negotiation outcomes, from the recorded events (last 30 days by default).
    Report {
        /// First day (YYYY-MM-DD, shop time); default 29 days before --to.
        #[arg(long, value_parser = parse_date)]
        from: Option<NaiveDate>,
        /// Last day (YYYY-MM-DD, shop time); default today.
        #[arg(long, value_parser = parse_date)]
        to: Option<NaiveDate>,
        /// The report as JSON.
        #[arg(long, conflicts_with = "html")]
        json: bool,
        /// Write one self-contained HTML page with charts to this file.
        #[arg(long)]
        html: Option<PathBuf>,
    },
    /// Payments started at the shop's payment API (gateway http) with their status.
    Payments {
        /// Only those still waiting for the payment API (creating or pending).
        #[arg(long)]
        pending: bool,
        /// One JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print an account's orders, schedules, overdue amounts and next amounts due.
    Statement {
        account_id: String,
        /// The JSON document of SPEC 2.4.
        #[arg(long)]
        json: bool,
    },
}

/// `chat --lang`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    Zh,
    En,
}

impl From<LangArg> for crate::dialog::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Zh => crate::dialog::Lang::Zh,
            LangArg::En => crate::dialog::Lang::En,
        }
    }
}

/// `dialogs check|graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DialogsAction {
    /// Validate the dialog files.
    Check,
    /// Draw them as a Mermaid graph.
    Graph,
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not a date YYYY-MM-DD"))
}

fn parse_instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| format!("'{text}' is not an instant like 2026-12-11T01:59:50Z"))
}

/// A failure the user caused (exit 2) or an internal one (exit 1).
pub enum Failure {
    BadInput(String),
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Internal(e)
    }
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    let settings =
        Settings::load(cli.config.as_deref()).map_err(|e| Failure::BadInput(format!("{e:#}")))?;
    // The one clock every command reads.
    let clock = Clock::from_options(cli.today, cli.clock_start);
    match &cli.command {
        Command::Import { kind, file } => run_import(&cli, &settings.policy, *kind, file),
        Command::Statement { account_id, json } => {
            run_statement(&cli, &settings.policy, &clock, account_id, *json)
        }
        Command::Chat { account, lang } => {
            run_chat(&cli, settings.clone(), clock, account.clone(), *lang)
        }
        Command::Nlu { action } => nlu_cli::run(&cli, &clock, action.as_ref()),
        Command::Reminders { account_id, days } => {
            reports::reminders(&cli, &settings, &clock, account_id, *days)
        }
        Command::Serve { .. } => run_serve(&cli, settings, clock),
        Command::Report { .. } => reports::report(&cli, &settings, &clock),
        Command::Dialogs { action, dir } => run_dialogs(*action, dir.as_deref()),
        Command::Payments { pending, json } => run_payments(&cli, *pending, *json),
    }
}

pub(crate) fn open_store(cli: &Cli) -> Result<Store> {
    Store::open(&cli.data_dir)
}

/// The store, with the demo accounts loaded when the folder was empty; true when they were. They
/// are dated from `--today`, else from the clock's day in the house zone.
fn open_with_demo(cli: &Cli, clock: &Clock, policy: &Policy) -> Result<(Store, bool)> {
    let demo_day = cli
        .today
        .unwrap_or_else(|| clock.today_in(crate::clock::HOUSE_TZ));
    let store = open_store(cli)?;
    let loaded = demo::load_if_empty(&store, demo_day, policy)?;
    Ok((store, loaded))
}

/// An operator's command about one account (`statement`, `reminders`): the store (demo data in
/// an empty folder, said on stderr) and the account, or exit 2 when there is no such account.
pub(crate) fn open_for_account(
    cli: &Cli,
    policy: &Policy,
    clock: &Clock,
    account_id: &str,
) -> Result<(Store, crate::store::Stored<crate::domain::Account>), Failure> {
    let (store, loaded) = open_with_demo(cli, clock, policy)?;
    if loaded {
        eprintln!("The data folder was empty: loaded the built-in demo accounts (A1001–A1005).");
    }
    let account = store
        .account(account_id)?
        .ok_or_else(|| Failure::BadInput(format!("no account {account_id}")))?;
    Ok((store, account))
}

fn run_import(cli: &Cli, policy: &Policy, kind: Kind, file: &PathBuf) -> Result<(), Failure> {
    let name = file.display().to_string();
    let input = std::fs::File::open(file)
        .map_err(|e| Failure::BadInput(format!("{name}: cannot read: {e}")))?;
    let store = open_store(cli)?;
    let total = input.metadata().map_or(0, |m| m.len());
    let mut progress = crate::ops::progress::Progress::new(format!("import {name}"), total);
    let reader = crate::ops::progress::ProgressReader {
        inner: std::io::BufReader::new(input),
        progress: &mut progress,
    };
    match import::import_from(&store, kind, &name, Box::new(reader), policy) {
        Ok(report) => {
            progress.finish((report.added + report.unchanged) as u64);
            println!(
                "{name}: {} added, {} unchanged",
                report.added, report.unchanged
            );
            Ok(())
        }
        Err(ImportFailure::Invalid(errors)) => {
            let more = match errors.len() {
                1 => String::new(),
                n => format!(" (and {} more problems; nothing was imported)", n - 1),
            };
            Err(Failure::BadInput(format!("{}{more}", errors[0])))
        }
        Err(ImportFailure::Storage(e)) => Err(Failure::Internal(e)),
    }
}

fn run_statement(
    cli: &Cli,
    policy: &Policy,
    clock: &Clock,
    account_id: &str,
    json: bool,
) -> Result<(), Failure> {
    let (store, account) = open_for_account(cli, policy, clock, account_id)?;
    let today = clock.today_for(&account.data.timezone);
    let bill = store
        .bill(account_id, today, policy)
        .context("computing the statement")
        .map_err(Failure::Internal)?;
    let cases = store.cases_of(account_id)?;
    let out = if json {
        statement::json(&bill, &cases)
    } else {
        statement::text(&bill, &cases)
    };
    println!("{out}");
    Ok(())
}

fn run_chat(
    cli: &Cli,
    settings: Settings,
    clock: Clock,
    account: Option<String>,
    lang: Option<LangArg>,
) -> Result<(), Failure> {
    use std::io::IsTerminal;
    settings
        .payments
        .check_ready()
        .map_err(|e| Failure::BadInput(format!("{e:#}")))?;
    let (store, loaded) = open_with_demo(cli, &clock, &settings.policy)?;
    if loaded {
        println!("(The data folder was empty: loaded the built-in demo accounts A1001–A1005. Try --account A1003.)\n");
    }
    if let Some(a) = &account {
        if store.account(a)?.is_none() {
            return Err(Failure::BadInput(format!("no account {a}")));
        }
    }
    let app = std::sync::Arc::new(crate::app::App::new(store, settings)?.with_clock(clock));
    // With the http gateway the callback server and the reconciler run while the chat runs.
    let _payments = crate::payments::reconcile::start_in_thread(
        app.shared_core(),
        crate::app::payment_applier(std::sync::Arc::clone(&app)),
    )
    .map_err(|e| Failure::BadInput(format!("{e:#}")))?;
    let opts = crate::app::chat::ChatOptions {
        account,
        lang: lang.map(Into::into),
        interactive: std::io::stdin().is_terminal(),
        file_dir: if cli.data_dir.is_dir() {
            cli.data_dir.clone()
        } else {
            PathBuf::from(".")
        },
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout();
    crate::app::chat::run(&app, &opts, &mut input, &mut out)?;
    Ok(())
}

fn run_serve(cli: &Cli, settings: Settings, clock: Clock) -> Result<(), Failure> {
    let Command::Serve {
        webhook,
        listen,
        api_url,
        send_limits,
        flood,
        metrics_listen,
        ..
    } = &cli.command
    else {
        return Ok(());
    };
    init_logs(cli.log_format);
    settings
        .payments
        .check_ready()
        .map_err(|e| Failure::BadInput(format!("{e:#}")))?;
    let token = std::env::var("TELOXIDE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(crate::settings::Secret::new)
        .ok_or_else(|| {
            Failure::BadInput(
                "TELOXIDE_TOKEN is not set: export the bot token from @BotFather".into(),
            )
        })?;
    let limits =
        crate::telegram::parse_limits(send_limits).map_err(|e| Failure::BadInput(e.to_string()))?;
    let flood =
        crate::telegram::parse_flood(flood).map_err(|e| Failure::BadInput(e.to_string()))?;
    let webhook_secret =
        crate::telegram::webhook_secret(std::env::var_os("REPAYBOT_WEBHOOK_SECRET"))
            .map_err(|e| Failure::BadInput(e.to_string()))?;
    let (store, loaded) = open_with_demo(cli, &clock, &settings.policy)?;
    if loaded {
        tracing::info!("the data folder was empty: loaded the built-in demo accounts A1001-A1005");
    }
    crate::store::events::prune_logged(&store, clock.now(), settings.ops.keep_days);
    let _metrics = metrics_listen
        .map(|a| crate::ops::spawn_metrics_server(a, crate::ops::OpsState::global(store.clone())))
        .transpose()
        .map_err(|e| Failure::BadInput(format!("{e:#}")))?;
    let app = crate::app::App::new(store, settings)?.with_clock(clock);
    let opts = crate::telegram::ServeOptions {
        token,
        api_url: api_url.clone(),
        webhook: webhook.clone(),
        listen: *listen,
        webhook_secret: webhook_secret.map(crate::settings::Secret::new),
        limits,
        flood,
    };
    crate::telegram::serve(app, opts)?;
    Ok(())
}

/// `repaybot payments [--pending] [--json]`: the payments started at the payment API.
fn run_payments(cli: &Cli, pending: bool, json: bool) -> Result<(), Failure> {
    let store = open_store(cli)?;
    let mut all = store.pending_payments()?;
    if pending {
        all.retain(|p| p.status.is_open());
    }
    all.sort_by(|a, b| (a.created_at, &a.payment_id).cmp(&(b.created_at, &b.payment_id)));
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&all).context("writing JSON")?
        );
        return Ok(());
    }
    if all.is_empty() {
        println!("no payments");
    }
    for p in &all {
        println!(
            "{}  {:<11}  {}  ¥{:.2}  {}  created {}  expires {}  tries {}{}",
            p.payment_id,
            p.status.as_str(),
            p.order_id,
            p.amount,
            crate::payments::kind_str(p.kind),
            p.created_at.to_rfc3339(),
            p.expires_at.to_rfc3339(),
            p.tries,
            if p.notes.is_empty() {
                String::new()
            } else {
                format!("  notes: {}", p.notes.join(" | "))
            }
        );
    }
    Ok(())
}

/// Logs to stderr at info (RUST_LOG overrides): ids only, never message text; as JSON lines
/// with `--log-format json`.
fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().flatten_event(true).try_init(),
    };
}

/// Every error of a dialogs/ load, one `file:line: reason` per line (exit status 2).
pub(crate) fn load_failure(errors: &[crate::dialog::LoadError]) -> Failure {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    Failure::BadInput(lines.join("\n"))
}

fn run_dialogs(action: DialogsAction, dir: Option<&std::path::Path>) -> Result<(), Failure> {
    let default = std::path::Path::new("dialogs");
    let files = match dir.or(default.is_dir().then_some(default)) {
        Some(d) => crate::embedded::files_on_disk(d)
            .map_err(|e| Failure::BadInput(format!("{}: {e}", d.display())))?,
        None => crate::embedded::dialog_files(),
    };
    let known = crate::app::known();
    if action == DialogsAction::Graph {
        let flows =
            crate::dialog::Flows::load(&files, &known).map_err(|errors| load_failure(&errors))?;
        print!("{}", crate::dialog::graph(&flows));
        return Ok(());
    }
    let (report, ok) = crate::dialog::check_report(&files, &known);
    let nlu_errors = crate::nlu::Nlu::from_files(&files)
        .err()
        .unwrap_or_default();
    if ok && nlu_errors.is_empty() {
        println!("{report}");
        Ok(())
    } else {
        let mut lines: Vec<String> = if ok { Vec::new() } else { vec![report] };
        lines.extend(nlu_errors.iter().map(ToString::to_string));
        Err(Failure::BadInput(lines.join("\n")))
    }
}
