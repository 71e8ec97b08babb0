//! What the payment e2e tests share: `serve` with the http gateway (a config file, the secret,
//! the callback port), a customer in the fake Telegram app who starts paying A1001's bill, and
//! the operators' commands read afterwards (`statement --json`, `payments --json`).

use super::fake_api::{callback_body, post_callback, signed, FakePayApi, SECRET};
use crate::fake_telegram::{Call, FakeTelegram};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "123456:TEST-token_for-fake";
pub const TODAY: &str = "2026-11-21";
pub const WAIT: Duration = Duration::from_secs(60);
pub const ZH: &str = "zh-hans";
pub const BILL: &str = "267.90";
pub const BILL_FEN: i64 = 26790;
pub const WAITING: &str = "链接有效期至";
pub const RECEIPT: &str = "收银台已确认收款";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_repaybot")
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A running `serve` with the http gateway.
pub struct Bot {
    child: Child,
    log: PathBuf,
    pub callback: String,
}

/// The folder, its config file and the callback port of one scenario.
pub struct Setup {
    _dir: tempfile::TempDir,
    pub data: PathBuf,
    pub config: PathBuf,
    pub port: u16,
}

pub fn setup(api: &FakePayApi) -> Setup {
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

pub fn serve(s: &Setup, fake: &FakeTelegram, env: &[(&str, &str)]) -> Bot {
    let log = s.data.with_extension(format!(
        "{}.{}.log",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let log = crate::process::unique_log(log);
    let child = crate::process::bot_command(&s.data, TODAY, TOKEN, &log)
        .args(["--config", s.config.to_str().unwrap(), "serve"])
        .args([
            "--api-url",
            &fake.url(),
            "--send-limits",
            "1000/60000/10000",
        ])
        .args(["--flood", "1000/1"])
        .env("REPAYBOT_PAYMENT_SECRET", SECRET)
        .envs(env.iter().copied())
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

impl Bot {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A signed callback; the status code.
    pub fn callback(&self, id: &str, status: &str, amount: &str) -> Option<u16> {
        let body = callback_body(id, status, amount);
        post_callback(&self.callback, &body, signed(&body))
    }

    /// SIGTERM and a clean exit; the log.
    pub fn stop(mut self) -> String {
        crate::process::stop_clean(&mut self.child, &self.log)
    }

    /// SIGKILL: no cleanup at all.
    pub fn kill(mut self) -> String {
        crate::process::kill(&mut self.child);
        self.log()
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        crate::process::kill(&mut self.child);
        if std::thread::panicking() {
            eprintln!("serve log:\n{}", self.log());
        }
    }
}

/// A customer in the Telegram app.
pub struct Customer<'a> {
    pub fake: &'a FakeTelegram,
    pub id: i64,
    seen: usize,
}

impl<'a> Customer<'a> {
    pub fn new(fake: &'a FakeTelegram, id: i64) -> Self {
        Customer { fake, id, seen: 0 }
    }

    pub fn until(&mut self, expect: &str) -> Call {
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

    pub fn say(&mut self, text: &str, expect: &str) -> Call {
        self.fake.text(self.id, ZH, text);
        self.until(expect)
    }

    pub fn press(&mut self, m: &Call, label: &str) {
        let (_, data) = m
            .buttons()
            .into_iter()
            .find(|(l, _)| l.contains(label))
            .unwrap_or_else(|| panic!("no button {label} in {:?}", m.buttons()));
        self.fake.press(self.id, ZH, m.message_id(), &data);
    }

    /// Binds A1001 and confirms paying the bill: the waiting message with the cashier link.
    pub fn start_payment(&mut self) -> Call {
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
    pub fn count(&self, needle: &str) -> usize {
        self.fake
            .messages_to(self.id)
            .iter()
            .filter(|m| m.text().contains(needle))
            .count()
    }
}

/// The link buttons (label, URL) of a message.
pub fn links(m: &Call) -> Vec<(String, String)> {
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

pub fn repaybot(data: &Path, args: &[&str]) -> Value {
    crate::process::run_json(data, TODAY, args)
}

/// Everything A1001 has paid, in fen.
pub fn paid_fen(data: &Path) -> i64 {
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
pub fn demo_paid_fen() -> i64 {
    let dir = tempfile::tempdir().unwrap();
    paid_fen(&dir.path().join("data"))
}

pub fn payments(data: &Path) -> Vec<Value> {
    repaybot(data, &["payments", "--json"])
        .as_array()
        .cloned()
        .unwrap()
}

/// The one payment the API was asked to create.
pub fn created_id(api: &FakePayApi) -> String {
    let creates = api.creates();
    assert!(!creates.is_empty(), "no create call");
    creates[0].0["payment_id"].as_str().unwrap().to_string()
}
