#!/usr/bin/env python3
"""Independent second implementation of SPEC 4.2 schedules and the annual rate, in Python's
decimal module (not a port of the Rust code: written from the SPEC text). Reads JSON lines
{"principal","periods","method","monthly_rate","first_due_date"} on stdin and writes one JSON line
each: {"installments": [[due, principal, fee], ...], "annual_rate": "13.03"}."""
import calendar, datetime, json, sys
from decimal import Decimal, ROUND_HALF_UP, ROUND_DOWN, getcontext

getcontext().prec = 50
FEN = Decimal("0.01")

def rnd(x):
    return x.quantize(FEN, rounding=ROUND_HALF_UP)  # half away from zero for positives

def due(first, k):
    month0 = first.month - 1 + (k - 1)
    y, m = first.year + month0 // 12, month0 % 12 + 1
    return datetime.date(y, m, min(first.day, calendar.monthrange(y, m)[1]))

def schedule(p, n, method, m):
    if method == "equal_installment":
        if m == 0:
            a = rnd(p / n)
        else:
            g = (1 + m) ** n
            a = rnd(p * m * g / (g - 1))
        rows, bal = [], p
        for k in range(1, n + 1):
            i = rnd(bal * m)
            pr = bal if k == n else a - i
            rows.append((pr, i)); bal -= pr
        return rows
    each = (p / n).quantize(FEN, rounding=ROUND_DOWN)
    prs = [each] * (n - 1) + [p - each * (n - 1)]
    if method == "flat_fee":
        return [(x, rnd(p * m)) for x in prs]
    rows, bal = [], p
    for x in prs:
        rows.append((x, rnd(bal * m))); bal -= x
    return rows

def npv(rate, p, flows):
    return -p + sum(c / (1 + rate) ** (k + 1) for k, c in enumerate(flows))

def annual_rate(p, flows):
    if sum(flows) <= p:
        return Decimal(0)
    lo, hi = Decimal(0), Decimal(1)
    for _ in range(200):  # bisection: slow, simple, and unlike the Rust Newton iteration
        mid = (lo + hi) / 2
        if npv(mid, p, flows) > 0:
            lo = mid
        else:
            hi = mid
    return rnd(lo * 1200)

for line in sys.stdin:
    if not line.strip():
        continue
    t = json.loads(line)
    p, n, m = Decimal(t["principal"]), int(t["periods"]), Decimal(t["monthly_rate"])
    first = datetime.date.fromisoformat(t["first_due_date"])
    rows = schedule(p, n, t["method"], m)
    flows = [a + b for a, b in rows]
    print(json.dumps({
        "installments": [[due(first, k + 1).isoformat(), str(a), str(b)] for k, (a, b) in enumerate(rows)],
        "annual_rate": str(annual_rate(p, flows)),
    }))
