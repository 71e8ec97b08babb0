//! `repaybot chat`: the same engine, dialogs and store in a terminal. Interactive on a terminal;
//! with stdin not a terminal it reads one message per line and prints every reply, so scripts
//! can drive it. Buttons print as `[1] label`; typing the number or the label presses it. A
//! line naming an existing file sends that file (a hardship case's document).
//!
//! The terminal is an operator's tool on the shop's own machine. `--account X` acts as X without
//! holding X's binding (the customer can still bind in Telegram). A guest binds as in Telegram,
//! except that the terminal has no contact button: while one is offered, a typed phone number
//! stands for pressing it (Telegram itself never accepts a typed number). Receipts a crash kept
//! from being shown are printed at start; with the `http` payment gateway, receipts of payments
//! the cashier confirmed meanwhile are printed before the next reply.

use super::{App, ChatInput, CustomerEvent, Event, Reply};
use crate::dialog::Lang;
use anyhow::Result;
use std::io::{BufRead, Write};
use std::path::Path;

/// Who is chatting (the day and time are the app's clock).
pub struct ChatOptions {
    /// Acts as this account, already verified (an operator's tool).
    pub account: Option<String>,
    pub lang: Option<Lang>,
    pub interactive: bool,
    /// Where files the bot sends (a calendar) are written: the data folder or the current one.
    pub file_dir: std::path::PathBuf,
}

pub fn chat_key(opts: &ChatOptions) -> String {
    match &opts.account {
        Some(a) => format!("term:{a}"),
        None => "term:guest".to_string(),
    }
}

fn print_reply(out: &mut dyn Write, reply: &Reply, dir: &Path) -> std::io::Result<()> {
    writeln!(out, "{}", reply.text)?;
    if let Some(file) = &reply.attachment {
        // Only the file name is used, so a name can never point outside the folder.
        let name = Path::new(&file.file_name)
            .file_name()
            .map_or_else(|| "attachment".into(), |n| n.to_string_lossy().into_owned());
        let path = dir.join(name);
        std::fs::write(&path, &file.bytes)?;
        writeln!(out, "(file saved: {})", path.display())?;
    }
    if let Some(line) = reply.button_line() {
        writeln!(out, "{line}")?;
    }
    writeln!(out)
}

/// Whether the last reply offered the contact button (the terminal's stand-in: a typed number).
fn offers_contact(replies: &[Reply]) -> bool {
    replies.last().is_some_and(|r| r.request_contact.is_some())
}

/// Says how to "press" the contact button here: type the number.
fn contact_hint(
    app: &App,
    chat: &str,
    offered: bool,
    out: &mut dyn Write,
    dir: &Path,
) -> std::io::Result<()> {
    if !offered {
        return Ok(());
    }
    let text = app.flows.text(
        app.chat_lang(chat),
        "bind.terminal_contact",
        &Default::default(),
    );
    print_reply(out, &Reply::text(text), dir)
}

/// Replies owed to this chat that are not already among a turn's replies.
fn print_owed(out: &mut dyn Write, owed: &[super::OwedReply], dir: &Path) -> std::io::Result<()> {
    for reply in owed.iter().filter_map(|o| o.reply.as_ref()) {
        print_reply(out, reply, dir)?;
    }
    Ok(())
}

/// A line naming an existing file stands in for a photo or file sent in Telegram (a hardship
/// case's document); anything else is a message.
fn input_of(text: String) -> ChatInput {
    let path = std::path::Path::new(text.trim());
    if !text.trim().is_empty() && path.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return ChatInput::Document {
            file_id: format!("file:{}", path.display()),
            name,
        };
    }
    ChatInput::Text(text)
}

/// Runs a conversation until end of input (or `/quit`).
pub fn run(
    app: &App,
    opts: &ChatOptions,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<()> {
    let chat = chat_key(opts);
    let mut contact_offered = open(app, opts, &chat, out)?;
    while let Some(text) = next_line(opts, input, out)? {
        contact_offered = answer(app, opts, &chat, text, contact_offered, out)?;
        out.flush()?;
    }
    Ok(())
}

/// The chat's start: the account acted as, the language, replies a crash kept back, the
/// greeting. True when the greeting offers the contact button.
fn open(app: &App, opts: &ChatOptions, chat: &str, out: &mut dyn Write) -> Result<bool> {
    if let Some(account) = &opts.account {
        anyhow::ensure!(
            app.store.account(account)?.is_some(),
            "no account {account}"
        );
        app.store.act_as(chat, account)?;
    }
    if let Some(lang) = opts.lang {
        app.set_lang(chat, lang)?;
    }
    let timezone = match &opts.account {
        Some(a) => app
            .store
            .account(a)?
            .map(|s| s.data.timezone)
            .unwrap_or_default(),
        None => "Asia/Shanghai".to_string(),
    };
    let owed = app.owed_replies(Some(chat))?;
    print_owed(out, &owed, &opts.file_dir)?;
    app.settle_owed(&owed)?;
    let today = app.clock.today_for(&timezone);
    let first = app.turn(chat, ChatInput::Start, today, app.clock.now())?;
    for r in &first.replies {
        print_reply(out, r, &opts.file_dir)?;
    }
    let contact_offered = offers_contact(&first.replies);
    contact_hint(app, chat, contact_offered, out, &opts.file_dir)?;
    Ok(contact_offered)
}

/// The next line typed (echoed when not interactive); None at the end of input or `/quit`.
/// Bytes that are not UTF-8 are replaced (U+FFFD), never the end of the chat.
fn next_line(
    opts: &ChatOptions,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Option<String>> {
    if opts.interactive {
        write!(out, "> ")?;
        out.flush()?;
    }
    let mut bytes = Vec::new();
    if input.read_until(b'\n', &mut bytes)? == 0 {
        return Ok(None);
    }
    let line = String::from_utf8_lossy(&bytes);
    let text = line.trim_end_matches(['\n', '\r']).to_string();
    if text.trim() == "/quit" {
        return Ok(None);
    }
    if !opts.interactive {
        writeln!(out, "> {text}")?;
    }
    Ok(Some(text))
}

/// One line through `App::handle`, its replies printed. True when they offer the contact
/// button (a number typed next stands for pressing it).
fn answer(
    app: &App,
    opts: &ChatOptions,
    chat: &str,
    text: String,
    contact_offered: bool,
    out: &mut dyn Write,
) -> Result<bool> {
    // What arrived meanwhile (a payment the cashier confirmed) comes first.
    let arrived = app.owed_replies(Some(chat))?;
    print_owed(out, &arrived, &opts.file_dir)?;
    app.settle_owed(&arrived)?;
    let input = match crate::domain::Phone::parse(text.trim()) {
        Some(_) if contact_offered => ChatInput::Contact {
            phone: text.trim().to_string(),
            own: true,
        },
        _ => input_of(text),
    };
    let event = Event::Customer(CustomerEvent {
        chat: chat.to_string(),
        input,
        lang: None,
        desk: None,
    });
    let turn = app.handle(event, app.clock.now())?;
    for r in &turn.replies {
        print_reply(out, r, &opts.file_dir)?;
    }
    let offered = offers_contact(&turn.replies);
    contact_hint(app, chat, offered, out, &opts.file_dir)?;
    // Other chats' notices stay in the outbox for `serve` to deliver.
    let mine: Vec<_> = turn.owed.into_iter().filter(|o| o.chat == chat).collect();
    print_owed(out, &mine, &opts.file_dir)?;
    app.settle_owed(&mine)?;
    if !turn.tickets_opened.is_empty() {
        let lang = app.chat_lang(chat);
        let note = app
            .flows
            .text(lang, "support.terminal_note", &Default::default());
        print_reply(out, &Reply::text(note), &opts.file_dir)?;
    }
    Ok(offered)
}
