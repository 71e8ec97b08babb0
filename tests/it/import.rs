//! Import tests (SPEC 2.2): every rejection names file:line and applies nothing; re-importing the
//! same file changes nothing; the binary exits 2 on bad input; the statement JSON matches 2.4.

use repaybot::domain::Policy;
use repaybot::import::{import, ImportFailure, Kind};
use repaybot::store::Store;
use std::process::Command;

const ACCOUNTS: &str = "account_id,name,phone,id_last4,language,timezone\nA1,Zhang,13800005678,123x,,\nA2,Li,+86 139-0000-1234,4521,en,Europe/London\n";
const ORDERS: &str = "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\nMI1,A1,Phone,2999,12,flat_fee,0.006,2026-06-15\n";

fn store_with(files: &[(Kind, &str)]) -> Store {
    let store = Store::temporary().unwrap();
    for (kind, text) in files {
        import(
            &store,
            *kind,
            "setup.csv",
            text.as_bytes(),
            &Policy::default(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    }
    store
}

fn rejected(store: &Store, kind: Kind, text: &str) -> Vec<String> {
    match import(store, kind, "in.csv", text.as_bytes(), &Policy::default()) {
        Err(ImportFailure::Invalid(errors)) => errors.iter().map(ToString::to_string).collect(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn payments(rows: &str) -> String {
    format!("payment_id,order_id,amount,paid_on,kind\n{rows}")
}

#[test]
fn accounts_are_normalised_and_reimport_changes_nothing() {
    let store = store_with(&[(Kind::Accounts, ACCOUNTS)]);
    let a2 = store.account("A2").unwrap().unwrap().data;
    assert_eq!(a2.phone.as_str(), "13900001234");
    assert_eq!(a2.phone.masked(), "139****1234");
    assert!(store
        .account("A1")
        .unwrap()
        .unwrap()
        .data
        .id_last4
        .matches("123X"));
    let again = import(
        &store,
        Kind::Accounts,
        "again.csv",
        ACCOUNTS.as_bytes(),
        &Policy::default(),
    )
    .unwrap();
    assert_eq!((again.added, again.unchanged), (0, 2));
    assert_eq!(
        store.account("A1").unwrap().unwrap().origin,
        "setup.csv:2",
        "the first origin stays"
    );
}

#[test]
fn bom_crlf_any_column_order_and_quoting_are_accepted() {
    let text = "\u{feff}name,account_id,id_last4,phone\r\n\"Wang, Fang\",A9,8806,137 0000 2468\r\n";
    let store = store_with(&[(Kind::Accounts, text)]);
    let a = store.account("A9").unwrap().unwrap().data;
    assert_eq!(
        (a.name.as_str(), a.timezone.as_str()),
        ("Wang, Fang", "Asia/Shanghai")
    );
}

#[test]
fn bad_headers_and_empty_files_are_rejected() {
    let store = Store::temporary().unwrap();
    assert_eq!(
        rejected(&store, Kind::Accounts, ""),
        ["in.csv:1: the file is empty; expected a header row"]
    );
    let e = rejected(
        &store,
        Kind::Accounts,
        "account_id,name,phone,id_last4,colour\n",
    );
    assert_eq!(
        e,
        ["in.csv:1: unknown column 'colour' (expected account_id, name, phone, id_last4)"]
    );
    let e = rejected(&store, Kind::Accounts, "account_id,name,phone\n");
    assert_eq!(e, ["in.csv:1: missing column 'id_last4'"]);
    let ok = import(
        &store,
        Kind::Accounts,
        "h.csv",
        b"account_id,name,phone,id_last4\n",
        &Policy::default(),
    )
    .unwrap();
    assert_eq!(ok.added, 0, "a header-only file imports nothing");
}

#[test]
fn one_bad_row_rejects_the_whole_file_naming_its_line() {
    let store = Store::temporary().unwrap();
    let text = "account_id,name,phone,id_last4\nA1,Zhang,13800005678,1234\nA2,Li,12345,1234\nA3,Wu,13700001111,12\nA4,Ma,13600001111,1234,extra\n";
    let e = rejected(&store, Kind::Accounts, text);
    assert_eq!(
        e[0],
        "in.csv:3: phone '12345' is not a mainland mobile number (11 digits starting 13–19)"
    );
    assert_eq!(
        e[1],
        "in.csv:4: id_last4 must be three digits then a digit or X"
    );
    assert!(!store.has_accounts(), "nothing of the file is applied");
}

#[test]
fn a_conflicting_duplicate_names_both_rows_and_phones_are_unique() {
    let store = store_with(&[(Kind::Accounts, ACCOUNTS)]);
    let e = rejected(
        &store,
        Kind::Accounts,
        "account_id,name,phone,id_last4\nA1,Zhang San,13800005678,123X\n",
    );
    assert_eq!(
        e,
        ["in.csv:2: account A1 differs from the one already given at setup.csv:2"]
    );
    let e = rejected(
        &store,
        Kind::Accounts,
        "account_id,name,phone,id_last4\nA7,X,13800005678,1111\n",
    );
    assert_eq!(
        e,
        ["in.csv:2: phone is already used by account A1 (setup.csv:2)"]
    );
    let e = rejected(
        &store,
        Kind::Accounts,
        "account_id,name,phone,id_last4\nA8,X,13500001111,1111\nA8,Y,13500001111,1111\n",
    );
    assert_eq!(
        e,
        ["in.csv:3: account A8 differs from the one already given at in.csv:2"]
    );
}

#[test]
fn orders_are_checked_field_by_field() {
    let store = store_with(&[(Kind::Accounts, ACCOUNTS)]);
    let head = "order_id,account_id,item,principal,periods,method,monthly_rate,first_due_date\n";
    let cases = [
        (
            "O1,A1,x,0,12,flat_fee,0.006,2026-06-15",
            "principal: '0' must be greater than 0",
        ),
        (
            "O1,A1,x,10.001,12,flat_fee,0.006,2026-06-15",
            "principal: '10.001' has more than two decimals",
        ),
        (
            "O1,A1,x,100,61,flat_fee,0.006,2026-06-15",
            "periods '61' must be a whole number from 1 to 60",
        ),
        (
            "O1,A1,x,100,12,balloon,0.006,2026-06-15",
            "method 'balloon' must be flat_fee, equal_installment or equal_principal",
        ),
        (
            "O1,A1,x,100,12,flat_fee,0.06,2026-06-15",
            "monthly_rate '0.06' must be a fraction from 0 to 0.05 (0.006 = 0.6 %)",
        ),
        (
            "O1,A1,x,100,12,flat_fee,0.006,2026-02-30",
            "first_due_date '2026-02-30' is not a date YYYY-MM-DD",
        ),
        (
            "O1,A1,x,0.30,60,flat_fee,0.006,2026-06-15",
            "cannot make a schedule: installment 1 would have a principal below 0.01",
        ),
        (
            "O1,A404,x,100,12,flat_fee,0.006,2026-06-15",
            "account A404 is not known (import accounts first)",
        ),
    ];
    for (row, reason) in cases {
        assert_eq!(
            rejected(&store, Kind::Orders, &format!("{head}{row}\n")),
            [format!("in.csv:2: {reason}")]
        );
    }
}

#[test]
fn payments_too_large_or_to_a_settled_order_are_refused() {
    let store = store_with(&[(Kind::Accounts, ACCOUNTS), (Kind::Orders, ORDERS)]);
    // the whole schedule owes 2999 + 12 × 17.99 = 3214.88 before any penalty
    let e = rejected(
        &store,
        Kind::Payments,
        &payments("P1,MI1,3214.89,2026-06-01,\n"),
    );
    assert_eq!(e, ["in.csv:2: payment P1: payment 3214.89 is larger than what the order owes on 2026-06-01 (3214.88)"]);
    let e = rejected(
        &store,
        Kind::Payments,
        &payments("P1,MI1,100,2026-06-01,settlement\n"),
    );
    assert!(e[0].starts_with("in.csv:2: payment P1: settlement payment 100.00 does not equal the settlement quote 3016.99"), "{e:?}");
    // settle on 06-01: principal 2999 + current fee 17.99
    let ok = import(
        &store,
        Kind::Payments,
        "s.csv",
        payments("S1,MI1,3016.99,2026-06-01,settlement\n").as_bytes(),
        &Policy::default(),
    );
    assert_eq!(ok.unwrap().added, 1);
    let e = rejected(&store, Kind::Payments, &payments("P2,MI1,10,2026-07-01,\n"));
    assert_eq!(
        e,
        ["in.csv:2: payment P2: the order is already settled; no payment can be applied to it"]
    );
    let e = rejected(
        &store,
        Kind::Payments,
        &payments("P3,NOPE,10,2026-07-01,\n"),
    );
    assert_eq!(
        e,
        ["in.csv:2: order NOPE is not known (import orders first)"]
    );
}

#[test]
fn a_backdated_payment_that_would_invalidate_an_imported_one_is_rejected_by_its_own_row() {
    let store = store_with(&[(Kind::Accounts, ACCOUNTS), (Kind::Orders, ORDERS)]);
    // pays everything owed on 07-01 exactly
    import(
        &store,
        Kind::Payments,
        "old.csv",
        payments("P9,MI1,3214.88,2026-07-01,\n").as_bytes(),
        &Policy::default(),
    )
    .unwrap();
    let e = rejected(
        &store,
        Kind::Payments,
        &payments("P0,MI1,100,2026-06-20,\n"),
    );
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(
            "in.csv:2: payment P0 would make the imported payment P9 (old.csv:2) invalid"
        ),
        "{e:?}"
    );
    // and a back-dated one that fits is replayed in its place
    let store = store_with(&[(Kind::Accounts, ACCOUNTS), (Kind::Orders, ORDERS)]);
    import(
        &store,
        Kind::Payments,
        "a.csv",
        payments("P2,MI1,267.90,2026-07-15,\n").as_bytes(),
        &Policy::default(),
    )
    .unwrap();
    import(
        &store,
        Kind::Payments,
        "b.csv",
        payments("P1,MI1,267.90,2026-06-15,\n").as_bytes(),
        &Policy::default(),
    )
    .unwrap();
    let ids: Vec<String> = store
        .payments_of("MI1")
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["P1", "P2"]);
}

fn statement_on_2026_11_21(store: &Store) -> String {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
    repaybot::statement::json(&store.bill("A1", today, &Policy::default()).unwrap(), &[])
}

#[test]
fn importing_the_same_payments_twice_changes_nothing() {
    let store = store_with(&[(Kind::Accounts, ACCOUNTS), (Kind::Orders, ORDERS)]);
    let text = payments("P1,MI1,267.90,2026-06-15,installment\nP2,MI1,267.90,2026-07-15,\n");
    let first = import(
        &store,
        Kind::Payments,
        "p.csv",
        text.as_bytes(),
        &Policy::default(),
    )
    .unwrap();
    let before = statement_on_2026_11_21(&store);
    let second = import(
        &store,
        Kind::Payments,
        "p.csv",
        text.as_bytes(),
        &Policy::default(),
    )
    .unwrap();
    let after = statement_on_2026_11_21(&store);
    assert_eq!((first.added, second.added, second.unchanged), (2, 0, 2));
    assert_eq!(before, after);
    let e = rejected(
        &store,
        Kind::Payments,
        &payments("P1,MI1,267.91,2026-06-15,\n"),
    );
    assert_eq!(
        e,
        ["in.csv:2: payment P1 differs from the one already given at p.csv:2"]
    );
}

// ---- through the real binary ----

pub fn repaybot(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_repaybot"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("REPAYBOT_TODAY")
        .env_remove("REPAYBOT_CONFIG")
        .output()
        .unwrap()
}

pub fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("repaybot-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_binary_imports_prints_the_spec_statement_and_exits_2_on_bad_files() {
    let dir = tempdir("bin");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let data = dir.join("data");
    let acc = write("accounts.csv", ACCOUNTS);
    let ord = write("orders.csv", ORDERS);
    let pays: String = ["06", "07", "08", "09", "10", "11"]
        .iter()
        .map(|m| format!("P{m},MI1,267.90,2026-{m}-15,\n"))
        .collect();
    let pay = write("payments.csv", &payments(&pays));
    for (kind, file) in [("accounts", &acc), ("orders", &ord), ("payments", &pay)] {
        let out = repaybot(&data, &["import", kind, file]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = repaybot(
        &data,
        &["--today", "2026-11-21", "statement", "A1", "--json"],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let o = &doc["orders"][0];
    assert_eq!(doc["overdue_total"], "0.00");
    assert_eq!(o["annual_rate"], "13.03");
    assert_eq!(o["settlement_quote"], "1517.53");
    assert_eq!(
        o["next_due"],
        serde_json::json!({"date": "2026-12-15", "amount": "267.90"})
    );
    assert_eq!(
        o["installments"][0],
        serde_json::json!({"n": 1, "due_date": "2026-06-15", "principal": "249.91", "fee": "17.99", "paid": "267.90", "penalty": "0.00", "remaining": "0.00", "status": "paid"})
    );
    assert_eq!(o["installments"][11]["principal"], "249.99");

    let bad = write(
        "bad.csv",
        "payment_id,order_id,amount,paid_on\nP99,MI1,-5,2026-11-01\n",
    );
    let out = repaybot(&data, &["import", "payments", &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), format!("{bad}:2: amount: '-5' is not an amount (expected digits with at most two decimals, e.g. 99.90)"));
    let out = repaybot(&data, &["statement", "NOBODY"]);
    assert_eq!(out.status.code(), Some(2));
    let out = repaybot(&data, &["import", "invoices", &bad]);
    assert_eq!(out.status.code(), Some(2));
}
