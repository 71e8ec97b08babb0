//! The pure conversation step: a session and one input in, the next session and effects out.
//! Never reads the clock or disk, never panics on what a customer sends.

use super::index::{Button, Flows, State, Target};
use super::render::render;
use super::{ActionError, ButtonOut, Ctx, Effect, Input, Lang, Message, Session};
use std::collections::BTreeMap;

/// How many previous states `@back` remembers.
pub const BACK_CAP: usize = 10;
/// How many `go` hops one entry may chain before it stops where it is.
pub const MAX_HOPS: usize = 16;
/// Misunderstandings in a row before the customer is offered a human.
pub const MISUNDERSTOOD_LIMIT: u8 = 3;
/// Raw texts that mean "go back" in any state.
pub const BACK_WORDS: [&str; 3] = ["back", "返回", "上一步"];
/// Raw texts that mean "the main menu" in any state.
pub const MENU_WORDS: [&str; 6] = ["menu", "main menu", "菜单", "主菜单", "/menu", "/start"];

impl Flows {
    /// One step of a conversation; an action that could not read its facts fails the step.
    pub fn step(
        &self,
        session: Session,
        input: Input,
        ctx: &Ctx,
    ) -> Result<(Session, Vec<Effect>), ActionError> {
        let mut run = Run {
            flows: self,
            ctx,
            s: session,
            effects: Vec::new(),
            failed: None,
        };
        run.normalize();
        match input {
            Input::Start => {
                run.s.misunderstood = 0;
                run.enter(&Target::Menu, Vec::new());
            }
            Input::Button(data) => run.button(data),
            Input::Text(m) => run.text(&m),
            Input::Event { name, vars } => run.event(name, vars),
        }
        match run.failed {
            Some(e) => Err(e),
            None => Ok((run.s, run.effects)),
        }
    }

    /// Text `key` in `lang` (falling back to the other language, then to the key itself), rendered.
    pub fn text(&self, lang: Lang, key: &str, vars: &BTreeMap<String, String>) -> String {
        let (first, second) = match lang {
            Lang::Zh => (&self.zh, &self.en),
            Lang::En => (&self.en, &self.zh),
        };
        match first.get(key).or_else(|| second.get(key)) {
            Some(t) => render(t, vars),
            None => key.to_string(),
        }
    }

    fn state_of(&self, flow: &str, state: &str) -> Option<&State> {
        self.flows.get(flow).and_then(|f| f.states.get(state))
    }

    fn start_pos(&self, flow: &str) -> (String, String) {
        let start = self.start_of(flow).unwrap_or_default();
        (flow.to_string(), start.to_string())
    }
}

struct Run<'a> {
    flows: &'a Flows,
    ctx: &'a Ctx<'a>,
    s: Session,
    effects: Vec<Effect>,
    /// The first action that could not read its facts: the step fails with it.
    failed: Option<ActionError>,
}

/// The turn of a button's data (`b:{turn}:{index}`), for the app to recognise an old button.
pub fn button_turn(data: &str) -> Option<u64> {
    parse_button(data).map(|(turn, _)| turn)
}

/// `b:{turn}:{index}` -> (turn, index).
fn parse_button(data: &str) -> Option<(u64, usize)> {
    let (turn, index) = data.strip_prefix("b:")?.split_once(':')?;
    Some((turn.parse().ok()?, index.parse().ok()?))
}

/// "3" or "３" -> 3.
fn parse_number(raw: &str) -> Option<usize> {
    let ascii: String = raw
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect();
    if ascii.is_empty() || ascii.len() > 4 || !ascii.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    ascii.parse().ok()
}

impl Run<'_> {
    fn state(&self) -> Option<&State> {
        self.flows.state_of(&self.s.flow, &self.s.state)
    }

    /// Back to menu idle, vars and history cleared.
    fn idle(&mut self) {
        let (flow, state) = self.flows.start_pos("menu");
        self.s.flow = flow;
        self.s.state = state;
        self.s.vars.clear();
        self.s.back.clear();
    }

    /// A session whose state no longer exists (old or new) restarts at menu idle.
    fn normalize(&mut self) {
        if self.state().is_none() {
            self.idle();
            self.s.misunderstood = 0;
        }
    }

    fn enter(&mut self, target: &Target, mut prefix: Vec<String>) {
        let origin = (self.s.flow.clone(), self.s.state.clone());
        let mut remember = true;
        let mut target = target.clone();
        for _ in 0..MAX_HOPS {
            let (mut flow, mut state) = match &target {
                Target::Menu => {
                    remember = false;
                    self.s.vars.clear();
                    self.s.back.clear();
                    self.flows.start_pos("menu")
                }
                Target::Back => {
                    remember = false;
                    let prev = self.s.back.pop();
                    prev.unwrap_or_else(|| self.flows.start_pos("menu"))
                }
                Target::Goto { flow, state } => (flow.clone(), state.clone()),
            };
            let locked = self
                .flows
                .flows
                .get(&flow)
                .is_some_and(|f| f.requires_account);
            if locked && !self.ctx.bound {
                let key = "common.bind_first".to_string();
                if !prefix.contains(&key) {
                    prefix.push(key);
                }
                (flow, state) = self.flows.start_pos("bind");
            }
            self.s.flow = flow;
            self.s.state = state;
            let Some(st) = self.state() else {
                self.idle();
                break;
            };
            let (action, go) = (st.action.clone(), st.go.clone());
            let Some(action) = action else { break };
            let outcome = match self.ctx.actions.run(&action, &mut self.s.vars) {
                Ok(outcome) => outcome,
                Err(e) => {
                    self.failed.get_or_insert(e);
                    return;
                }
            };
            match go.get(&outcome) {
                Some(next) => target = next.clone(),
                None => break,
            }
        }
        let here = (self.s.flow.clone(), self.s.state.clone());
        if remember && origin != here && self.flows.state_of(&origin.0, &origin.1).is_some() {
            self.s.back.push(origin);
            if self.s.back.len() > BACK_CAP {
                self.s.back.remove(0);
            }
        }
        let Some(st) = self.state() else { return };
        let (effect, is_final) = (st.effect.clone(), st.is_final);
        if let Some(name) = effect {
            let vars = self.s.vars.clone();
            self.effects.push(Effect::Emit { name, vars });
        }
        self.reply(prefix);
        if is_final {
            self.idle();
        }
    }

    /// Replies `prefix` keys followed by the current state's prompt and buttons.
    fn reply(&mut self, prefix: Vec<String>) {
        let say = self.state().map(|st| st.say.clone()).unwrap_or_default();
        let contact = self.state().and_then(|st| st.contact.clone());
        let buttons = self.buttons();
        let mut keys = prefix;
        keys.extend(say);
        self.s.turn = self.s.turn.wrapping_add(1);
        let (lang, vars) = (self.s.lang, &self.s.vars);
        let text: Vec<String> = keys
            .iter()
            .map(|k| self.flows.text(lang, k, vars))
            .collect();
        let buttons: Vec<ButtonOut> = buttons
            .iter()
            .enumerate()
            .map(|(i, b)| ButtonOut {
                label: self.flows.text(lang, &b.label, vars),
                data: format!("b:{}:{}", self.s.turn, i),
            })
            .collect();
        if keys.is_empty() && buttons.is_empty() {
            return;
        }
        self.effects.push(Effect::Reply {
            key_trail: keys,
            text: text.join("\n"),
            buttons,
            request_contact: contact.map(|key| self.flows.text(lang, &key, vars)),
        });
    }

    /// The current state's buttons: run-time choices first, then the fixed ones.
    fn buttons(&self) -> Vec<Button> {
        let Some(st) = self.state() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(c) = &st.choices {
            let lines = self.s.vars.get(&c.from).map(String::as_str).unwrap_or("");
            for line in lines.lines().filter(|l| !l.trim().is_empty()) {
                let (value, label) = line.split_once('\t').unwrap_or((line, line));
                out.push(Button {
                    label: label.to_string(),
                    goto: c.goto.clone(),
                    set: BTreeMap::from([(c.set.clone(), value.to_string())]),
                });
            }
        }
        out.extend(st.buttons.iter().cloned());
        out
    }

    fn press(&mut self, b: &Button) {
        self.s.misunderstood = 0;
        self.s
            .vars
            .extend(b.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.enter(&b.goto, Vec::new());
    }

    fn button(&mut self, data: &str) {
        let pressed = match parse_button(data) {
            Some((turn, i)) if turn == self.s.turn => self.buttons().get(i).cloned(),
            _ => None,
        };
        match pressed {
            Some(b) => self.press(&b),
            None => self.reply(vec!["common.button_expired".to_string()]),
        }
    }

    /// The current button whose number or rendered label equals `raw`.
    fn typed_button(&self, raw: &str) -> Option<Button> {
        let buttons = self.buttons();
        if let Some(n) = parse_number(raw) {
            return buttons.get(n.checked_sub(1)?).cloned();
        }
        let lower = raw.to_lowercase();
        buttons
            .iter()
            .find(|b| {
                let label = self.flows.text(self.s.lang, &b.label, &self.s.vars);
                label.trim().to_lowercase() == lower
            })
            .cloned()
    }

    fn text(&mut self, m: &Message) {
        let raw = m.raw.trim();
        let understood = |run: &mut Self| run.s.misunderstood = 0;
        // At a confirming step a cancel holding a yes word ("好吧不用了") is not clear: asked again.
        let strict = self.state().is_some_and(|s| s.confirm) && !raw.is_empty();
        if m.intent == "cancel" && !(strict && self.flows.confirm_words.mentions_yes(raw)) {
            understood(self);
            return self.enter(&Target::Menu, vec!["common.cancelled".to_string()]);
        }
        if let Some(b) = self.typed_button(raw) {
            return self.press(&b);
        }
        let Some(st) = self.state().cloned() else {
            return;
        };
        if MENU_WORDS.iter().any(|w| raw.eq_ignore_ascii_case(w)) {
            understood(self);
            return self.enter(&Target::Menu, Vec::new());
        }
        if BACK_WORDS.iter().any(|w| raw.eq_ignore_ascii_case(w)) {
            understood(self);
            return self.enter(&Target::Back, Vec::new());
        }
        match m.intent {
            "help" => {
                understood(self);
                return self.reply(self.help_key().into_iter().collect());
            }
            "language" => {
                understood(self);
                let lang = if raw.contains("中文") {
                    Lang::Zh
                } else if raw.to_lowercase().contains("english") {
                    Lang::En
                } else {
                    self.s.lang.toggled()
                };
                self.s.lang = lang;
                self.effects.push(Effect::SetLang(lang));
                return self.reply(Vec::new());
            }
            _ => {}
        }
        if strict {
            return self.confirm_reply(&st, m);
        }
        // A reply the app made for a button (no words) never confirms a confirming step.
        let confirming = st.confirm && m.intent == "affirm";
        if let Some(t) = st.on.get(m.intent).filter(|_| !confirming) {
            understood(self);
            self.keep_slots(m);
            return self.enter(t, Vec::new());
        }
        if let Some(slot) = &st.expect {
            // A bare "14" answers a state that asks how many days or periods.
            let bare = matches!(slot.as_str(), "days" | "periods")
                .then(|| crate::nlu::bare_count(m.raw).map(|n| n.to_string()))
                .flatten();
            if let (Some(v), Some(t)) = (m.slots.get(slot).cloned().or(bare), st.on.get(slot)) {
                understood(self);
                self.s.vars.insert(slot.clone(), v);
                return self.enter(t, Vec::new());
            }
            if m.slot_problem == Some(slot.as_str()) {
                return self.reply(vec![format!("common.bad_{slot}")]);
            }
        }
        // `on.<slot>` for another slot the message carries (a phone typed instead of shared).
        let other = st
            .on
            .iter()
            .find(|(k, _)| Some(*k) != st.expect.as_ref() && m.slots.contains_key(*k));
        if let Some((slot, t)) = other {
            understood(self);
            let value = m.slots.get(slot).cloned().unwrap_or_default();
            self.s.vars.insert(slot.clone(), value);
            return self.enter(&t.clone(), Vec::new());
        }
        let triggered = self
            .flows
            .flows
            .values()
            .find(|f| f.triggers.iter().any(|t| t == m.intent));
        if let Some(f) = triggered {
            let t = Target::Goto {
                flow: f.name.clone(),
                state: f.start.clone(),
            };
            understood(self);
            self.s.vars.clear();
            self.keep_slots(m);
            return self.enter(&t, Vec::new());
        }
        self.misunderstood();
    }

    /// A typed reply at a confirming step: a clear yes (a word of `confirm.toml` on its own)
    /// follows `on.affirm`; a clear no (a `no` word, or a refusal holding no yes word) `on.deny`
    /// (else the menu); anything else asks again with the buttons.
    fn confirm_reply(&mut self, st: &State, m: &Message) {
        let raw = m.raw.trim();
        let words = &self.flows.confirm_words;
        let refusal = m.intent == "deny" && !words.mentions_yes(raw);
        let target = if words.is_yes(raw) {
            st.on.get("affirm").cloned()
        } else if words.is_no(raw) || refusal {
            Some(st.on.get("deny").cloned().unwrap_or(Target::Menu))
        } else {
            None
        };
        self.s.misunderstood = 0;
        match target {
            Some(t) => self.enter(&t, Vec::new()),
            None => self.reply(vec![super::load::CONFIRM_UNCLEAR.to_string()]),
        }
    }

    /// The message's slots become vars, so the flow it starts knows the amount, date, order...
    fn keep_slots(&mut self, m: &Message) {
        for (name, value) in m.slots {
            self.s.vars.insert(name.clone(), value.clone());
        }
    }

    fn help_key(&self) -> Option<String> {
        let of = |flow: &str| self.flows.flows.get(flow).and_then(|f| f.help.clone());
        of(&self.s.flow).or_else(|| of("menu"))
    }

    fn misunderstood(&mut self) {
        self.s.misunderstood = self.s.misunderstood.saturating_add(1);
        if self.s.misunderstood < MISUNDERSTOOD_LIMIT {
            return self.reply(vec!["common.not_understood".to_string()]);
        }
        self.s.misunderstood = 0;
        let (flow, state) = self.flows.start_pos("human");
        let t = Target::Goto { flow, state };
        self.enter(&t, vec!["common.offer_human".to_string()]);
    }

    fn event(&mut self, name: &str, vars: BTreeMap<String, String>) {
        let Some(t) = self.state().and_then(|s| s.events.get(name)).cloned() else {
            return;
        };
        self.s.vars.extend(vars);
        self.enter(&t, Vec::new());
    }
}
