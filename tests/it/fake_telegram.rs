//! A fake Telegram Bot API server on loopback for end-to-end tests and the benchmark: real Bot
//! API JSON (`{"ok":true,"result":...}`), methods routed case-insensitively, long-polled
//! `getUpdates` honouring `offset`, 4xx (never 5xx) for what it does not implement. It records
//! every call so a test can read what the bot sent, like a customer reading their chat.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub const BOT_ID: i64 = 777_000;

/// One Bot API call the bot made.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub result: Value,
    pub at: Instant,
}

impl Call {
    pub fn chat_id(&self) -> Option<i64> {
        let c = &self.params["chat_id"];
        c.as_i64()
            .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
    }
    pub fn text(&self) -> String {
        self.params["text"].as_str().unwrap_or("").to_string()
    }
    pub fn message_id(&self) -> i64 {
        self.result["message_id"].as_i64().unwrap_or(0)
    }
    /// Inline buttons (label, callback data).
    pub fn buttons(&self) -> Vec<(String, String)> {
        let rows = self.params["reply_markup"]["inline_keyboard"].as_array();
        rows.into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .map(|b| {
                let text = b["text"].as_str().unwrap_or("").to_string();
                (text, b["callback_data"].as_str().unwrap_or("").to_string())
            })
            .collect()
    }
    /// Whether this message offers the contact button.
    pub fn asks_contact(&self) -> bool {
        let rows = self.params["reply_markup"]["keyboard"].as_array();
        rows.into_iter()
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .any(|b| b["request_contact"] == json!(true))
    }
}

#[derive(Default)]
struct Inner {
    /// (update id, update, delivered again regardless of offset)
    pending: VecDeque<(i64, Value, bool)>,
    all_updates: HashMap<i64, Value>,
    next_update: i64,
    next_message: i64,
    /// message id -> has an inline keyboard
    keyboards: HashMap<i64, bool>,
    calls: Vec<Call>,
    webhook: Option<Value>,
    /// `getUpdates` answers 502 Bad Gateway while set (Telegram unreachable).
    updates_down: bool,
    /// Private chats that blocked the bot: sends to them answer 403.
    blocked: std::collections::HashSet<i64>,
    /// Support-group side (tests/it/fake_telegram.rs `group_*`): forum groups and their topics,
    /// members' statuses (`getChatMember`), messages by id (for `reply_to_message`).
    groups: GroupState,
    /// Failures answered on demand (tests/it/fake_telegram.rs `fail_*`).
    faults: Faults,
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
    changed: Condvar,
    new_update: tokio::sync::Notify,
}

/// The running fake server (stops when dropped with its runtime thread).
pub struct FakeTelegram {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl FakeTelegram {
    pub fn start(token: &str) -> FakeTelegram {
        let shared = Arc::new(Shared {
            token: token.to_string(),
            inner: Mutex::new(Inner {
                next_update: 1000,
                next_message: 1,
                ..Inner::default()
            }),
            changed: Condvar::new(),
            new_update: tokio::sync::Notify::new(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = Router::new()
                    .route("/{bot}/{method}", axum::routing::any(api))
                    .with_state(state);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        FakeTelegram {
            addr,
            shared,
            _stop: stop,
        }
    }

    /// While `down`, `getUpdates` fails with 502 (the Bot API unreachable); other methods work.
    pub fn set_updates_down(&self, down: bool) {
        self.shared
            .inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .updates_down = down;
    }

    /// The customer `chat` blocks the bot: messages to it answer 403 Forbidden.
    pub fn block(&self, chat: i64) {
        self.lock().blocked.insert(chat);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an update (its id assigned here) and returns the id.
    pub fn push(&self, kind: &str, body: Value) -> i64 {
        let id = {
            let mut inner = self.lock();
            inner.next_update += 1;
            let id = inner.next_update;
            let update = json!({ "update_id": id, kind: body });
            inner.all_updates.insert(id, update.clone());
            inner.pending.push_back((id, update, false));
            id
        };
        self.shared.new_update.notify_waiters();
        id
    }

    /// Delivers update `id` once more (Telegram redelivering an update it thinks was lost).
    pub fn redeliver(&self, id: i64) {
        {
            let mut inner = self.lock();
            let Some(update) = inner.all_updates.get(&id).cloned() else {
                return;
            };
            inner.pending.push_back((id, update, true));
        }
        self.shared.new_update.notify_waiters();
    }

    /// The update JSON of `id`, e.g. to post it to a webhook.
    pub fn update(&self, id: i64) -> Option<Value> {
        self.lock().all_updates.get(&id).cloned()
    }

    /// Builds an update without queueing it (webhook tests post it themselves).
    pub fn next_update(&self, kind: &str, body: Value) -> Value {
        let mut inner = self.lock();
        inner.next_update += 1;
        let id = inner.next_update;
        let update = json!({ "update_id": id, kind: body });
        inner.all_updates.insert(id, update.clone());
        update
    }

    pub fn text(&self, user: i64, lang: &str, text: &str) -> i64 {
        self.push(
            "message",
            self.message_body(user, lang, json!({ "text": text })),
        )
    }

    pub fn text_body(&self, user: i64, lang: &str, text: &str) -> Value {
        self.message_body(user, lang, json!({ "text": text }))
    }

    /// A shared contact; `contact_user` is whose contact it is (the sender's own when equal).
    pub fn contact(&self, user: i64, lang: &str, phone: &str, contact_user: i64) -> i64 {
        let contact = json!({ "contact": {
            "phone_number": phone, "first_name": "Customer", "user_id": contact_user } });
        self.push("message", self.message_body(user, lang, contact))
    }

    /// A pressed inline button on message `message_id`.
    pub fn press(&self, user: i64, lang: &str, message_id: i64, data: &str) -> i64 {
        let id = format!("cb{}", self.lock().next_update + 1);
        let body = json!({
            "id": id, "from": user_json(user, lang), "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id, "date": 1_764_000_000, "chat": chat_json(user),
                "from": bot_user(), "text": "..."
            }
        });
        self.push("callback_query", body)
    }

    fn message_body(&self, user: i64, lang: &str, content: Value) -> Value {
        let message_id = {
            let mut inner = self.lock();
            inner.next_message += 1;
            inner.next_message
        };
        let mut m = json!({
            "message_id": message_id, "date": sent_now(),
            "chat": chat_json(user), "from": user_json(user, lang)
        });
        if let (Some(m), Some(c)) = (m.as_object_mut(), content.as_object()) {
            m.extend(c.clone());
        }
        m
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        let method = method.to_ascii_lowercase();
        self.lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Messages the bot sent to `chat`, in order.
    pub fn messages_to(&self, chat: i64) -> Vec<Call> {
        self.calls_of("sendMessage")
            .into_iter()
            .filter(|c| c.chat_id() == Some(chat))
            .collect()
    }

    /// Waits (up to `limit`) until `chat` has received at least `n` messages; returns them all.
    pub fn wait_messages(&self, chat: i64, n: usize, limit: Duration) -> Vec<Call> {
        self.wait_until(limit, |calls| {
            let got: Vec<Call> = calls
                .iter()
                .filter(|c| c.method == "sendmessage" && c.chat_id() == Some(chat))
                .cloned()
                .collect();
            (got.len() >= n).then_some(got)
        })
        .unwrap_or_else(|| self.messages_to(chat))
    }

    /// Waits until `check` over all calls returns Some (None after `limit`).
    pub fn wait_until<T>(
        &self,
        limit: Duration,
        check: impl Fn(&[Call]) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + limit;
        let mut inner = self.lock();
        loop {
            if let Some(t) = check(&inner.calls) {
                return Some(t);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            inner = self
                .shared
                .changed
                .wait_timeout(inner, left.min(Duration::from_millis(200)))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// The setWebhook call's parameters (url, secret_token), once the bot made it.
    pub fn webhook(&self) -> Option<Value> {
        self.lock().webhook.clone()
    }

    /// Updates not yet confirmed by the bot.
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }
}

/// A message's `date` as Telegram stamps it: when it was sent, in whole seconds.
fn sent_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn user_json(user: i64, lang: &str) -> Value {
    let mut u = json!({ "id": user, "is_bot": false, "first_name": "Customer" });
    if !lang.is_empty() {
        u["language_code"] = json!(lang);
    }
    u
}

fn chat_json(id: i64) -> Value {
    if id < 0 {
        return json!({ "id": id, "type": "supergroup", "title": "Support" });
    }
    json!({ "id": id, "type": "private", "first_name": "Customer" })
}

fn bot_user() -> Value {
    json!({ "id": BOT_ID, "is_bot": true, "first_name": "repaybot", "username": "repaybot" })
}

fn ok(result: Value) -> Response {
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}

fn err(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({ "ok": false, "error_code": code, "description": description });
    (status, axum::Json(body)).into_response()
}

async fn api(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if bot.strip_prefix("bot") != Some(shared.token.as_str()) {
        return err(401, "Unauthorized");
    }
    let method = method.to_ascii_lowercase();
    let params = parse_params(&headers, &body);
    if let Some(refused) = fault(&shared, &method, &params) {
        return refused;
    }
    if method == "getupdates" {
        if shared
            .inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .updates_down
        {
            return err(502, "Bad Gateway");
        }
        return get_updates(&shared, &params).await;
    }
    let response = answer(&shared, &method, &params);
    let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
    let result = match &response {
        Ok(v) => v.clone(),
        Err((_, d)) => json!({ "error": d }),
    };
    inner.calls.push(Call {
        method,
        params,
        result,
        at: Instant::now(),
    });
    drop(inner);
    shared.changed.notify_all();
    match response {
        Ok(v) => ok(v),
        Err((code, d)) => err(code, &d),
    }
}

/// JSON bodies as they are; multipart forms (sendDocument) as their text fields and file names.
fn parse_params(headers: &axum::http::HeaderMap, body: &[u8]) -> Value {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return v;
    }
    let ctype = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = ctype.split("boundary=").nth(1) else {
        return json!({});
    };
    let text = String::from_utf8_lossy(body);
    let mut out = serde_json::Map::new();
    for part in text.split(&format!("--{}", boundary.trim_matches('"'))) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = field(head, "name=\"");
        let value = value.trim_end_matches("\r\n");
        if let Some(file) = field(head, "filename=\"") {
            out.insert("file_name".into(), json!(file));
            out.insert("file_size".into(), json!(value.len()));
        } else if let Some(name) = name {
            let v = serde_json::from_str(value).unwrap_or_else(|_| json!(value));
            out.insert(name, v);
        }
    }
    Value::Object(out)
}

fn field(head: &str, key: &str) -> Option<String> {
    let start = head.find(key)? + key.len();
    let end = head[start..].find('"')? + start;
    Some(head[start..end].to_string())
}

async fn get_updates(shared: &Shared, params: &Value) -> Response {
    let offset = params["offset"].as_i64().unwrap_or(0);
    let timeout = params["timeout"].as_u64().unwrap_or(0).min(30);
    // As Telegram: at most `limit` updates a call (1 to 100, by default 100).
    let limit = params["limit"].as_u64().map_or(100, |l| l.clamp(1, 100)) as usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = shared.new_update.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner
                .pending
                .retain(|(id, _, forced)| *forced || *id >= offset);
            if !inner.pending.is_empty() {
                let batch: Vec<Value> = inner
                    .pending
                    .iter()
                    .take(limit)
                    .map(|(_, u, _)| u.clone())
                    .collect();
                let mut taken = 0;
                inner.pending.retain(|(_, _, forced)| {
                    taken += 1;
                    taken > limit || !*forced
                });
                return ok(Value::Array(batch));
            }
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(deadline) => return ok(json!([])),
        }
    }
}

fn answer(shared: &Shared, method: &str, p: &Value) -> Result<Value, (u16, String)> {
    let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
    match method {
        "getme" => {
            let mut me = bot_user();
            for (k, v) in [
                ("can_join_groups", false),
                ("can_read_all_group_messages", false),
                ("supports_inline_queries", false),
                ("can_connect_to_business", false),
                ("has_main_web_app", false),
            ] {
                me[k] = json!(v);
            }
            Ok(me)
        }
        "createforumtopic" | "getchatmember" | "sendphoto" => group_answer(&mut inner, method, p),
        "sendmessage" | "senddocument" if p["document"].is_string() || has_thread(p) => {
            group_answer(&mut inner, method, p)
        }
        "sendmessage" | "senddocument" => {
            let Some(chat) = p["chat_id"].as_i64() else {
                return Err((400, "Bad Request: chat not found".into()));
            };
            if inner.blocked.contains(&chat) {
                return Err((403, "Forbidden: bot was blocked by the user".into()));
            }
            inner.next_message += 1;
            let id = inner.next_message;
            let mut m = json!({ "message_id": id, "date": 1_764_000_000,
                "chat": chat_json(chat), "from": bot_user() });
            if method == "sendmessage" {
                let text = p["text"].as_str().unwrap_or("");
                if text.is_empty() {
                    return Err((400, "Bad Request: message text is empty".into()));
                }
                if text.chars().count() > 4096 {
                    return Err((400, "Bad Request: message is too long".into()));
                }
                m["text"] = json!(text);
                let inline = p["reply_markup"]["inline_keyboard"].is_array();
                if inline {
                    m["reply_markup"] = p["reply_markup"].clone();
                }
                inner.keyboards.insert(id, inline);
            } else {
                m["document"] = json!({ "file_id": format!("doc{id}"),
                    "file_unique_id": format!("u{id}"), "file_name": p["file_name"] });
            }
            inner.groups.messages.insert(id, m.clone());
            Ok(m)
        }
        "editmessagereplymarkup" | "editmessagetext" => {
            let (Some(chat), Some(id)) = (p["chat_id"].as_i64(), p["message_id"].as_i64()) else {
                return Err((400, "Bad Request: message to edit not found".into()));
            };
            let had = inner.keyboards.get(&id).copied();
            let wants = p["reply_markup"]["inline_keyboard"].is_array();
            match had {
                None => return Err((400, "Bad Request: message to edit not found".into())),
                Some(false) if !wants && method == "editmessagereplymarkup" => {
                    return Err((400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message".into()))
                }
                _ => {}
            }
            inner.keyboards.insert(id, wants);
            Ok(
                json!({ "message_id": id, "date": 1_764_000_000, "chat": chat_json(chat),
                "from": bot_user(), "text": p["text"].as_str().unwrap_or("...") }),
            )
        }
        "answercallbackquery" | "setmycommands" | "deletewebhook" => Ok(json!(true)),
        "setwebhook" => {
            inner.webhook = Some(p.clone());
            Ok(json!(true))
        }
        "getwebhookinfo" => Ok(
            json!({ "url": inner.webhook.as_ref().map_or(json!(""), |w| w["url"].clone()),
            "has_custom_certificate": false, "pending_update_count": 0 }),
        ),
        _ => Err((404, "Not Found: method not found".into())),
    }
}

// ---- The support group: forum topics, members, photos and documents by file id. ----

#[derive(Default)]
struct GroupState {
    forums: std::collections::HashSet<i64>,
    /// (group, thread id) of topics created.
    topics: Vec<(i64, i64)>,
    next_thread: i64,
    /// user id -> status (`creator`, `administrator`, `member`, `left`, `kicked`).
    members: HashMap<i64, String>,
    /// `getChatMember` fails (Telegram cannot answer) while set.
    member_fails: bool,
    /// Every message the bot sent or a test pushed, by id (to quote in `reply_to_message`).
    messages: HashMap<i64, Value>,
}

fn has_thread(p: &Value) -> bool {
    !p["message_thread_id"].is_null()
}

impl FakeTelegram {
    /// Makes `group` a forum (createForumTopic works there).
    pub fn set_forum(&self, group: i64) {
        self.lock().groups.forums.insert(group);
    }

    /// A user's status in the support group for `getChatMember` (unknown users have `left`).
    pub fn set_member(&self, user: i64, status: &str) {
        self.lock().groups.members.insert(user, status.to_string());
    }

    /// Makes `getChatMember` fail (true) or answer again (false).
    pub fn fail_get_chat_member(&self, fail: bool) {
        self.lock().groups.member_fails = fail;
    }

    /// A message of `user` (first name `name`) in `group`, in topic `thread` and/or replying to
    /// message `reply_to`; returns the update id.
    pub fn group_text(
        &self,
        group: i64,
        from: (i64, &str),
        thread: Option<i64>,
        reply_to: Option<i64>,
        text: &str,
    ) -> i64 {
        self.group_message(group, from, thread, reply_to, json!({ "text": text }))
    }

    /// A photo (largest size `file_id`) of `user` in `group`'s topic `thread`.
    pub fn group_photo(&self, group: i64, from: (i64, &str), thread: i64, file_id: &str) -> i64 {
        let sizes = json!([{ "file_id": file_id, "file_unique_id": "g1",
            "width": 800, "height": 600, "file_size": 50_000 }]);
        self.group_message(group, from, Some(thread), None, json!({ "photo": sizes }))
    }

    fn group_message(
        &self,
        group: i64,
        (user, name): (i64, &str),
        thread: Option<i64>,
        reply_to: Option<i64>,
        content: Value,
    ) -> i64 {
        let body = {
            let mut inner = self.lock();
            inner.next_message += 1;
            let id = inner.next_message;
            let from = json!({ "id": user, "is_bot": false, "first_name": name });
            let mut m = json!({ "message_id": id, "date": sent_now(),
                "chat": chat_json(group), "from": from });
            if let (Some(m), Some(c)) = (m.as_object_mut(), content.as_object()) {
                m.extend(c.clone());
            }
            if let Some(t) = thread {
                m["message_thread_id"] = json!(t);
                m["is_topic_message"] = json!(true);
            }
            if let Some(r) = reply_to.and_then(|r| inner.groups.messages.get(&r).cloned()) {
                m["reply_to_message"] = r;
                if thread.is_none() {
                    // Outside forums Telegram puts every reply in the thread of its root.
                    m["message_thread_id"] = json!(reply_to);
                }
            }
            inner.groups.messages.insert(id, m.clone());
            m
        };
        self.push("message", body)
    }

    /// A photo (with a caption) from a customer in their private chat.
    pub fn photo(&self, user: i64, lang: &str, file_id: &str, caption: Option<&str>) -> i64 {
        let sizes = json!([
            { "file_id": format!("{file_id}-small"), "file_unique_id": "us",
              "width": 90, "height": 60, "file_size": 900 },
            { "file_id": file_id, "file_unique_id": "ul",
              "width": 1280, "height": 960, "file_size": 90_000 }
        ]);
        let mut content = json!({ "photo": sizes });
        if let Some(c) = caption {
            content["caption"] = json!(c);
        }
        self.push("message", self.message_body(user, lang, content))
    }

    /// Everything the bot posted in `group` (texts, photos, documents), in order.
    pub fn group_posts(&self, group: i64) -> Vec<Call> {
        self.lock()
            .calls
            .iter()
            .filter(|c| {
                matches!(
                    c.method.as_str(),
                    "sendmessage" | "sendphoto" | "senddocument"
                ) && c.chat_id() == Some(group)
            })
            .cloned()
            .collect()
    }
}

impl Call {
    /// A post's thread (`message_thread_id`), None in the General topic or a plain group.
    pub fn thread(&self) -> Option<i64> {
        self.params["message_thread_id"].as_i64()
    }
    /// A text or a caption.
    pub fn shown(&self) -> String {
        let p = &self.params;
        p["text"]
            .as_str()
            .or(p["caption"].as_str())
            .unwrap_or("")
            .to_string()
    }
}

fn group_answer(inner: &mut Inner, method: &str, p: &Value) -> Result<Value, (u16, String)> {
    let Some(chat) = p["chat_id"].as_i64() else {
        return Err((400, "Bad Request: chat not found".into()));
    };
    match method {
        "createforumtopic" => {
            if !inner.groups.forums.contains(&chat) {
                return Err((400, "Bad Request: the chat is not a forum".into()));
            }
            inner.groups.next_thread += 1;
            let thread = 40 + inner.groups.next_thread;
            inner.groups.topics.push((chat, thread));
            Ok(json!({ "message_thread_id": thread,
                "name": p["name"].as_str().unwrap_or(""), "icon_color": 7_322_096 }))
        }
        "getchatmember" if inner.groups.member_fails => {
            Err((400, "Bad Request: member list is inaccessible".into()))
        }
        "getchatmember" => {
            let user = p["user_id"].as_i64().unwrap_or(0);
            let status = inner.groups.members.get(&user).cloned();
            Ok(member_json(user, status.as_deref().unwrap_or("left")))
        }
        _ => {
            let thread = p["message_thread_id"].as_i64();
            if let Some(t) = thread {
                if !inner.groups.topics.contains(&(chat, t)) {
                    return Err((400, "Bad Request: message thread not found".into()));
                }
            }
            inner.next_message += 1;
            let id = inner.next_message;
            let mut m = json!({ "message_id": id, "date": 1_764_000_000,
                "chat": chat_json(chat), "from": bot_user() });
            if let Some(t) = thread {
                m["message_thread_id"] = json!(t);
                m["is_topic_message"] = json!(true);
            }
            let caption = p["caption"].clone();
            match method {
                "sendmessage" => m["text"] = p["text"].clone(),
                "sendphoto" => {
                    let file = p["photo"].as_str().unwrap_or("");
                    m["photo"] = json!([{ "file_id": file, "file_unique_id": format!("u{id}"),
                        "width": 1280, "height": 960 }]);
                }
                _ => {
                    let file = p["document"].as_str().unwrap_or("");
                    m["document"] = json!({ "file_id": file, "file_unique_id": format!("u{id}") });
                }
            }
            if caption.is_string() {
                m["caption"] = caption;
            }
            inner.groups.messages.insert(id, m.clone());
            Ok(m)
        }
    }
}

/// A ChatMember in the Bot API's shape for `status`.
fn member_json(user: i64, status: &str) -> Value {
    let mut m = json!({ "user": { "id": user, "is_bot": false, "first_name": "Agent" },
        "status": status });
    match status {
        "creator" => m["is_anonymous"] = json!(false),
        "administrator" => {
            for k in [
                "can_be_edited",
                "is_anonymous",
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_pin_messages",
                "can_manage_topics",
            ] {
                m[k] = json!(k != "can_be_edited" && k != "is_anonymous");
            }
        }
        "kicked" => m["until_date"] = json!(0),
        _ => {}
    }
    m
}

// ---- Failures on demand: 429 with retry_after, 5xx, a chat that blocked the bot. ----

/// What a send to a chat is answered with instead of success.
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 Too Many Requests with `retry_after` seconds.
    RetryAfter(u32),
    /// 500 Internal Server Error.
    ServerError,
}

#[derive(Default)]
struct Faults {
    /// chat -> the next sends' answers, in order.
    next: HashMap<i64, VecDeque<Fault>>,
    /// Chats whose user blocked the bot (403 for every send).
    blocked: std::collections::HashSet<i64>,
    /// Sends refused (method, chat, when), not in `calls`.
    refused: Vec<(String, i64, Instant)>,
}

fn is_send(method: &str) -> bool {
    method.starts_with("send")
}

/// The refusal of a send to a chat with a fault waiting (and records it), else None.
fn fault(shared: &Shared, method: &str, params: &Value) -> Option<Response> {
    let chat = params["chat_id"].as_i64().filter(|_| is_send(method))?;
    let mut inner = shared.inner.lock().unwrap_or_else(|e| e.into_inner());
    let faults = &mut inner.faults;
    let response = if faults.blocked.contains(&chat) {
        err(403, "Forbidden: bot was blocked by the user")
    } else {
        match faults.next.get_mut(&chat).and_then(VecDeque::pop_front)? {
            Fault::RetryAfter(secs) => {
                let body = json!({
                    "ok": false,
                    "error_code": 429,
                    "description": format!("Too Many Requests: retry after {secs}"),
                    "parameters": { "retry_after": secs },
                });
                (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response()
            }
            Fault::ServerError => err(500, "Internal Server Error"),
        }
    };
    faults
        .refused
        .push((method.to_string(), chat, Instant::now()));
    Some(response)
}

impl FakeTelegram {
    /// The next sends to `chat` are answered with `faults`, in order (then normally).
    pub fn fail_next(&self, chat: i64, faults: &[Fault]) {
        let mut inner = self.lock();
        inner
            .faults
            .next
            .entry(chat)
            .or_default()
            .extend(faults.iter().cloned());
    }

    /// The user of `chat` blocks the bot (true) or unblocks it (false).
    pub fn set_blocked(&self, chat: i64, blocked: bool) {
        let mut inner = self.lock();
        if blocked {
            inner.faults.blocked.insert(chat);
        } else {
            inner.faults.blocked.remove(&chat);
        }
    }

    /// Sends refused so far: (method, chat, when).
    pub fn refused(&self) -> Vec<(String, i64, Instant)> {
        self.lock().faults.refused.clone()
    }
}
