//! The plan a customer confirms (`app::pay_plan`): what the quote writes into the session is
//! what the payment reads back, to the fen; anything else is refused, never half read.

use proptest::prelude::*;
use repaybot::app::pay_plan::{BadPlan, PayPlan, PlanLine};
use repaybot::domain::{Money, PaymentKind};

fn line(order: &str, amount: &str, kind: PaymentKind, seen: usize) -> PlanLine {
    PlanLine {
        order_id: order.into(),
        amount: Money::parse_positive(amount).unwrap(),
        kind,
        seen,
    }
}

#[test]
fn the_session_text_of_a_plan_reads_back_as_the_same_plan() {
    let plan = PayPlan {
        lines: vec![
            line("MI2026050101", "249.91", PaymentKind::Installment, 6),
            line("HW2026030902", "1517.53", PaymentKind::Settlement, 0),
        ],
    };
    let text = plan.encode();
    assert_eq!(
        text,
        "MI2026050101\t249.91\tinstallment\t6\nHW2026030902\t1517.53\tsettlement\t0"
    );
    assert_eq!(PayPlan::parse(&text), Ok(plan.clone()));
    assert_eq!(
        plan.items(),
        [
            "MI2026050101\t249.91\tinstallment",
            "HW2026030902\t1517.53\tsettlement"
        ]
    );
    assert_eq!(PayPlan::parse(""), Ok(PayPlan::default()));
}

#[test]
fn a_damaged_plan_is_refused_whole() {
    for bad in [
        "MI1\t249.91\tinstallment",
        "MI1\t-5.00\tinstallment\t0",
        "MI1\t0\tinstallment\t0",
        "MI1\t249.91\trefund\t0",
        "MI1\t249.91\tinstallment\tmany",
        "MI1\t249.91\tinstallment\t0\textra",
        "MI1\t249.91\tinstallment\t0\nbroken",
    ] {
        assert_eq!(PayPlan::parse(bad), Err(BadPlan), "{bad:?}");
    }
}

proptest! {
    #[test]
    fn any_plan_survives_the_session_to_the_fen(
        lines in proptest::collection::vec(
            ("[A-Z]{2}[0-9]{4,10}", 1u64..100_000_000, any::<bool>(), 0usize..500),
            0..5,
        )
    ) {
        let plan = PayPlan {
            lines: lines
                .iter()
                .map(|(order, fen, settle, seen)| PlanLine {
                    order_id: order.clone(),
                    amount: Money(rust_decimal::Decimal::new(*fen as i64, 2)),
                    kind: if *settle { PaymentKind::Settlement } else { PaymentKind::Installment },
                    seen: *seen,
                })
                .collect(),
        };
        let back = PayPlan::parse(&plan.encode()).unwrap();
        prop_assert_eq!(back, plan);
    }
}
