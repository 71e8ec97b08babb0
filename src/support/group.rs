//! The group side of the desk: which ticket a group message belongs to, agent replies relayed to
//! the customer under the agent's name or alias, and the agent and admin commands. Only members
//! act; only configured admins change settings. Only a message INSIDE a ticket (its topic, or a
//! reply to one of the ticket's own posts) reaches the customer; a `#T12` mention elsewhere is
//! internal talk, though a command may name its ticket that way.

use super::decision::{apply_decision, DecisionOutcome};
use super::{vars, AgentCommand, Content, Desk, DeskOverrides, GroupMessage, Outgoing};
use crate::store::{close_ticket, DecisionKind, Ticket, TicketStatus, TranscriptTurn};
use anyhow::Result;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// `#T12` anywhere in a text.
fn tagged_ticket(text: &str) -> Option<u64> {
    let at = text.find("#T")?;
    let digits: String = text[at + 2..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

impl Desk<'_> {
    /// A message in the support group (see the module docs).
    pub fn on_group(&self, msg: &GroupMessage, now: DateTime<Utc>) -> Result<Vec<Outgoing>> {
        if !msg.sender_is_member {
            tracing::info!(
                user = msg.from.user_id,
                "support group message from a non-member ignored"
            );
            return Ok(Vec::new());
        }
        if !self
            .core
            .store
            .first_time(&format!("g/{}", msg.message_id), now)?
        {
            return Ok(Vec::new());
        }
        let text = match &msg.content {
            Content::Text(t) => Some(t.as_str()),
            Content::File { .. } => None,
        };
        let max_fee =
            self.core.settings.policy.reinstallment.monthly_fee_rate * Decimal::ONE_HUNDRED;
        if let Some(parsed) = text.and_then(|t| AgentCommand::parse(t, max_fee)) {
            let ticket = self.ticket_named(msg)?;
            return match parsed {
                Ok(cmd) => self.command(msg, ticket.as_ref(), cmd, now),
                Err(e) => Ok(vec![self.to_group(
                    ticket.as_ref(),
                    msg.thread_id,
                    self.group_text(e.usage_key, &vars(&[])),
                )]),
            };
        }
        if text.is_some_and(|t| t.trim_start().starts_with('/')) {
            return Ok(Vec::new());
        }
        match self.ticket_in(msg)? {
            Some(n) => match self.core.store.ticket(n)? {
                Some(t) => self.relay_to_customer(msg, &t, now),
                None => Ok(Vec::new()),
            },
            None => Ok(Vec::new()),
        }
    }

    /// A group message whose sender Telegram could not confirm as a member (`getChatMember`
    /// failed): refused like a non-member's, and the group is told so it can be sent again.
    pub fn member_unknown(&self, msg: &GroupMessage) -> Vec<Outgoing> {
        tracing::info!(
            user = msg.from.user_id,
            message_id = msg.message_id,
            "membership not confirmed: group message refused"
        );
        let text = self.group_text("support.member_unknown", &vars(&[]));
        vec![self.to_group(None, msg.thread_id, text)]
    }

    /// The ticket a message is inside: its forum topic, or (outside topics) a reply to one of the
    /// ticket's own posts (the card, a relayed message). Only such messages reach the customer.
    fn ticket_in(&self, msg: &GroupMessage) -> Result<Option<u64>> {
        let store = &self.core.store;
        match (msg.thread_id, &msg.reply_to) {
            (Some(thread), _) => store.ticket_of_thread(thread),
            (None, Some(r)) => store.ticket_of_group_message(r.message_id),
            (None, None) => Ok(None),
        }
    }

    /// The ticket a command is about: the one it is inside, else a `#T12` tag in the message it
    /// replies to or in the command itself.
    fn ticket_named(&self, msg: &GroupMessage) -> Result<Option<Ticket>> {
        let mut number = self.ticket_in(msg)?;
        if let (None, Some(r)) = (number, &msg.reply_to) {
            number = r.text.as_deref().and_then(tagged_ticket);
        }
        if number.is_none() {
            number = match &msg.content {
                Content::Text(t) => tagged_ticket(t),
                Content::File { caption, .. } => caption.as_deref().and_then(tagged_ticket),
            };
        }
        match number {
            Some(n) => self.core.store.ticket(n),
            None => Ok(None),
        }
    }

    fn relay_to_customer(
        &self,
        msg: &GroupMessage,
        t: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outgoing>> {
        if t.status == TicketStatus::Closed {
            let v = vars(&[("ticket_no", t.number.to_string())]);
            return Ok(vec![self.to_group(
                Some(t),
                msg.thread_id,
                self.group_text("support.already_closed", &v),
            )]);
        }
        let mut out = self.take(msg, t, now, false)?;
        let agent = self.agent_name(&msg.from);
        let say = |text: &str| {
            self.text(
                t.lang,
                "support.agent_says",
                &vars(&[("agent", agent.clone()), ("text", text.to_string())]),
            )
        };
        match &msg.content {
            Content::Text(text) => {
                self.core.store.record_turn(
                    &t.chat,
                    TranscriptTurn {
                        at: now,
                        from: "agent".into(),
                        text: text.clone(),
                        replies: Vec::new(),
                    },
                )?;
                out.push(Outgoing::ToCustomer {
                    chat_key: t.chat.clone(),
                    text: say(text),
                });
            }
            Content::File {
                file_id,
                kind,
                caption,
            } => out.push(Outgoing::ToCustomerFile {
                chat_key: t.chat.clone(),
                file_id: file_id.clone(),
                kind: *kind,
                caption: Some(say(caption.as_deref().unwrap_or(""))),
            }),
        }
        crate::ops::observe::agent_replied(&self.core.store, t, now);
        tracing::info!(
            ticket = t.number,
            agent = msg.from.user_id,
            "agent message relayed"
        );
        Ok(out)
    }

    /// Takes a waiting ticket for the sender; the customer is told who is with them.
    fn take(
        &self,
        msg: &GroupMessage,
        t: &Ticket,
        now: DateTime<Utc>,
        confirm: bool,
    ) -> Result<Vec<Outgoing>> {
        let agent = msg.from.clone();
        let changed = self.core.store.update_ticket(t.number, |t| {
            if t.status == TicketStatus::Closed || t.agent.as_ref() == Some(&agent) {
                return false;
            }
            t.status = TicketStatus::WithAgent;
            t.agent = Some(agent.clone());
            t.taken_at = Some(now);
            true
        })?;
        if !changed.is_some_and(|(_, c)| c) {
            return Ok(Vec::new());
        }
        let v = vars(&[
            ("ticket_no", t.number.to_string()),
            ("agent", self.agent_name(&msg.from)),
        ]);
        let mut out = vec![self.to_customer(t, "support.agent_joined", &v)];
        if confirm {
            let v = vars(&[
                ("ticket_no", t.number.to_string()),
                ("agent", msg.from.first_name.clone()),
            ]);
            out.push(self.to_group(Some(t), msg.thread_id, self.group_text("support.taken", &v)));
        }
        Ok(out)
    }

    fn command(
        &self,
        msg: &GroupMessage,
        ticket: Option<&Ticket>,
        cmd: AgentCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outgoing>> {
        let reply = |key: &str, v: &super::Vars| {
            Ok(vec![self.to_group(
                ticket,
                msg.thread_id,
                self.group_text(key, v),
            )])
        };
        if cmd.is_admin_only() && !self.settings().admins.contains(&msg.from.user_id) {
            return reply("support.admins_only", &vars(&[]));
        }
        match cmd {
            AgentCommand::Tickets => reply(
                "support.ticket_list",
                &vars(&[("lines", self.ticket_lines(now)?)]),
            ),
            AgentCommand::Alias(name) => {
                self.set_override(msg, |o| o.agent_name = Some(name.clone()))
            }
            AgentCommand::Hours(h) => self.set_override(msg, |o| o.hours = Some(h.clone())),
            _ => match ticket {
                None => reply("support.no_ticket_here", &vars(&[])),
                Some(t) => self.ticket_command(msg, t, cmd, now),
            },
        }
    }

    fn ticket_command(
        &self,
        msg: &GroupMessage,
        t: &Ticket,
        cmd: AgentCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outgoing>> {
        let no = vars(&[("ticket_no", t.number.to_string())]);
        let reply =
            |key: &str| vec![self.to_group(Some(t), msg.thread_id, self.group_text(key, &no))];
        let kind = match cmd {
            AgentCommand::Take if t.status == TicketStatus::Closed => {
                return Ok(reply("support.already_closed"))
            }
            AgentCommand::Take => return self.take(msg, t, now, true),
            AgentCommand::Close => return self.close(msg, t, now),
            AgentCommand::Note(text) => {
                let note = crate::store::Note {
                    by: msg.from.user_id,
                    at: now,
                    text,
                };
                self.core.store.update_ticket(t.number, |t| {
                    t.notes.push(note.clone());
                    true
                })?;
                return Ok(reply("support.note_saved"));
            }
            AgentCommand::Approve {
                periods,
                fee_rate_percent,
            } => DecisionKind::Approve {
                periods,
                fee_rate_percent,
            },
            AgentCommand::Reject(reason) => DecisionKind::Reject { reason },
            _ => return Ok(Vec::new()),
        };
        let (outcome, mut out) = apply_decision(self, t.number, kind, &msg.from, now)?;
        let key = match outcome {
            DecisionOutcome::Recorded => "support.decision_recorded",
            DecisionOutcome::NotHardship => "support.not_hardship",
            DecisionOutcome::AlreadyDecided => "support.already_decided",
            DecisionOutcome::NoTicket => "support.no_ticket_here",
        };
        out.extend(reply(key));
        Ok(out)
    }

    fn close(&self, msg: &GroupMessage, t: &Ticket, now: DateTime<Utc>) -> Result<Vec<Outgoing>> {
        let no = vars(&[("ticket_no", t.number.to_string())]);
        let changed = self
            .core
            .store
            .update_ticket(t.number, |t| close_ticket(t, "agent", now))?;
        if !changed.is_some_and(|(_, c)| c) {
            return Ok(vec![self.to_group(
                Some(t),
                msg.thread_id,
                self.group_text("support.already_closed", &no),
            )]);
        }
        crate::ops::observe::ticket_closed(&self.core.store, t, now);
        tracing::info!(
            ticket = t.number,
            agent = msg.from.user_id,
            "ticket closed by an agent"
        );
        Ok(vec![
            self.to_customer(t, "support.closed", &no),
            self.to_group(
                Some(t),
                msg.thread_id,
                self.group_text("support.closed_group", &no),
            ),
        ])
    }

    fn set_override(
        &self,
        msg: &GroupMessage,
        change: impl Fn(&mut DeskOverrides),
    ) -> Result<Vec<Outgoing>> {
        let mut o = self.overrides();
        change(&mut o);
        if o.agent_name.as_deref() == Some("first_name") {
            o.agent_name = None;
        }
        self.core
            .store
            .set_desk_overrides(&o, &format!("admin:{}", msg.from.user_id))?;
        tracing::info!(admin = msg.from.user_id, "desk settings changed");
        let v = vars(&[
            (
                "agent",
                o.agent_name
                    .clone()
                    .unwrap_or_else(|| self.settings().agent_name.clone()),
            ),
            ("support_hours", self.hours().show()),
        ]);
        Ok(vec![self.to_group(
            None,
            msg.thread_id,
            self.group_text("support.settings_saved", &v),
        )])
    }

    /// One line per open ticket, oldest first.
    fn ticket_lines(&self, now: DateTime<Utc>) -> Result<String> {
        let lines: Vec<String> = self
            .core
            .store
            .open_tickets()?
            .iter()
            .map(|t| {
                let status = match t.status {
                    TicketStatus::Waiting => "support.status_waiting",
                    _ => "support.status_with_agent",
                };
                let v = vars(&[
                    ("ticket_no", t.number.to_string()),
                    ("reason", self.reason_label(t)),
                    ("status", self.group_text(status, &vars(&[]))),
                    (
                        "waited",
                        (now - t.opened_at).num_minutes().max(0).to_string(),
                    ),
                    (
                        "agent",
                        t.agent
                            .as_ref()
                            .map(|a| a.first_name.clone())
                            .unwrap_or_default(),
                    ),
                ]);
                self.group_text("support.ticket_line", &v)
            })
            .collect();
        if lines.is_empty() {
            return Ok(self.group_text("support.no_open_tickets", &vars(&[])));
        }
        Ok(lines.join("\n"))
    }
}
