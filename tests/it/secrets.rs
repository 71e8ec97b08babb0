//! Secrets never print: the bot token and the webhook secret show as `***` in `Debug` and
//! `Display` (a logged `ServeOptions`, an error message), while the code that needs them can
//! still read them.

use repaybot::settings::Secret;
use repaybot::telegram::{parse_flood, parse_limits, ServeOptions};

const TOKEN: &str = "123456:SECRET-token_value";

#[test]
fn a_logged_serve_options_shows_neither_the_token_nor_the_webhook_secret() {
    let opts = ServeOptions {
        token: Secret::new(TOKEN),
        api_url: None,
        webhook: Some("https://bot.example/hook".into()),
        listen: "127.0.0.1:8443".parse().unwrap(),
        webhook_secret: Some(Secret::new("hook-secret-42")),
        limits: parse_limits("1/20/30").unwrap(),
        flood: parse_flood("5/700").unwrap(),
    };
    let shown = format!("{opts:?} {opts:#?}");
    assert!(
        !shown.contains("SECRET-token") && !shown.contains("hook-secret-42"),
        "{shown}"
    );
    assert!(shown.contains("***"), "{shown}");
    assert_eq!(opts.token.expose(), TOKEN);
    assert_eq!(format!("{}", opts.token), "***");
}
