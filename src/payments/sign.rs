//! The `X-Repaybot-Signature` header of SPEC 2.5, both directions: `t=UNIX_SECONDS,v1=HEX`, HEX
//! the lowercase hex HMAC-SHA256 of `"{t}.{raw body}"` with the shared secret. Pure: the time is
//! passed in, the MAC is compared in constant time (`subtle`), nothing is logged.

use crate::settings::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header's name.
pub const HEADER: &str = "X-Repaybot-Signature";

/// How far (seconds) a signature's `t` may be from the receiver's clock.
pub const WINDOW_SECS: i64 = 300;

/// Why a signature is refused (every one answers 401; the kind goes to the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no signature header")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature's time is more than 300 s away")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

fn mac_of(secret: &Secret, t: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts a key of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The header value signing `body` at `t` (unix seconds).
pub fn sign(secret: &Secret, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac_of(secret, t, body)))
}

/// Checks `header` (None: missing) for `body` at `now` (unix seconds).
pub fn verify(
    secret: &Secret,
    header: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let (t, v1) = parse(header).ok_or(SignatureError::Malformed)?;
    if (now - t).abs() > WINDOW_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = mac_of(secret, t, body);
    if bool::from(expected.as_slice().ct_eq(v1.as_slice())) && !expected.is_empty() {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// `t=123,v1=abcd…` → (123, MAC bytes). Other `k=v` parts are ignored (a future `v2`).
fn parse(header: &str) -> Option<(i64, Vec<u8>)> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "t" => t = Some(v.parse::<i64>().ok()?),
            "v1" => v1 = Some(hex::decode(v).ok()?),
            _ => {}
        }
    }
    let v1 = v1.filter(|m| m.len() == 32)?;
    Some((t?, v1))
}
