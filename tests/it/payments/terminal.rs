//! The terminal `chat` with `gateway = "http"`: the cashier link is printed, the callback server
//! runs while the chat runs (a confirmed payment's receipt is printed before the next reply),
//! the bill shows a payment still pending, paying the same installments again asks first, and
//! "cancel" says a started payment may still complete.

use super::fake_api::{callback_body, post_callback, signed, FakePayApi, SECRET};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn wait_for(out: &Arc<Mutex<String>>, needle: &str, from: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = out.lock().unwrap().clone();
        if let Some(i) = text[from..].find(needle) {
            return from + i + needle.len();
        }
        assert!(
            Instant::now() < deadline,
            "waited for {needle:?} in:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

#[test]
fn the_terminal_chat_prints_the_link_marks_the_bill_pending_asks_first_and_prints_the_receipt() {
    let api = FakePayApi::start();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("repaybot.toml");
    let callback = format!("http://127.0.0.1:{port}/cb");
    std::fs::write(
        &config,
        format!(
            "[payments]\ngateway = \"http\"\napi_url = \"{}\"\ncallback_url = \"{callback}\"\ncallback_listen = \"127.0.0.1:{port}\"\n",
            api.api_url()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .args(["--data-dir", dir.path().join("data").to_str().unwrap()])
        .args([
            "--today",
            "2026-11-21",
            "--config",
            config.to_str().unwrap(),
        ])
        .args(["chat", "--account", "A1001"])
        .env("REPAYBOT_PAYMENT_SECRET", SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = Arc::new(Mutex::new(String::new()));
    let stdout = child.stdout.take().unwrap();
    let sink = Arc::clone(&out);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut say = |line: &str| writeln!(stdin, "{line}").unwrap();
    say("我这个月要还多少");
    let at = wait_for(&out, "立即还款", 0);
    say("立即还款");
    let at = wait_for(&out, "确认支付吗", at);
    say("确认支付");
    let at = wait_for(&out, "链接有效期至", at);
    let id = api.creates()[0].0["payment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let at = wait_for(
        &out,
        &format!("去支付 ¥267.90: https://cashier.shop.example/pay/{id}"),
        at,
    );
    say("我这个月要还多少");
    let at = wait_for(&out, "处理中的支付", at);
    say("立即还款");
    let at = wait_for(&out, "已有一笔支付正在等待收银台确认", at);
    say("取消");
    let at = wait_for(&out, "已经发起的支付仍可能完成", at);
    assert_eq!(
        api.creates().len(),
        1,
        "asking first started no second payment"
    );
    let body = callback_body(&id, "succeeded", "267.90");
    assert_eq!(post_callback(&callback, &body, signed(&body)), Some(200));
    say("你好");
    let at = wait_for(&out, "收银台已确认收款", at);
    say("/quit");
    drop(stdin);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success());
    let text = out.lock().unwrap().clone();
    assert!(
        !text[at..].contains("收银台已确认收款"),
        "one receipt:\n{text}"
    );
}
