//! Reminder scheduler benchmark (not a test): 1,000,000 pending reminders in sled, of which
//! 10,000 are due. This process writes them (and prints its own peak memory, setup included);
//! then a fresh process, like `serve` after a restart, opens the store and times the due-index
//! scan, the ledger reads alone and one full scheduler pass (no pacing, a no-op front end), and
//! prints ITS peak memory (VmHWM): the scheduler's own.
//!
//! Run: `cargo bench --bench reminders`.

use chrono::{Days, NaiveDate, TimeZone, Utc};
use repaybot::app::{App, Reply};
use repaybot::reminders::{self, index, Deliver, DeliverFuture, PassOptions, RemindState, Wake};
use repaybot::settings::Settings;
use repaybot::store::Store;
use std::time::Instant;

/// The allocator of the `repaybot` binary (src/main.rs), so the peak memory is `serve`'s.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DUE: usize = 10_000;
const PENDING: usize = 1_000_000;
/// Set (to the data folder) in the child process that runs the scheduler.
const PASS_ENV: &str = "REPAYBOT_BENCH_REMINDERS_PASS";

struct Discard;

impl Deliver for Discard {
    fn deliver<'a>(&'a self, _chat: &'a str, _reply: &'a Reply) -> DeliverFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() -> anyhow::Result<()> {
    if let Some(dir) = std::env::var_os(PASS_ENV) {
        return pass(std::path::Path::new(&dir));
    }
    let dir = std::env::temp_dir().join(format!("repaybot-bench-rem-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    setup(&dir)?;
    println!("setup peak memory (VmHWM, this process): {}", vm_hwm());
    let status = std::process::Command::new(std::env::current_exe()?)
        .env(PASS_ENV, &dir)
        .status()?;
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(status.success(), "the scheduler process failed");
    Ok(())
}

fn due_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 14).expect("date")
}

/// 10,000 accounts with ledgers and a reminder due, and 990,000 more reminders later.
fn setup(dir: &std::path::Path) -> anyhow::Result<()> {
    let store = Store::open(dir)?;
    let settings = Settings::default();
    let policy = settings.policy.clone();
    let tz = chrono_tz::Asia::Shanghai;
    let due_date = due_date();
    let t0 = Instant::now();
    let mut accounts = String::from("account_id,name,phone,id_last4,language,timezone\n");
    let mut orders = String::from(
        "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n",
    );
    for i in 0..DUE {
        accounts += &format!("B{i:06},N{i},138{i:08},1234,zh,Asia/Shanghai\n");
        orders += &format!("O{i:06},B{i:06},Phone,1200.00,12,flat_fee,0.006,{due_date}\n");
    }
    let import = |kind, text: &str| {
        repaybot::import::import(&store, kind, "bench.csv", text.as_bytes(), &policy)
            .map_err(|_| anyhow::anyhow!("import failed"))
    };
    import(repaybot::import::Kind::Accounts, &accounts)?;
    import(repaybot::import::Kind::Orders, &orders)?;
    for i in 0..DUE {
        store.bind(&format!("tg:{i}"), &format!("B{i:06}"))?;
    }
    let planned_at = tz
        .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("time")
        .with_timezone(&Utc);
    reminders::reschedule_all(&store, &settings, planned_at)?;
    // The other 990,000 accounts' reminders wait later in the year.
    for i in 0..PENDING - DUE {
        let date = due_date + Days::new(1 + (i % 365) as u64);
        let at = tz
            .from_local_datetime(&date.and_hms_opt(10, 0, 0).expect("time"))
            .single()
            .expect("time")
            .with_timezone(&Utc);
        let state = RemindState {
            wake: Some(Wake { at, date }),
            ..RemindState::default()
        };
        index::swap(&store, &format!("F{i:07}"), &RemindState::default(), &state)?;
    }
    store.flush()?;
    println!(
        "setup: {DUE} accounts with ledgers, {PENDING} pending reminders in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The scheduler's side, in a fresh process: open, scan, read, one pass.
fn pass(dir: &std::path::Path) -> anyhow::Result<()> {
    let store = Store::open(dir)?;
    let settings = Settings::default();
    let policy = settings.policy.clone();
    let tz = chrono_tz::Asia::Shanghai;
    let due_date = due_date();
    let now = tz
        .with_ymd_and_hms(2026, 12, 11, 10, 0, 30)
        .single()
        .expect("time")
        .with_timezone(&Utc);

    let t = Instant::now();
    let found = index::due_accounts(&store, now, DUE + 1)?;
    let scan = t.elapsed();
    assert_eq!(found.len(), DUE, "the due accounts");
    println!(
        "index scan: {} due found in {:.2} ms",
        found.len(),
        ms(scan)
    );

    let today = due_date - Days::new(3);
    let t = Instant::now();
    for (_, id) in &found {
        std::hint::black_box(store.bill(id, today, &policy)?);
    }
    println!(
        "ledger reads alone: {DUE} bills in {:.1} ms",
        ms(t.elapsed())
    );

    let app = App::new(store, settings)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let opts = PassOptions {
        max_accounts: DUE + 1,
        pace: None,
    };
    let t = Instant::now();
    let report = rt.block_on(reminders::run_once_with(&app, &app, &Discard, now, &opts))?;
    let pass = t.elapsed();
    assert_eq!(report.sent, DUE, "{report:?}");
    println!(
        "full pass: {} sent (each: ledger, message, transaction) in {:.1} ms",
        report.sent,
        ms(pass)
    );
    println!("scheduler process peak memory (VmHWM): {}", vm_hwm());
    drop(app);
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
