//! `[payments]` is checked at start-up: an unknown gateway, a missing or bad URL, a bad listen
//! address or pending_minutes out of range is an error naming every problem; the secret is
//! never read from the file.

use repaybot::payments::GatewayKind;
use repaybot::settings::Settings;

fn load(text: &str) -> Result<Settings, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repaybot.toml");
    std::fs::write(&path, text).unwrap();
    Settings::load(Some(&path)).map_err(|e| format!("{e:#}"))
}

#[test]
fn bad_payment_settings_are_start_up_errors_naming_each_problem() {
    let err = load("[payments]\ngateway = \"stripe\"\n").unwrap_err();
    assert!(
        err.contains("payments.gateway 'stripe' is unknown"),
        "{err}"
    );
    let err = load(
        "[payments]\ngateway = \"http\"\napi_url = \"ftp://x\"\ncallback_listen = \"nowhere\"\npending_minutes = 0\n",
    )
    .unwrap_err();
    for part in [
        "payments.api_url 'ftp://x' is not an http(s) URL",
        "payments.callback_url is required",
        "payments.callback_listen 'nowhere' is not an address",
        "payments.pending_minutes is 0",
    ] {
        assert!(err.contains(part), "{part} missing in: {err}");
    }
    let err = load("[payments]\ngateway = \"http\"\nsecret = \"in-the-file\"\n").unwrap_err();
    assert!(
        err.contains("secret"),
        "a secret in the file is refused: {err}"
    );
}

#[test]
fn good_http_settings_are_typed() {
    let s = load(
        "[payments]\ngateway = \"http\"\napi_url = \"https://pay.shop.example/api/\"\ncallback_url = \"https://bot.shop.example/pay/callback\"\ncallback_listen = \"0.0.0.0:8444\"\n",
    )
    .unwrap();
    assert_eq!(s.payments.gateway, GatewayKind::Http);
    let http = s.payments.http.unwrap();
    assert_eq!(http.api_url, "https://pay.shop.example/api");
    assert_eq!(http.callback_listen.port(), 8444);
    assert_eq!(s.payments.pending_minutes, 30);
    assert_eq!(load("").unwrap().payments.gateway, GatewayKind::Sandbox);
}
