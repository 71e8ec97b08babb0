//! Tests of the nlu module: accuracy on the labelled samples, slot extractors (table tests),
//! pattern-file errors with file:line, and hostile inputs.

use chrono::NaiveDate;
use repaybot::nlu::{
    builtin_files, parse_amount, parse_date, run_nlu_lines, Intent, Lang, Nlu, SlotProblem,
    SourceFile,
};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::sync::OnceLock;

fn nlu() -> &'static Nlu {
    static NLU: OnceLock<Nlu> = OnceLock::new();
    NLU.get_or_init(|| Nlu::from_files(&builtin_files()).expect("builtin patterns load"))
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today() -> NaiveDate {
    day("2026-11-21")
}

/// Intent accuracy and slot exact-match of a labelled jsonl file; prints every miss.
fn evaluate(name: &str, jsonl: &str) -> (f64, f64) {
    let (mut total, mut intent_ok, mut slots_ok, mut lang_ok) = (0, 0, 0, 0);
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("valid jsonl");
        let text = case["text"].as_str().unwrap();
        let u = nlu().understand(text, today());
        let got = u.to_json(text);
        total += 1;
        let i_ok = got["intent"] == case["intent"];
        let s_ok = got["slots"] == case["slots"];
        let lang = serde_json::to_value(u.lang).unwrap();
        intent_ok += usize::from(i_ok);
        slots_ok += usize::from(s_ok);
        lang_ok += usize::from(lang == case["lang"]);
        if !i_ok || !s_ok {
            println!(
                "MISS {text:?}: want {} {}, got {} {}",
                case["intent"], case["slots"], got["intent"], got["slots"]
            );
        }
    }
    let pct = |n: usize| (n as f64) / (total as f64);
    println!(
        "{name}: {total} messages, intent accuracy {:.3}, slot exact-match {:.3}, lang {:.3}",
        pct(intent_ok),
        pct(slots_ok),
        pct(lang_ok)
    );
    (pct(intent_ok), pct(slots_ok))
}

// Floors just below what the learned model measured when it replaced the regex patterns (the
// patterns had been tuned on dev and holdout 1-3 and scored 1.000 there; holdout4 was written
// by someone who never saw the training data and was measured once before any tuning: regex
// 0.845, model 0.949; 0.956 after the last training-data change, not tuned on it).

#[test]
fn nlu_dev_accuracy() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/nlu/dev.jsonl");
    let text = std::fs::read_to_string(path).expect("shared/nlu/dev.jsonl");
    let (intent, slots) = evaluate("dev", &text);
    assert!(intent >= 0.97, "intent accuracy {intent}");
    assert!(slots >= 0.99, "slot exact-match {slots}");
}

/// Two slot labels predate SPEC 2.3's month-day rule (11月18号 / nov 15 are now the next
/// occurrence, 2027): they count as misses here and in holdout2.
#[test]
fn nlu_holdout_accuracy() {
    let (intent, slots) = evaluate("holdout", include_str!("nlu_holdout.jsonl"));
    assert!(intent >= 0.94, "intent accuracy {intent}");
    assert!(slots >= 0.98, "slot exact-match {slots}");
}

#[test]
fn nlu_holdout2_accuracy() {
    let (intent, slots) = evaluate("holdout2", include_str!("nlu_holdout2.jsonl"));
    assert!(intent >= 0.94, "intent accuracy {intent}");
    assert!(slots >= 0.98, "slot exact-match {slots}");
}

#[test]
fn nlu_holdout3_accuracy() {
    let (intent, slots) = evaluate("holdout3", include_str!("nlu_holdout3.jsonl"));
    assert!(intent >= 0.98, "intent accuracy {intent}");
    assert!(slots >= 0.99, "slot exact-match {slots}");
}

/// 472 messages written blind (never saw the training data), both languages, 60 off-topic.
#[test]
fn nlu_holdout4_accuracy() {
    let (intent, slots) = evaluate("holdout4", include_str!("nlu_holdout4.jsonl"));
    assert!(intent >= 0.95, "intent accuracy {intent}");
    assert!(slots >= 0.98, "slot exact-match {slots}");
}

/// Phrasings in none of the labelled samples, by intent (written for the regex version, which
/// passed them all): particles, typos, contractions, negations, emoji-only replies. The model is
/// measured on them like on a held-out file: 75 of 85 when it replaced the patterns (the misses
/// are emoji-only greetings and thanks, 好累, 明天还, 谢谢 我明天还500 (thanks), 早点还完, i'm broke and three judgement calls
/// between overdue_help, negotiate, records and autopay).
#[test]
fn nlu_intent_sanity_cases() {
    let cases: &[(&str, &[&str])] = &[
        ("affirm", &["好的呀", "没毛病", "yea", "👌", "ok呀"]),
        (
            "deny",
            &["不用了谢谢", "not now thanks", "i dont want that", "👎"],
        ),
        ("cancel", &["cancle", "算了不还了", "退出吧"]),
        ("thanks", &["thnx", "谢谢啦", "🙏", "thank you so much!!"]),
        ("bye", &["先这样吧", "下次聊", "see ya"]),
        ("greet", &["你好呀", "👋", "hey there"]),
        ("help", &["帮帮我", "怎么操作", "what can you do"]),
        ("language", &["english pls", "请讲中文", "language"]),
        (
            "human",
            &["找个人跟我说", "我要跟经理说", "speak to manager"],
        ),
        (
            "bind_account",
            &["怎么登录", "我换手机号了", "how to login"],
        ),
        (
            "bill_query",
            &[
                "下次还款是哪天",
                "我总共还欠多少钱",
                "how much do i need to pay this month",
                "这个月账单怎么还没出",
            ],
        ),
        (
            "bill_detail",
            &["我的订单还有几期", "how much per month for my phone"],
        ),
        (
            "repay",
            &[
                "这期的钱我交一下",
                "我要交这个月的",
                "明天还",
                "paying my bill today",
                "谢谢 我明天还500",
            ],
        ),
        (
            "early_settle",
            &[
                "早点还完",
                "i want to end my installment plan early",
                "can i pay off early without penalty",
                "好的 关闭分期",
            ],
        ),
        (
            "autopay",
            &[
                "update payment card",
                "用哪张卡扣的",
                "i don't want autopay",
            ],
        ),
        (
            "reminder_set",
            &["不要忘了提醒我还款", "remaind me tomorow", "提醒我15号还钱"],
        ),
        (
            "reminder_cancel",
            &[
                "别老发消息提醒我",
                "please don't remind me",
                "dont remind me anymore",
            ],
        ),
        (
            "overdue_help",
            &["不还会怎么样", "晚还几天有事吗", "what if i don't pay"],
        ),
        (
            "negotiate",
            &[
                "下个月再还行吗",
                "能不能晚3天还",
                "i'm broke",
                "i cant pay this mounth",
                "逾期了能协商吗",
                "can i pay later",
            ],
        ),
        (
            "records",
            &[
                "我已经还了",
                "i already paid",
                "i paid but it still says overdue",
                "自动扣款扣了吗",
                "did i pay last month",
            ],
        ),
        (
            "credit_impact",
            &[
                "会影响我以后贷款吗",
                "will i get blacklisted",
                "会不会留下不良记录",
            ],
        ),
        (
            "fees",
            &[
                "为什么要收这么多钱",
                "how much interest will i pay",
                "why am i charged extra",
            ],
        ),
        (
            "unknown",
            &[
                "好无聊啊",
                "好累",
                "今天吃什么",
                "how are you",
                "我要退货",
                "where is my package",
                "。。。",
            ],
        ),
    ];
    let (mut total, mut ok) = (0, 0);
    for (want, texts) in cases {
        for text in texts.iter() {
            let got = nlu().understand(text, today()).intent;
            total += 1;
            if got.as_str() == *want {
                ok += 1;
            } else {
                println!("MISS {text:?}: want {want}, got {}", got.as_str());
            }
        }
    }
    assert!(ok * 100 >= total * 88, "{ok} of {total}");
    // 最近一期 names a period; it does not state a number of periods.
    assert_eq!(
        slots_of("最近一期什么时候到期"),
        Value::Object(Default::default())
    );
    assert_eq!(slots_of("谢谢 我明天还500")["amount"], "500.00");
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn nlu_parse_amount_table() {
    let ok = [
        ("500", Some("500.00")),
        ("还500元", Some("500.00")),
        ("¥99.9", Some("99.90")),
        ("￥１２００", Some("1200.00")),
        ("５００块", Some("500.00")),
        ("一千二", Some("1200.00")),
        ("两千五百", Some("2500.00")),
        ("两千五", Some("2500.00")),
        ("1.5万", Some("15000.00")),
        ("三百块", Some("300.00")),
        ("1,200", Some("1200.00")),
        ("pay rmb 300", Some("300.00")),
        ("300 yuan", Some("300.00")),
        ("一万五", Some("15000.00")),
        ("12.345", Some("12.35")),
        ("2k", Some("2000.00")),
        ("五十块", Some("50.00")),
        ("还款", None),
        ("分12期", None),
        ("提前3天", None),
        ("12月5号", None),
        ("what's 2+2", None),
        ("iphone15", None),
        ("iphone 15 分12期", None),
        ("13812345678", None),
        ("JD20241117A09", None),
        ("年化24%", None),
        ("下午3点", None),
        ("一次付清", None),
        ("万一逾期了", None),
        ("十分感谢", None),
        ("", None),
    ];
    for (text, want) in ok {
        assert_eq!(parse_amount(text), Ok(want.map(dec)), "{text}");
    }
    for text in [
        "-500",
        "还负五百",
        "99999999999元",
        "¥100000000",
        "0元",
        "还-1块",
        "还一亿",
    ] {
        assert_eq!(parse_amount(text), Err(SlotProblem::Amount), "{text}");
    }
}

#[test]
fn nlu_parse_date_table() {
    let cases = [
        ("今天", Some("2026-11-21")),
        ("明天", Some("2026-11-22")),
        ("后天", Some("2026-11-23")),
        ("大后天", Some("2026-11-24")),
        ("前天", Some("2026-11-19")),
        ("下周五", Some("2026-11-27")),
        ("这周五", Some("2026-11-20")),
        ("周五", Some("2026-11-27")),
        ("星期天", Some("2026-11-22")),
        ("下周一", Some("2026-11-23")),
        ("12月5号", Some("2026-12-05")),
        ("12月5日", Some("2026-12-05")),
        ("十二月五号", Some("2026-12-05")),
        ("1月3号", Some("2027-01-03")),
        ("15号", Some("2026-12-15")),
        ("21号", Some("2026-11-21")),
        ("30号", Some("2026-11-30")),
        ("31号", Some("2026-12-31")),
        ("下个月5号", Some("2026-12-05")),
        ("next monday", Some("2026-11-23")),
        ("next Friday", Some("2026-11-27")),
        ("Dec 5", Some("2026-12-05")),
        ("5 dec", Some("2026-12-05")),
        ("december 5th", Some("2026-12-05")),
        ("on the 20th", Some("2026-12-20")),
        ("tomorrow", Some("2026-11-22")),
        ("2026-12-05", Some("2026-12-05")),
        ("2027年1月2日", Some("2027-01-02")),
        ("12/5", Some("2026-12-05")),
        ("还款", None),
        ("11月的账单", None),
        ("提前3天", None),
        ("", None),
    ];
    for (text, want) in cases {
        assert_eq!(parse_date(text, today()), Ok(want.map(day)), "{text}");
    }
    for text in [
        "2月30号",
        "13月1号",
        "32号",
        "2026-02-30",
        "12/35",
        "feb 30",
        "0号",
    ] {
        assert_eq!(parse_date(text, today()), Err(SlotProblem::Date), "{text}");
    }
}

fn slots_of(text: &str) -> Value {
    nlu().understand(text, today()).to_json(text)["slots"].clone()
}

#[test]
fn nlu_days_periods_order_table() {
    let cases = [
        ("提前3天提醒", r#"{"days":3}"#),
        ("缓一周", r#"{"days":7}"#),
        ("延期一个月", r#"{"days":30}"#),
        ("两周后再还", r#"{"days":14}"#),
        ("give me 3 days", r#"{"days":3}"#),
        ("宽限半个月", r#"{"days":15}"#),
        ("分12期", r#"{"periods":12}"#),
        ("split it over six months", r#"{"periods":6}"#),
        ("12 installments", r#"{"periods":12}"#),
        ("第3期", r#"{}"#),
        ("订单5231108832", r#"{"order_id":"5231108832"}"#),
        (
            "order JD20241117A09 status",
            r#"{"order_id":"JD20241117A09"}"#,
        ),
        ("我手机13812345678", r#"{}"#),
        ("订单号：778899", r#"{"order_id":"778899"}"#),
        ("一千块分３期", r#"{"amount":"1000.00","periods":3}"#),
    ];
    for (text, want) in cases {
        let want: Value = serde_json::from_str(want).unwrap();
        assert_eq!(slots_of(text), want, "{text}");
    }
}

#[test]
fn nlu_nonsense_gives_problems_not_values() {
    let u = nlu().understand("2月30号还负五百", today());
    assert_eq!(u.slots.date, None);
    assert_eq!(u.slots.amount, None);
    assert!(u.slots.problems.contains(&SlotProblem::Date));
    assert!(u.slots.problems.contains(&SlotProblem::Amount));
    let u = nlu().understand("我要还99999999999元", today());
    assert_eq!(
        (u.slots.amount, u.slots.problems),
        (None, vec![SlotProblem::Amount])
    );
}

#[test]
fn nlu_intent_labels_round_trip() {
    for i in Intent::ALL {
        assert_eq!(Intent::parse(i.as_str()), Some(i));
        assert_eq!(serde_json::to_value(i).unwrap(), Value::from(i.as_str()));
    }
    assert_eq!(Intent::parse("nope"), None);
}

fn load_err(text: &str) -> Vec<String> {
    let model_toml = builtin_files()
        .into_iter()
        .find(|f| f.path.ends_with("nlu/model.toml"))
        .expect("model.toml is built in");
    let files = [
        SourceFile {
            path: "dialogs/nlu/bad.toml".into(),
            text: text.into(),
        },
        model_toml,
    ];
    match Nlu::from_files(&files) {
        Ok(_) => vec![],
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn nlu_bad_pattern_files_name_file_and_line() {
    let text = "[[intent]]\nname = \"repay\"\npatterns = [\n  'ok',\n  '(unclosed',\n]\n\n[[intent]]\nname = \"pay_now\"\npatterns = ['x']\n";
    let errors = load_err(text);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("dialogs/nlu/bad.toml:5: bad regex"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("dialogs/nlu/bad.toml:9: unknown intent"),
        "{errors:?}"
    );
    let errors = load_err("[[intent]]\nname = \"repay\"\npatterns = ['x']\nprority = 3\n");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("dialogs/nlu/bad.toml:4: "),
        "{errors:?}"
    );
    assert!(errors[0].contains("prority"), "{errors:?}");
    let errors = load_err("[[intent]]\nname = \"repay\"\nweight = 0\npatterns = ['x']\n");
    assert!(
        errors[0].starts_with("dialogs/nlu/bad.toml:3: weight"),
        "{errors:?}"
    );
    // Files outside nlu/ are ignored.
    let other = SourceFile {
        path: "dialogs/flows/x.toml".into(),
        text: "garbage [".into(),
    };
    let mut files = builtin_files();
    files.push(other);
    assert!(Nlu::from_files(&files).is_ok());
}

#[test]
fn nlu_hostile_inputs_do_not_panic() {
    let long = "还".repeat(10_000);
    let mixed = "我要还500元 ".repeat(1000);
    let inputs = [
        "",
        " ",
        "\u{0}\u{1}\u{7f}\t\r",
        "😀😬👋🏽👨‍👩‍👧",
        long.as_str(),
        mixed.as_str(),
        "９９９９９９９９９９９９９９９９９９９９９９９９９９９９９９",
        "一二三四五六七八九十百千万亿亿亿亿亿亿",
        "99999999999999999999999999999999999999.99999999元",
        "--500 ¥ 元 号 月 期 天",
        "9999年99月99号",
        "\u{202e}abc\u{200b}",
    ];
    for text in inputs {
        let u = nlu().understand(text, today());
        let _ = u.to_json(text);
        let _ = parse_amount(text);
        let _ = parse_date(text, today());
    }
    let today_max = NaiveDate::MAX;
    let _ = nlu().understand("明天 下周五 15号 12月31号", today_max);
    assert_eq!(nlu().understand("", today()).intent, Intent::Unknown);
    assert_eq!(nlu().understand("ok的", today()).lang, Lang::Zh);
}

#[test]
fn nlu_run_lines_gives_one_json_line_per_input_line() {
    let out = run_nlu_lines(nlu(), "帮我还掉1000\n\nhi\r\n", today());
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["intent"], "repay");
    assert_eq!(first["slots"]["amount"], "1000.00");
    let empty: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(empty["intent"], "unknown");
    assert_eq!(empty["text"], "");
}
