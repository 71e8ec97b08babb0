//! Import hardening (issue 11): size caps with a clear `file:line: reason`, echoed text cut to
//! 80 characters, names and items without control characters or direction marks, ids from a
//! safe set, a large file read as a stream and committed in chunks that a crash cannot leave
//! half applied.

use super::import::{repaybot, tempdir};
use repaybot::domain::{Account, IdLast4, Language, Phone, Policy};
use repaybot::import::{import, ImportFailure, Kind};
use repaybot::store::{ImportBatch, Store, Stored};

const HEAD: &str = "account_id,name,phone,id_last4\n";

fn errors(kind: Kind, text: &str) -> Vec<String> {
    let store = Store::temporary().unwrap();
    match import(&store, kind, "in.csv", text.as_bytes(), &Policy::default()) {
        Err(ImportFailure::Invalid(e)) => e.iter().map(ToString::to_string).collect(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn account_row(id: &str, name: &str) -> String {
    let quoted = name.replace('"', "\"\"");
    format!("{HEAD}{id},\"{quoted}\",13800005678,1234\n")
}

#[test]
fn names_with_control_characters_or_direction_marks_are_rejected() {
    let table = [
        ("Zhang\nSan", "000A"),
        ("Li\rNa", "000D"),
        ("Tab\there", "0009"),
        ("Li\u{202E}gnahZ", "202E"),
        ("\u{202A}Wang", "202A"),
        ("A\u{200F}B", "200F"),
        ("A\u{200E}B", "200E"),
        ("\u{2066}x\u{2069}", "2066"),
        ("bell\u{7}", "0007"),
    ];
    for (name, code) in table {
        let e = errors(Kind::Accounts, &account_row("A1", name));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("in.csv:2: name '") && e[0].contains(&format!("U+{code}")),
            "{name:?}: {e:?}"
        );
    }
    let orders = "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n\
                  O1,A1,\"Phone\u{202E}\",100,1,flat_fee,0,2026-01-01\n";
    let e = errors(Kind::Orders, orders);
    assert!(
        e[0].starts_with("in.csv:2: item '") && e[0].contains("U+202E"),
        "{e:?}"
    );
}

#[test]
fn ids_outside_the_safe_set_are_rejected() {
    for id in ["A/1", "../A1", "A\\1", "A1;", "Ａ1", "A:1", "A%2F"] {
        let e = errors(Kind::Accounts, &account_row(id, "Zhang"));
        assert_eq!(
            e,
            [format!(
                "in.csv:2: account_id '{}' must be 1 to 64 of the characters A-Z a-z 0-9 . _ -",
                id.escape_debug()
            )],
            "{id}"
        );
    }
    let long = "A".repeat(65);
    let e = errors(Kind::Accounts, &account_row(&long, "Zhang"));
    assert!(e[0].contains("must be 1 to 64"), "{e:?}");
    // The ids the shop uses stay fine.
    let store = Store::temporary().unwrap();
    let ok = account_row("A-1_x.2", "Zhang");
    import(
        &store,
        Kind::Accounts,
        "ok.csv",
        ok.as_bytes(),
        &Policy::default(),
    )
    .unwrap();
}

#[test]
fn long_fields_are_refused_with_their_line_and_echoes_are_cut() {
    let name = "张".repeat(101);
    let e = errors(Kind::Accounts, &account_row("A1", &name));
    assert_eq!(e, ["in.csv:2: name is longer than 100 characters"]);
    let big_cell = format!("{HEAD}A1,Zhang,{},1234\n", "1".repeat(1025));
    let e = errors(Kind::Accounts, &big_cell);
    assert_eq!(e, ["in.csv:2: phone is longer than 1024 bytes"]);
    let huge = format!(
        "{HEAD}A1,Zhang,13800005678,1234\nA2,{},13900001234,1234\n",
        "x".repeat(100_000)
    );
    let e = errors(Kind::Accounts, &huge);
    assert_eq!(e, ["in.csv:3: this line is longer than 16384 bytes"]);
    // An unknown column is echoed, cut to 80 characters.
    let header = format!("account_id,name,phone,id_last4,{}\n", "c".repeat(5000));
    let e = errors(Kind::Accounts, &header);
    assert_eq!(
        e,
        [format!(
            "in.csv:1: unknown column '{}…' (expected account_id, name, phone, id_last4)",
            "c".repeat(80)
        )]
    );
    // A bad cell is echoed cut, too.
    let zone = format!(
        "account_id,name,phone,id_last4,timezone\nA1,Zhang,13800005678,1234,{}\n",
        "Z".repeat(900)
    );
    let e = errors(Kind::Accounts, &zone);
    assert_eq!(
        e,
        [format!(
            "in.csv:2: timezone '{}…' is not an IANA time zone name",
            "Z".repeat(80)
        )]
    );
}

#[test]
fn the_binary_refuses_a_huge_header_with_a_short_reason() {
    let dir = tempdir("huge-header");
    let file = dir.join("accounts.csv");
    let mut text = "x".repeat(5_000_000);
    text.push('\n');
    std::fs::write(&file, text).unwrap();
    let out = repaybot(
        &dir.join("data"),
        &["import", "accounts", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.len() < 300,
        "{} bytes: {}",
        stderr.len(),
        &stderr[..300.min(stderr.len())]
    );
    assert!(
        stderr.contains("accounts.csv:1: this line is longer than 16384 bytes"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn account(i: usize) -> Stored<Account> {
    Stored::new(
        format!("big.csv:{}", i + 2),
        Account {
            id: format!("B{i:06}"),
            name: format!("Customer {i}"),
            phone: Phone::parse(&format!("139{i:08}")).unwrap(),
            id_last4: IdLast4::parse("1234").unwrap(),
            language: Language::Zh,
            timezone: "Asia/Shanghai".into(),
        },
    )
}

#[test]
fn a_large_import_cut_short_by_a_crash_is_removed_when_the_store_opens() {
    let dir = tempdir("chunks");
    let batch = ImportBatch {
        accounts: (0..12_000).map(account).collect(),
        ..ImportBatch::default()
    };
    {
        let store = Store::open(&dir).unwrap();
        // Two of three chunks written, then the process dies.
        store.commit_import_until(&batch, 2).unwrap();
        assert_eq!(store.account_ids().unwrap().len(), 10_000);
    }
    let store = Store::open(&dir).unwrap();
    assert!(
        store.account_ids().unwrap().is_empty(),
        "nothing of the file stays"
    );
    assert_eq!(store.account_id_by_phone("13900000001").unwrap(), None);
    // The whole file then imports normally, in chunks.
    store.commit_import(&batch).unwrap();
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.account_ids().unwrap().len(), 12_000);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
