//! The command menu (setMyCommands), in Chinese by default and in English for English clients.

use super::TgBot;
use crate::app::App;
use crate::dialog::Lang;
use std::collections::BTreeMap;
use teloxide::payloads::SetMyCommandsSetters;
use teloxide::prelude::Requester;
use teloxide::types::BotCommand;

/// The commands shown in Telegram's menu; descriptions are `commands.<name>` in dialogs/text.
pub const COMMANDS: [&str; 9] = [
    "start", "bill", "repay", "remind", "human", "lang", "forget", "unbind", "help",
];

pub fn commands(app: &App, lang: Lang) -> Vec<BotCommand> {
    COMMANDS
        .iter()
        .map(|c| {
            let text = app
                .flows
                .text(lang, &format!("commands.{c}"), &BTreeMap::new());
            BotCommand::new(*c, text)
        })
        .collect()
}

/// Registers the menu; a failure is logged, not fatal (the commands still work when typed).
pub async fn register(bot: &TgBot, app: &App) {
    let zh = bot.set_my_commands(commands(app, Lang::Zh)).await;
    let en = bot
        .set_my_commands(commands(app, Lang::En))
        .language_code("en")
        .await;
    if let Err(e) = zh.and(en) {
        tracing::warn!(error = %e, "setMyCommands failed");
    }
}
