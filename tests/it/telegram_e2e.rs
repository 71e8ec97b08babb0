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
/// The support desk through Telegram (tests/it/telegram_e2e/support.rs).
mod support;

/// A running `repaybot serve`.
struct Served {
    child: Child,
    log: PathBuf,
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_repaybot")
}

/// `--flood` at its default only where the test is about floods: the other tests type faster
/// than any person.
fn serve(dir: &Path, fake: &FakeTelegram, extra: &[&str]) -> Served {
    serve_with(dir, fake, extra, false)
}

fn serve_with(dir: &Path, fake: &FakeTelegram, extra: &[&str], flood: bool) -> Served {
    let log = dir.with_extension(format!("log{}", std::process::id()));
    let log = unique(log);
    let file = std::fs::File::create(&log).unwrap();
    let child = Command::new(bin())
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "--today",
            TODAY,
            "serve",
        ])
        .args([
            "--api-url",
            &fake.url(),
            "--send-limits",
            "1000/60000/10000",
        ])
        .args(["--flood", if flood { "5/700" } else { "1000/1" }])
        .args(extra)
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .env_remove("REPAYBOT_WEBHOOK_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap();
    Served { child, log }
}

fn unique(p: PathBuf) -> PathBuf {
    let mut n = 0;
    loop {
        let candidate = p.with_extension(format!("{n}.log"));
        if !candidate.exists() {
            return candidate;
        }
        n += 1;
    }
}

impl Served {
    /// SIGTERM, then waits for a clean exit; returns the log.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status();
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        assert!(status.success(), "serve failed ({status}):\n{log}");
        log
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
    let out = Command::new(bin())
        .args(["--data-dir", dir.to_str().unwrap(), "--today", day])
        .args(["statement", account, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
        let new = all[self.seen..].to_vec();
        self.seen = all.len();
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
    c.until("支付单号");
    c.until("按钮已失效");
    served.stop();
    let all = fake.messages_to(c.id);
    assert_eq!(count(&all, "支付单号"), 1, "{:?}", texts(&all));
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
