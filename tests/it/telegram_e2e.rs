//! End to end through Telegram: the real `repaybot serve` binary against the fake Bot API server
//! (tests/it/fake_telegram.rs), driven like a customer in the Telegram app, checked with
//! `repaybot statement --json` afterwards.

use crate::fake_telegram::{Call, FakeTelegram};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "123456:TEST-token_for-fake";
const TODAY: &str = "2026-11-21";
const WAIT: Duration = Duration::from_secs(60);
const ZH: &str = "zh-hans";

/// One clock in serve: card, hours and bill on the bot's day (tests/it/telegram_e2e/clock.rs).
mod clock;
/// Floods and bad settings (tests/it/telegram_e2e/hardening.rs).
mod hardening;
/// The support desk through Telegram (tests/it/telegram_e2e/support.rs).
mod support;

/// A running `repaybot serve`.
struct Served {
    child: Child,
    log: PathBuf,
    /// Its data folder: every demo account's statement must compute when it stops.
    data: PathBuf,
}

/// The demo accounts (src/demo.rs).
const DEMO_ACCOUNTS: [&str; 5] = ["A1001", "A1002", "A1003", "A1004", "A1005"];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_repaybot")
}

/// `--flood` at its default only where the test is about floods: the other tests type faster
/// than any person.
fn serve(dir: &Path, fake: &FakeTelegram, extra: &[&str]) -> Served {
    serve_with(dir, fake, extra, false)
}

fn serve_with(dir: &Path, fake: &FakeTelegram, extra: &[&str], flood: bool) -> Served {
    serve_env(dir, fake, extra, flood, &[])
}

/// `serve` with extra environment variables (a test hook).
fn serve_env(
    dir: &Path,
    fake: &FakeTelegram,
    extra: &[&str],
    flood: bool,
    env: &[(&str, &str)],
) -> Served {
    let log = dir.with_extension(format!("log{}", std::process::id()));
    let log = crate::process::unique_log(log);
    let child = crate::process::bot_command(dir, TODAY, TOKEN, &log)
        .args([
            "serve",
            "--api-url",
            &fake.url(),
            "--send-limits",
            "1000/60000/10000",
        ])
        .args(["--flood", if flood { "5/700" } else { "1000/1" }])
        .args(extra)
        .envs(env.iter().copied())
        .spawn()
        .unwrap();
    Served {
        child,
        log,
        data: dir.to_path_buf(),
    }
}

impl Served {
    /// SIGTERM, then waits for a clean exit; returns the log.
    fn stop(mut self) -> String {
        let log = crate::process::stop_clean(&mut self.child, &self.log);
        every_statement_computes(&self.data);
        log
    }

    /// Waits until the process ended by itself (a crash); returns the log.
    fn crashed(mut self) -> String {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "serve did not end");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(!status.success(), "serve was meant to crash");
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// After every scenario: `statement --json` of every demo account computes (no agreement or
/// payment may leave a ledger unreplayable).
fn every_statement_computes(data: &Path) {
    if !data.exists() {
        return;
    }
    for account in DEMO_ACCOUNTS {
        let doc = statement(data, account);
        assert_eq!(doc["account_id"], account, "{doc}");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("serve log:\n{log}");
        }
    }
}

/// A fresh temporary folder and the data folder inside it (kept alive by the returned guard).
fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    (dir, data)
}

fn statement(dir: &Path, account: &str) -> Value {
    statement_on(dir, account, TODAY)
}

/// `statement --json` of the account on `day` (YYYY-MM-DD), read from the data folder.
fn statement_on(dir: &Path, account: &str, day: &str) -> Value {
    crate::process::run_json(dir, day, &["statement", account, "--json"])
}

/// Everything paid on the account's installments, in fen.
fn paid_fen(statement: &Value) -> i64 {
    let mut fen = 0;
    for order in statement["orders"].as_array().unwrap() {
        for i in order["installments"].as_array().unwrap() {
            let paid = i["paid"].as_str().unwrap().replace('.', "");
            fen += paid.parse::<i64>().unwrap();
        }
    }
    fen
}

/// What the demo account A1001 has paid on TODAY before any chat.
fn demo_paid_fen() -> i64 {
    let dir = tempfile::tempdir().unwrap();
    paid_fen(&statement(&dir.path().join("data"), "A1001"))
}

/// A customer in the Telegram app: sends, and reads the messages the bot sent back.
struct Customer<'a> {
    fake: &'a FakeTelegram,
    id: i64,
    lang: &'a str,
    seen: usize,
}

impl<'a> Customer<'a> {
    fn new(fake: &'a FakeTelegram, id: i64, lang: &'a str) -> Self {
        Customer {
            fake,
            id,
            lang,
            seen: 0,
        }
    }

    /// Waits for `n` new messages and returns them.
    fn read(&mut self, n: usize) -> Vec<Call> {
        let all = self.fake.wait_messages(self.id, self.seen + n, WAIT);
        assert!(
            all.len() >= self.seen + n,
            "chat {} expected {n} new messages, got {:?}; last calls {:?}",
            self.id,
            texts(&all[self.seen..]),
            self.fake
                .calls()
                .iter()
                .rev()
                .take(8)
                .map(|c| format!("{} {}", c.method, c.params))
                .collect::<Vec<_>>()
        );
        // Exactly `n`: messages that arrived together with them stay for the next read.
        let new = all[self.seen..self.seen + n].to_vec();
        self.seen += n;
        new
    }

    /// Sends `text` and reads the reply that contains `expect`.
    fn say(&mut self, text: &str, expect: &str) -> Call {
        self.fake.text(self.id, self.lang, text);
        self.until(expect)
    }

    /// Reads messages until one contains `expect`.
    fn until(&mut self, expect: &str) -> Call {
        loop {
            let m = self.read(1).remove(0);
            if m.text().contains(expect) {
                return m;
            }
        }
    }

    /// Presses the button labelled `label` (contains) on message `m`.
    fn press(&mut self, m: &Call, label: &str) -> i64 {
        let (_, data) = m
            .buttons()
            .into_iter()
            .find(|(l, _)| l.contains(label))
            .unwrap_or_else(|| panic!("no button {label} in {:?}", m.buttons()));
        self.fake.press(self.id, self.lang, m.message_id(), &data)
    }

    /// /start, contact, ID last four: a bound chat.
    fn bind(&mut self, phone: &str, id_last4: &str) {
        self.fake.text(self.id, self.lang, "/start");
        let asks = self.until("手机号");
        assert!(asks.asks_contact(), "/start offers the contact button");
        self.fake.contact(self.id, self.lang, phone, self.id);
        let ask_id = self.until("身份证号的后四位");
        assert_eq!(ask_id.params["reply_markup"]["remove_keyboard"], true);
        self.say(id_last4, "绑定成功");
    }
}

fn texts(calls: &[Call]) -> Vec<String> {
    calls.iter().map(Call::text).collect()
}

fn count(calls: &[Call], needle: &str) -> usize {
    calls.iter().filter(|c| c.text().contains(needle)).count()
}

#[test]
fn a_customer_binds_by_contact_asks_the_bill_and_repays_with_buttons() {
    let fake = FakeTelegram::start(TOKEN);
    let (_dir, data) = data_dir();
    let served = serve(&data, &fake, &[]);
    let mut c = Customer::new(&fake, 5001, ZH);
    c.bind("+86 138 0000 5678", "123x");
    let bill = c.say("我这个月要还多少", "267.90");
    c.press(&bill, "立即还款");
    let confirm = c.until("确认支付吗");
    c.press(&confirm, "确认支付");
    let receipt = c.until("支付单号");
    assert!(receipt.text().contains("C20261121-"), "{}", receipt.text());
    // Every press was answered and its keyboard taken away.
    let answered = fake.calls_of("answerCallbackQuery").len();
    assert_eq!(answered, 2);
    let edits = fake.calls_of("editMessageReplyMarkup");
    for pressed in [&bill, &confirm] {
        assert!(edits
            .iter()
            .any(|e| e.params["message_id"] == pressed.message_id()));
    }
    assert_eq!(fake.calls_of("setMyCommands").len(), 2);
    let log = served.stop();
    assert!(log.contains("loaded the built-in demo accounts"), "{log}");
    assert!(!log.contains("13800005678") && !log.contains("267.90"));
    let after = paid_fen(&statement(&data, "A1001"));
    assert_eq!(
        after - demo_paid_fen(),
        26790,
        "exactly one payment of 267.90"
    );
}

#[test]
fn forged_contacts_replays_double_presses_and_stale_buttons_change_nothing() {
    let fake = FakeTelegram::start(TOKEN);
    let (_dir, data) = data_dir();
    let served = serve(&data, &fake, &[]);
    let mut c = Customer::new(&fake, 5002, ZH);
    // Someone else's contact is refused and binds nothing.
    fake.text(c.id, ZH, "/start");
    let menu = c.until("分期还款助手");
    c.until("手机号");
    fake.contact(c.id, ZH, "13800005678", 9999);
    c.until("本人的手机号");
    c.say("我这个月要还多少", "请先绑定");
    c.bind("13800005678", "123X");
    // A replayed update is handled once.
    let asked = fake.text(c.id, ZH, "我这个月要还多少");
    c.until("267.90");
    fake.redeliver(asked);
    c.say("/start", "分期还款助手");
    assert_eq!(
        count(&fake.messages_to(c.id), "本期合计应还"),
        1,
        "the replay is ignored"
    );
    // A stale button (from the first menu) is refused; the refusal carries the live buttons.
    c.press(&menu, "查账单");
    let fresh = c.until("按钮已失效");
    c.press(&fresh, "查账单");
    let bill = c.until("267.90");
    // The pay button pressed twice pays once.
    c.press(&bill, "立即还款");
    let confirm = c.until("确认支付吗");
    c.press(&confirm, "确认支付");
    c.press(&confirm, "确认支付");
    c.until("支付成功");
    // The second press answers with the receipt of what was paid, not "expired".
    c.until("这笔支付已经完成");
    served.stop();
    let all = fake.messages_to(c.id);
    assert_eq!(count(&all, "支付成功"), 1, "{:?}", texts(&all));
    let after = paid_fen(&statement(&data, "A1001"));
    assert_eq!(after - demo_paid_fen(), 26790, "exactly one payment");
}

#[test]
fn a_flooding_customer_gets_one_notice_and_others_are_still_answered() {
    let fake = FakeTelegram::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let served = serve_with(&dir.path().join("data"), &fake, &[], true);
    let (flooder, other) = (5003, 5004);
    for _ in 0..30 {
        fake.text(flooder, ZH, "你好");
    }
    let mut o = Customer::new(&fake, other, "en");
    o.say("/start", "installment assistant");
    served.stop();
    let got = fake.messages_to(flooder);
    assert_eq!(count(&got, "发送消息太快"), 1, "{:?}", texts(&got));
    assert!(
        got.len() < 15,
        "not answered message by message: {}",
        got.len()
    );
}

#[test]
fn a_restart_in_the_middle_of_paying_resumes_where_it_was() {
    let fake = FakeTelegram::start(TOKEN);
    let (_dir, data) = data_dir();
    let served = serve(&data, &fake, &[]);
    let mut c = Customer::new(&fake, 5005, "en");
    fake.text(c.id, "en", "/start");
    c.until("installment assistant");
    c.until("mobile number");
    fake.contact(c.id, "en", "8613800005678", c.id);
    c.until("last four");
    c.say("123X", "Linked");
    let choose = c.say("/repay", "");
    c.press(&choose, "");
    let confirm = c.read(1).remove(0);
    served.stop();
    let served = serve(&data, &fake, &[]);
    c.press(&confirm, "");
    c.until("C20261121-");
    let log = served.stop();
    assert!(!log.contains("loaded the built-in demo accounts"));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// POSTs an update to the webhook; returns the HTTP status.
fn post(port: u16, path: &str, secret: &str, body: &Value) -> u16 {
    let body = body.to_string();
    let deadline = Instant::now() + WAIT;
    let mut stream = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("webhook not listening: {e}"),
        }
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         X-Telegram-Bot-Api-Secret-Token: {secret}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn webhook_mode_refuses_a_wrong_secret_and_takes_a_right_one_once() {
    let fake = FakeTelegram::start(TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/telegram");
    let listen = format!("127.0.0.1:{port}");
    let served = serve(
        &dir.path().join("data"),
        &fake,
        &["--webhook", &url, "--listen", &listen],
    );
    let deadline = Instant::now() + WAIT;
    let hook = loop {
        if let Some(hook) = fake.webhook() {
            break hook;
        }
        assert!(Instant::now() < deadline, "the bot never set its webhook");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(hook["url"], url.as_str());
    let secret = hook["secret_token"].as_str().unwrap().to_string();
    let user = 5006;
    let update = fake.next_update("message", fake.text_body(user, "en", "/start"));
    assert_eq!(post(port, "/telegram", "wrong-secret", &update), 401);
    assert_eq!(post(port, "/telegram", &secret, &update), 200);
    let mut c = Customer::new(&fake, user, "en");
    c.until("installment assistant");
    // Telegram retrying the same update: accepted, not answered again.
    assert_eq!(post(port, "/telegram", &secret, &update), 200);
    let marker = fake.next_update("message", fake.text_body(user, "en", "help"));
    assert_eq!(post(port, "/telegram", &secret, &marker), 200);
    c.read(1);
    served.stop();
    let all = fake.messages_to(user);
    assert_eq!(count(&all, "installment assistant"), 1, "{:?}", texts(&all));
}

#[test]
fn serve_explains_a_missing_or_rejected_token() {
    let (_dir, data) = data_dir();
    let out = Command::new(bin())
        .args(["--data-dir", data.to_str().unwrap(), "serve"])
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TELOXIDE_TOKEN"));
    let fake = FakeTelegram::start(TOKEN);
    let out = Command::new(bin())
        .args(["--data-dir", data.to_str().unwrap(), "serve"])
        .args(["--api-url", &fake.url()])
        .env("TELOXIDE_TOKEN", "999:wrong")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the token"));
}

/// The reminder scheduler inside `serve` (telegram_e2e/reminders.rs).
mod reminders;

/// /start, the sender's own contact, `last4`; returns the answer to the last four.
fn try_binding(c: &mut Customer, phone: &str, last4: &str, expect: &str) -> Call {
    c.fake.text(c.id, c.lang, "/start");
    c.until("手机号");
    c.fake.contact(c.id, c.lang, phone, c.id);
    c.until("身份证号的后四位");
    c.say(last4, expect)
}

#[test]
fn binding_attacks_by_typed_phone_forget_and_several_chats_are_refused() {
    let fake = FakeTelegram::start(TOKEN);
    let (_dir, data) = data_dir();
    let served = serve(&data, &fake, &[]);
    let mut owner = Customer::new(&fake, 6001, ZH);
    owner.bind("13800005678", "123X");
    let mut x = Customer::new(&fake, 6002, ZH);
    fake.text(x.id, ZH, "/start");
    x.until("手机号");
    // A typed number is never looked up: the contact button again.
    let typed = x.say("13800005678", "按钮");
    assert!(typed.asks_contact(), "{}", typed.text());
    assert!(!typed.text().contains("138****5678"), "{}", typed.text());
    // Someone else's contact is refused without suggesting to type it.
    fake.contact(x.id, ZH, "13800005678", 9999);
    let forged = x.until("本人的手机号");
    assert!(!forged.text().contains("输入"), "{}", forged.text());
    // The owner's number from another Telegram account (a recycled SIM): a neutral refusal,
    // and the owner is told.
    fake.contact(x.id, ZH, "13800005678", x.id);
    x.until("身份证号的后四位");
    x.say("0000", "未能通过核验");
    owner.until("尝试绑定您的商城账户");
    // /forget between attempts does not clear the count: the fifth locks.
    for n in 1..5 {
        x.say("/forget", "已删除");
        try_binding(&mut x, "13800005678", &format!("000{n}"), "未能通过核验");
    }
    // Locked: the contact itself is answered so, /forget or not.
    x.say("/forget", "已删除");
    fake.text(x.id, ZH, "/start");
    x.until("手机号");
    fake.contact(x.id, ZH, "13800005678", x.id);
    x.until("已锁定");
    // A fresh chat with the right answer: the account itself is locked.
    let mut y = Customer::new(&fake, 6003, ZH);
    try_binding(&mut y, "13800005678", "123X", "已锁定");
    y.say("查账单", "请先绑定");
    served.stop();
    let notices = count(&fake.messages_to(owner.id), "尝试绑定您的商城账户");
    assert_eq!(notices, 1, "told once per lock period");
}

#[test]
fn unclear_replies_at_the_pay_confirmation_are_asked_again_and_pay_nothing() {
    let fake = FakeTelegram::start(TOKEN);
    let (_dir, data) = data_dir();
    let served = serve(&data, &fake, &[]);
    let mut c = Customer::new(&fake, 6010, ZH);
    c.bind("13800005678", "123X");
    let bill = c.say("我这个月要还多少", "267.90");
    c.press(&bill, "立即还款");
    c.until("确认支付吗");
    for unclear in ["确认吗", "ok no", "好吧不用了", "对吗？", "yes but wait"] {
        let again = c.say(unclear, "需要明确确认");
        assert!(
            again.buttons().iter().any(|(l, _)| l.contains("确认支付")),
            "{unclear}: the buttons again: {:?}",
            again.buttons()
        );
    }
    assert_eq!(
        count(&fake.messages_to(c.id), "支付单号"),
        0,
        "nothing paid yet"
    );
    c.say("确认", "支付单号");
    served.stop();
    let after = paid_fen(&statement(&data, "A1001"));
    assert_eq!(after - demo_paid_fen(), 26790, "exactly one payment");
}

#[test]
fn a_crash_right_after_the_payment_delivers_the_receipt_after_restart_and_pays_once() {
    let fake = FakeTelegram::start(TOKEN);
    let (_dir, data) = data_dir();
    let served = serve(&data, &fake, &[]);
    let mut c = Customer::new(&fake, 6020, ZH);
    c.bind("13800005678", "123X");
    served.stop();
    let abort = [("REPAYBOT_TEST_ABORT_AFTER_PAYMENT", "1")];
    let served = serve_env(&data, &fake, &[], false, &abort);
    let bill = c.say("我这个月要还多少", "267.90");
    c.press(&bill, "立即还款");
    let confirm = c.until("确认支付吗");
    c.press(&confirm, "确认支付");
    served.crashed();
    assert_eq!(
        count(&fake.messages_to(c.id), "支付单号"),
        0,
        "no receipt before the crash"
    );
    // Back up: the receipt owed is sent first.
    let served = serve(&data, &fake, &[]);
    let owed = c.until("之前的支付已成功");
    assert!(owed.text().contains("C20261121-"), "{}", owed.text());
    // The old confirm button answers with the receipt, not "expired", and pays nothing.
    c.press(&confirm, "确认支付");
    let again = c.until("C20261121-");
    assert!(!again.text().contains("按钮已失效"), "{}", again.text());
    // Starting again at once asks first, showing the earlier receipt.
    let bill = c.say("我这个月要还多少", "267.90");
    c.press(&bill, "立即还款");
    let asked = c.until("几分钟前刚支付过");
    assert!(asked.text().contains("C20261121-"), "{}", asked.text());
    c.press(&asked, "取消");
    served.stop();
    let after = paid_fen(&statement(&data, "A1001"));
    assert_eq!(after - demo_paid_fen(), 26790, "exactly one payment");
}
