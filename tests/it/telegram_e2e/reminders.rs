//! The reminder scheduler inside `serve`, end to end: a customer bound by contact gets the D-3
//! reminder at 10:00 of the simulated day (`--clock-start`) through the fake Bot API, once, not
//! again after a restart, and its "pay now" button pays through the usual buttons.

use super::*;
use chrono::{Days, NaiveDate};

/// The reminder's "pay now" button.
const PAY_NOW: &str = "r:pay";

/// The next due date of the account's first order, from its statement on TODAY.
fn next_due(dir: &Path, account: &str) -> NaiveDate {
    let s = statement(dir, account);
    let date = s["orders"][0]["next_due"]["date"].as_str().unwrap();
    NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap()
}

/// Binds a terminal chat to `account` (the operator's `chat --account`).
fn bind_in_terminal(dir: &Path, account: &str) {
    let out = Command::new(bin())
        .args(["--data-dir", dir.to_str().unwrap(), "--today", TODAY])
        .args(["chat", "--account", account])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_reminder(c: &Call) -> bool {
    c.buttons().iter().any(|(_, data)| data == PAY_NOW)
}

fn reminders(calls: &[Call]) -> Vec<Call> {
    calls.iter().filter(|c| is_reminder(c)).cloned().collect()
}

/// Waits until the serve log contains `needle`.
fn wait_log(served: &Served, needle: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let log = std::fs::read_to_string(&served.log).unwrap_or_default();
        if log.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no '{needle}' in the log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_reminder_arrives_once_at_ten_survives_a_restart_and_its_pay_button_pays() {
    let fake = FakeTelegram::start(TOKEN);
    let (_dir, data) = data_dir();
    // Bound on TODAY (the demo data are dated from it).
    let served = serve(&data, &fake, &[]);
    let mut c = Customer::new(&fake, 5010, ZH);
    c.bind("13800005678", "123X");
    served.stop();
    // An operator's terminal chat acts as another account without holding its binding: that
    // account's reminder has no chat to go to, no error loop.
    bind_in_terminal(&data, "A1003");
    let paid_before = paid_fen(&statement(&data, "A1001"));
    // Three seconds before 10:00 in Shanghai, three days before the next installment.
    let due = next_due(&data, "A1001");
    let day = due - Days::new(3);
    let start = format!("{day}T01:59:57Z");
    let served = serve(&data, &fake, &["--clock-start", &start]);
    let reminder = loop {
        let m = c.read(1).remove(0);
        if is_reminder(&m) {
            break m;
        }
    };
    assert!(reminder.text().contains("还款提醒"), "{}", reminder.text());
    assert!(
        reminder.text().contains(&due.to_string()),
        "{}",
        reminder.text()
    );
    assert!(reminder.text().contains("267.90"), "{}", reminder.text());
    // A little longer: no second reminder that day.
    std::thread::sleep(Duration::from_secs(3));
    let log = served.stop();
    assert_eq!(reminders(&fake.messages_to(c.id)).len(), 1);
    assert!(log.contains("reminder due but no chat is bound"), "{log}");
    assert!(!log.contains("reminder delivery failed"), "{log}");
    assert!(!log.contains("267.90") && !log.contains("13800005678"));
    // Restarted at the same instant: the day's reminder was sent, it is not sent again.
    let served = serve(&data, &fake, &["--clock-start", &start]);
    wait_log(&served, "reminder scheduler started");
    std::thread::sleep(Duration::from_secs(5));
    c.say("/start", "分期还款助手");
    assert_eq!(
        reminders(&fake.messages_to(c.id)).len(),
        1,
        "not sent again"
    );
    // "Pay now" on the reminder opens the repay flow; the pressed keyboard goes away.
    c.press(&reminder, "立即还款");
    let choose = c.until("请选择还款方式");
    c.press(&choose, "还本期账单");
    let confirm = c.until("确认支付吗");
    assert!(confirm.text().contains("267.90"), "{}", confirm.text());
    c.press(&confirm, "确认支付");
    let receipt = c.until("支付单号");
    assert!(
        receipt
            .text()
            .contains(&format!("C{}-", day.format("%Y%m%d"))),
        "paid on the simulated day: {}",
        receipt.text()
    );
    let edits = fake.calls_of("editMessageReplyMarkup");
    assert!(edits
        .iter()
        .any(|e| e.params["message_id"] == reminder.message_id()));
    served.stop();
    let after = paid_fen(&statement_on(&data, "A1001", &day.to_string()));
    assert_eq!(after - paid_before, 26790, "exactly one payment of 267.90");
}
