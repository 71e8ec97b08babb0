//! A fake shop payment API on loopback (axum), as SPEC 2.5 describes it: `POST /api/payments`
//! (checks the bot's signature, answers from a script of status codes, else 201 with a cashier
//! link) and `GET /api/payments/{id}` (a signed status answer the test sets). Plus what the API
//! does towards the bot: a signed callback.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use repaybot::payments::sign;
use repaybot::settings::Secret;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const SECRET: &str = "whsec_e2e_7c1f9a";

#[derive(Default)]
struct Inner {
    /// Every create call: (body, signature valid).
    creates: Vec<(Value, bool)>,
    /// Status codes the next create calls answer (201 when empty; 0: no answer for 3 s).
    script: VecDeque<u16>,
    /// Status answers by payment id (pending with the created amount when unset).
    status: HashMap<String, Value>,
    status_calls: usize,
    /// Status answers go out without their signature header.
    unsigned_status: bool,
}

pub struct FakePayApi {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn secret() -> Secret {
    Secret::new(SECRET)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl FakePayApi {
    pub fn start() -> FakePayApi {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&inner);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new()
                    .route("/api/payments", axum::routing::post(create))
                    .route("/api/payments/{id}", axum::routing::get(status))
                    .with_state(state);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        FakePayApi {
            addr,
            inner,
            _stop: stop,
        }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next create calls answer these status codes, in order.
    pub fn script_create(&self, codes: &[u16]) {
        self.lock().script.extend(codes.iter().copied());
    }

    /// Every create body received (with whether its signature was valid).
    pub fn creates(&self) -> Vec<(Value, bool)> {
        self.lock().creates.clone()
    }

    /// What `GET /api/payments/{id}` answers from now on.
    pub fn set_status(&self, id: &str, body: Value) {
        self.lock().status.insert(id.to_string(), body);
    }

    /// Status answers from now on carry no signature (a proxy stripped it, or a forgery).
    pub fn unsign_status(&self) {
        self.lock().unsigned_status = true;
    }

    pub fn status_calls(&self) -> usize {
        self.lock().status_calls
    }
}

async fn create(State(s): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = headers.get(sign::HEADER).and_then(|v| v.to_str().ok());
    let signed = sign::verify(&secret(), header, &body, now()).is_ok();
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let code = {
        let mut inner = s.lock().unwrap_or_else(|e| e.into_inner());
        inner.creates.push((value.clone(), signed));
        inner.script.pop_front().unwrap_or(201)
    };
    if !signed {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if code == 0 {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    }
    if code != 201 && code != 200 {
        let status = StatusCode::from_u16(code).unwrap();
        return (status, "scripted").into_response();
    }
    let id = value["payment_id"].as_str().unwrap_or("").to_string();
    let answer = json!({
        "payment_id": id,
        "status": "pending",
        "pay_url": format!("https://cashier.shop.example/pay/{id}"),
    });
    (StatusCode::from_u16(code).unwrap(), axum::Json(answer)).into_response()
}

async fn status(
    State(s): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let header = headers.get(sign::HEADER).and_then(|v| v.to_str().ok());
    if sign::verify(&secret(), header, b"", now()).is_err() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (body, unsigned) = {
        let mut inner = s.lock().unwrap_or_else(|e| e.into_inner());
        inner.status_calls += 1;
        let unsigned = inner.unsigned_status;
        let created = inner
            .creates
            .iter()
            .find(|(b, _)| b["payment_id"] == id.as_str())
            .map(|(b, _)| b["amount"].clone());
        let body = match (inner.status.get(&id), created) {
            (Some(b), _) => b.clone(),
            (None, Some(amount)) => {
                json!({"payment_id": id, "status": "pending", "amount": amount})
            }
            (None, None) => return StatusCode::NOT_FOUND.into_response(),
        };
        (body, unsigned)
    };
    let bytes = serde_json::to_vec(&body).unwrap();
    if unsigned {
        return (StatusCode::OK, bytes).into_response();
    }
    let signature = sign::sign(&secret(), now(), &bytes);
    (
        StatusCode::OK,
        [
            (sign::HEADER, signature),
            ("content-type", "application/json".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// The callback body of SPEC 2.5.
pub fn callback_body(id: &str, status: &str, amount: &str) -> String {
    let mut body = json!({"payment_id": id, "status": status, "amount": amount});
    if status == "succeeded" {
        body["paid_at"] = json!("2026-11-21T10:15:00+08:00");
    }
    body.to_string()
}

/// The header signing `body` now.
pub fn signed(body: &str) -> Option<String> {
    Some(sign::sign(&secret(), now(), body.as_bytes()))
}

/// POSTs a callback to the bot; the status code (None: no answer, e.g. the bot was killed).
pub fn post_callback(url: &str, body: &str, header: Option<String>) -> Option<u16> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .timeout(std::time::Duration::from_secs(30))
            .body(body.to_string());
        if let Some(h) = header {
            req = req.header(sign::HEADER, h);
        }
        req.send().await.ok().map(|r| r.status().as_u16())
    })
}
