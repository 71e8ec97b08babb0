//! The real `repaybot serve` with `[payments] gateway = "http"` against the fake payment API
//! (fake_api.rs) and the fake Bot API: a customer pays A1001's bill (¥267.90) at the cashier
//! link, the API calls back (or does not), and `statement --json` afterwards shows exactly the
//! confirmed payments.

use super::fake_api::{callback_body, post_callback, signed, FakePayApi, SECRET};
use crate::fake_telegram::{Call, FakeTelegram};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "123456:TEST-token_for-fake";
const TODAY: &str = "2026-11-21";
const WAIT: Duration = Duration::from_secs(60);
const ZH: &str = "zh-hans";
const BILL: &str = "267.90";
const BILL_FEN: i64 = 26790;
const WAITING: &str = "链接有效期至";
const RECEIPT: &str = "收银台已确认收款";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_repaybot")
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A running `serve` with the http gateway.
struct Bot {
    child: Child,
    log: PathBuf,
    callback: String,
}

/// The folder, its config file and the callback port of one scenario.
struct Setup {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    port: u16,
}

fn setup(api: &FakePayApi) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let config = dir.path().join("repaybot.toml");
    let text = format!(
        "[payments]\ngateway = \"http\"\napi_url = \"{}\"\ncallback_url = \"http://127.0.0.1:{port}/pay/callback\"\ncallback_listen = \"127.0.0.1:{port}\"\npending_minutes = 30\n",
        api.api_url()
    );
    std::fs::write(&config, text).unwrap();
    Setup {
        _dir: dir,
        data,
        config,
        port,
    }
}

fn serve(s: &Setup, fake: &FakeTelegram, env: &[(&str, &str)]) -> Bot {
    let log = s.data.with_extension(format!(
        "{}.{}.log",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let log = unique(log);
    let file = std::fs::File::create(&log).unwrap();
    let child = Command::new(bin())
        .args(["--data-dir", s.data.to_str().unwrap(), "--today", TODAY])
        .args(["--config", s.config.to_str().unwrap(), "serve"])
        .args([
            "--api-url",
            &fake.url(),
            "--send-limits",
            "1000/60000/10000",
        ])
        .args(["--flood", "1000/1"])
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("REPAYBOT_PAYMENT_SECRET", SECRET)
        .env("RUST_LOG", "info")
        .env_remove("REPAYBOT_WEBHOOK_SECRET")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap();
    let bot = Bot {
        child,
        log,
        callback: format!("http://127.0.0.1:{}/pay/callback", s.port),
    };
    let deadline = Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "no callback server:\n{}",
            bot.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    bot
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

impl Bot {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A signed callback; the status code.
    fn callback(&self, id: &str, status: &str, amount: &str) -> Option<u16> {
        let body = callback_body(id, status, amount);
        post_callback(&self.callback, &body, signed(&body))
    }

    /// SIGTERM and a clean exit; the log.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        let log = self.log();
        assert!(status.success(), "serve failed ({status}):\n{log}");
        log
    }

    /// SIGKILL: no cleanup at all.
    fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log()
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("serve log:\n{}", self.log());
        }
    }
}

/// A customer in the Telegram app.
struct Customer<'a> {
    fake: &'a FakeTelegram,
    id: i64,
    seen: usize,
}

impl<'a> Customer<'a> {
    fn new(fake: &'a FakeTelegram, id: i64) -> Self {
        Customer { fake, id, seen: 0 }
    }

    fn until(&mut self, expect: &str) -> Call {
        loop {
            let all = self.fake.wait_messages(self.id, self.seen + 1, WAIT);
            assert!(
                all.len() > self.seen,
                "chat {} waited for {expect:?}; got {:?}",
                self.id,
                all.iter().map(Call::text).collect::<Vec<_>>()
            );
            let m = all[self.seen].clone();
            self.seen += 1;
            if m.text().contains(expect) {
                return m;
            }
        }
    }

    fn say(&mut self, text: &str, expect: &str) -> Call {
        self.fake.text(self.id, ZH, text);
        self.until(expect)
    }

    fn press(&mut self, m: &Call, label: &str) {
        let (_, data) = m
            .buttons()
            .into_iter()
            .find(|(l, _)| l.contains(label))
            .unwrap_or_else(|| panic!("no button {label} in {:?}", m.buttons()));
        self.fake.press(self.id, ZH, m.message_id(), &data);
    }

    /// Binds A1001 and confirms paying the bill: the waiting message with the cashier link.
    fn start_payment(&mut self) -> Call {
        self.fake.text(self.id, ZH, "/start");
        self.until("手机号");
        self.fake.contact(self.id, ZH, "+86 138 0000 5678", self.id);
        self.until("身份证号的后四位");
        self.say("123x", "绑定成功");
        let bill = self.say("我这个月要还多少", BILL);
        self.press(&bill, "立即还款");
        let confirm = self.until("确认支付吗");
        self.press(&confirm, "确认支付");
        self.until(WAITING)
    }

    /// How many messages so far contain `needle`.
    fn count(&self, needle: &str) -> usize {
        self.fake
            .messages_to(self.id)
            .iter()
            .filter(|m| m.text().contains(needle))
            .count()
    }
}

/// The link buttons (label, URL) of a message.
fn links(m: &Call) -> Vec<(String, String)> {
    let rows = m.params["reply_markup"]["inline_keyboard"].as_array();
    rows.into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|b| {
            Some((
                b["text"].as_str()?.to_string(),
                b["url"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn repaybot(data: &Path, args: &[&str]) -> Value {
    let out = Command::new(bin())
        .args(["--data-dir", data.to_str().unwrap(), "--today", TODAY])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Everything A1001 has paid, in fen.
fn paid_fen(data: &Path) -> i64 {
    let doc = repaybot(data, &["statement", "A1001", "--json"]);
    let mut fen = 0;
    for order in doc["orders"].as_array().unwrap() {
        for i in order["installments"].as_array().unwrap() {
            fen += i["paid"]
                .as_str()
                .unwrap()
                .replace('.', "")
                .parse::<i64>()
                .unwrap();
        }
    }
    fen
}

/// What A1001 has paid before any chat (the demo data on TODAY).
fn demo_paid_fen() -> i64 {
    let dir = tempfile::tempdir().unwrap();
    paid_fen(&dir.path().join("data"))
}

fn payments(data: &Path) -> Vec<Value> {
    repaybot(data, &["payments", "--json"])
        .as_array()
        .cloned()
        .unwrap()
}

/// The one payment the API was asked to create.
fn created_id(api: &FakePayApi) -> String {
    let creates = api.creates();
    assert!(!creates.is_empty(), "no create call");
    creates[0].0["payment_id"].as_str().unwrap().to_string()
}

#[test]
fn a_confirmed_payment_is_applied_once_and_callback_replays_change_nothing() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[("RUST_LOG", "debug")]);
    let mut c = Customer::new(&fake, 6101);
    let waiting = c.start_payment();
    let id = created_id(&api);
    let (body, signed_ok) = &api.creates()[0];
    assert!(signed_ok, "the create call is signed");
    assert_eq!(body["amount"], BILL);
    assert_eq!(body["currency"], "CNY");
    assert_eq!(body["order_id"], "MI2026050101");
    assert_eq!(body["callback_url"], bot.callback);
    assert!(waiting.text().contains(BILL), "{}", waiting.text());
    assert_eq!(
        links(&waiting),
        vec![(
            format!("去支付 ¥{BILL}"),
            format!("https://cashier.shop.example/pay/{id}")
        )]
    );
    // Before the callback the bill shows the payment as pending.
    c.say("我这个月要还多少", "处理中的支付");
    for _ in 0..4 {
        assert_eq!(bot.callback(&id, "succeeded", BILL), Some(200));
    }
    c.until(RECEIPT);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(c.count(RECEIPT), 1, "one receipt for one payment");
    let log = bot.stop();
    assert!(!log.contains(SECRET), "the secret must never be logged");
    assert!(log.contains("DEBUG"), "the run logged at debug level");
    assert_eq!(paid_fen(&s.data) - demo_paid_fen(), BILL_FEN);
    let listed = payments(&s.data);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "succeeded");
}

#[test]
fn callbacks_with_a_bad_signature_body_id_or_amount_are_refused_and_apply_nothing() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[]);
    let mut c = Customer::new(&fake, 6102);
    c.start_payment();
    let id = created_id(&api);
    let body = callback_body(&id, "succeeded", BILL);
    let now = chrono::Utc::now().timestamp();
    let other = repaybot::settings::Secret::new("not-the-secret");
    let forged = repaybot::payments::sign::sign(&other, now, body.as_bytes());
    let stale = repaybot::payments::sign::sign(
        &repaybot::settings::Secret::new(SECRET),
        now - 301,
        body.as_bytes(),
    );
    let url = bot.callback.clone();
    assert_eq!(
        post_callback(&url, &body, Some(forged)),
        Some(401),
        "bad signature"
    );
    assert_eq!(
        post_callback(&url, &body, Some(stale)),
        Some(401),
        "stale timestamp"
    );
    assert_eq!(
        post_callback(&url, &body, None),
        Some(401),
        "missing header"
    );
    assert_eq!(
        post_callback(&url, &body, Some("t=1,v1".into())),
        Some(401),
        "malformed header"
    );
    let malformed = r#"{"payment_id": 7, "status": "succeeded"}"#;
    assert_eq!(
        post_callback(&url, malformed, signed(malformed)),
        Some(400),
        "malformed body"
    );
    assert_eq!(
        bot.callback("C-unknown-1", "succeeded", BILL),
        Some(404),
        "unknown id"
    );
    assert_eq!(
        bot.callback(&id, "succeeded", "1.00"),
        Some(422),
        "wrong amount"
    );
    assert_eq!(bot.callback(&id, "succeeded", "1.00"), Some(422), "again");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.count(RECEIPT), 0);
    bot.stop();
    assert_eq!(paid_fen(&s.data), demo_paid_fen(), "nothing applied");
    let listed = payments(&s.data);
    assert_eq!(listed[0]["status"], "pending");
    let notes = listed[0]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "the mismatch is recorded once: {notes:?}");
}

#[test]
fn a_payment_that_failed_and_then_succeeded_is_applied_and_the_customer_told() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[]);
    let mut c = Customer::new(&fake, 6103);
    c.start_payment();
    let id = created_id(&api);
    assert_eq!(bot.callback(&id, "failed", BILL), Some(200));
    c.until("支付未成功");
    assert_eq!(bot.callback(&id, "succeeded", BILL), Some(200));
    c.until("最终已到账");
    assert_eq!(
        bot.callback(&id, "failed", BILL),
        Some(200),
        "a late failed changes nothing"
    );
    bot.stop();
    assert_eq!(paid_fen(&s.data) - demo_paid_fen(), BILL_FEN);
    assert_eq!(payments(&s.data)[0]["status"], "succeeded");
}

#[test]
fn a_lost_callback_is_found_by_the_status_query() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[("REPAYBOT_TEST_RECONCILE_MS", "200")]);
    let mut c = Customer::new(&fake, 6104);
    c.start_payment();
    let id = created_id(&api);
    let asked = api.status_calls();
    let deadline = Instant::now() + WAIT;
    while api.status_calls() <= asked + 1 {
        assert!(Instant::now() < deadline, "no status query");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Still pending at the API: nothing happens. Then the customer pays; the callback is lost.
    api.set_status(
        &id,
        json!({"payment_id": id, "status": "succeeded", "amount": BILL, "paid_at": "2026-11-21T10:20:00+08:00"}),
    );
    c.until(RECEIPT);
    bot.stop();
    assert_eq!(paid_fen(&s.data) - demo_paid_fen(), BILL_FEN);
    assert_eq!(payments(&s.data)[0]["status"], "succeeded");
}

#[test]
fn create_answering_5xx_twice_then_201_makes_one_payment_with_one_id() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    api.script_create(&[500, 503]);
    let s = setup(&api);
    let bot = serve(&s, &fake, &[]);
    let mut c = Customer::new(&fake, 6105);
    let waiting = c.start_payment();
    assert_eq!(links(&waiting).len(), 1);
    let creates = api.creates();
    assert_eq!(creates.len(), 3, "three tries");
    let id = created_id(&api);
    assert!(creates
        .iter()
        .all(|(b, ok)| b["payment_id"] == id.as_str() && *ok));
    assert_eq!(bot.callback(&id, "succeeded", BILL), Some(200));
    c.until(RECEIPT);
    bot.stop();
    let listed = payments(&s.data);
    assert_eq!(listed.len(), 1, "one payment");
    assert_eq!(listed[0]["tries"], 3);
    assert_eq!(paid_fen(&s.data) - demo_paid_fen(), BILL_FEN);
}

#[test]
fn create_answering_4xx_tells_the_customer_and_applies_nothing() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    api.script_create(&[400]);
    let s = setup(&api);
    let bot = serve(&s, &fake, &[]);
    let mut c = Customer::new(&fake, 6106);
    c.fake.text(c.id, ZH, "/start");
    c.until("手机号");
    c.fake.contact(c.id, ZH, "+86 138 0000 5678", c.id);
    c.until("身份证号的后四位");
    c.say("123x", "绑定成功");
    let bill = c.say("我这个月要还多少", BILL);
    c.press(&bill, "立即还款");
    let confirm = c.until("确认支付吗");
    c.press(&confirm, "确认支付");
    c.until("收银台未能发起这笔支付");
    assert_eq!(api.creates().len(), 1, "a 4xx is not retried");
    bot.stop();
    assert_eq!(paid_fen(&s.data), demo_paid_fen());
    assert_eq!(payments(&s.data)[0]["status"], "not_started");
    let open = repaybot(&s.data, &["payments", "--pending", "--json"]);
    assert_eq!(open, json!([]), "nothing waits at the cashier");
    let out = Command::new(bin())
        .args(["--data-dir", s.data.to_str().unwrap(), "payments"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("not_started") && listed.contains("MI2026050101"),
        "{listed}"
    );
}

#[test]
fn a_bot_killed_after_the_callback_was_durable_applies_it_once_when_the_api_retries() {
    let (fake, api) = (FakeTelegram::start(TOKEN), FakePayApi::start());
    let s = setup(&api);
    let bot = serve(&s, &fake, &[("REPAYBOT_TEST_CALLBACK_DELAY_MS", "30000")]);
    let mut c = Customer::new(&fake, 6107);
    c.start_payment();
    let id = created_id(&api);
    let url = bot.callback.clone();
    let body = callback_body(&id, "succeeded", BILL);
    let first = std::thread::spawn(move || post_callback(&url, &body, signed(&body)));
    let deadline = Instant::now() + WAIT;
    while !bot.log().contains("payment applied") {
        assert!(
            Instant::now() < deadline,
            "the callback was not applied:\n{}",
            bot.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    bot.kill();
    assert_eq!(
        first.join().unwrap(),
        None,
        "the first callback got no answer"
    );
    // The API retries after the restart.
    let bot = serve(&s, &fake, &[]);
    assert_eq!(bot.callback(&id, "succeeded", BILL), Some(200));
    c.until(RECEIPT);
    bot.stop();
    assert_eq!(
        paid_fen(&s.data) - demo_paid_fen(),
        BILL_FEN,
        "applied exactly once"
    );
}

#[test]
fn serve_refuses_the_http_gateway_without_its_secret() {
    let api = FakePayApi::start();
    let s = setup(&api);
    let out = Command::new(bin())
        .args([
            "--data-dir",
            s.data.to_str().unwrap(),
            "--config",
            s.config.to_str().unwrap(),
        ])
        .arg("serve")
        .env("TELOXIDE_TOKEN", TOKEN)
        .env_remove("REPAYBOT_PAYMENT_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("REPAYBOT_PAYMENT_SECRET"), "{err}");
}
