//! The `X-Repaybot-Signature` header: what a shop's API computes with
//! `openssl dgst -sha256 -hmac` must verify, and every way a header can be wrong is refused.

use repaybot::payments::sign::{sign, verify, SignatureError};
use repaybot::settings::Secret;

const NOW: i64 = 1_796_000_000;

fn secret() -> Secret {
    Secret::new("whsec_test_42")
}

#[test]
fn a_signature_is_the_hex_hmac_sha256_of_time_dot_body() {
    // printf '1796000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test_42
    let header = sign(&secret(), NOW, br#"{"a":1}"#);
    assert_eq!(
        header,
        "t=1796000000,v1=136e006063494ce96370640322fb2ca0111f3638161e65dde109280391e34ab5"
    );
}

#[test]
fn a_signature_verifies_within_the_window_and_not_outside() {
    let body = br#"{"payment_id":"P1"}"#;
    let header = sign(&secret(), NOW, body);
    assert_eq!(verify(&secret(), Some(&header), body, NOW + 300), Ok(()));
    assert_eq!(verify(&secret(), Some(&header), body, NOW - 300), Ok(()));
    assert_eq!(
        verify(&secret(), Some(&header), body, NOW + 301),
        Err(SignatureError::Stale)
    );
    assert_eq!(
        verify(&secret(), Some(&header), body, NOW - 301),
        Err(SignatureError::Stale)
    );
}

#[test]
fn a_changed_body_another_secret_or_a_bad_header_is_refused() {
    let body = br#"{"amount":"267.90"}"#;
    let header = sign(&secret(), NOW, body);
    let other = br#"{"amount":"267.91"}"#;
    assert_eq!(
        verify(&secret(), Some(&header), other, NOW),
        Err(SignatureError::Mismatch)
    );
    let wrong = Secret::new("another");
    assert_eq!(
        verify(&wrong, Some(&header), body, NOW),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify(&secret(), None, body, NOW),
        Err(SignatureError::Missing)
    );
    for bad in [
        "",
        "t=abc,v1=00",
        "v1=136e006063494ce96370640322fb2ca0111f3638161e65dde109280391e34ab5",
        "t=1796000000",
        "t=1796000000,v1=zz",
        "t=1796000000,v1=1b5a",
        "garbage",
    ] {
        assert_eq!(
            verify(&secret(), Some(bad), body, NOW),
            Err(SignatureError::Malformed),
            "{bad}"
        );
    }
    // The time is part of what is signed: moving it breaks the MAC.
    let moved = header.replace("t=1796000000", "t=1796000001");
    assert_eq!(
        verify(&secret(), Some(&moved), body, NOW),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn the_secret_never_prints() {
    let s = secret();
    assert_eq!(format!("{s:?} {s}"), "*** ***");
    let settings =
        repaybot::payments::PaymentSettings::default().with_secret(Some("whsec_test_42".into()));
    assert!(!format!("{settings:?}").contains("whsec_test_42"));
}
