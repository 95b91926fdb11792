"""The guardrails, one by one, on graphs small enough to read (rules.py, levels.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from resolver.graph.levels import BLOCKED, BRIDGE, LINKED, SHARED, over_limits
from resolver.graph.link import degree_shared
from resolver.graph.rules import GraphRules
from tests.resolver.graph.support import build, persons


def s(*names: str) -> frozenset[str]:
    return frozenset(names)


def test_identifiers_seen_together_are_one_person() -> None:
    # A CRM row, an app row and a loyalty row of one customer.
    state, names = build([("e1", "p1"), ("e1", "m1"), ("p1", "m1"), ("p1",)])
    assert persons(state, names) == {s("e1", "p1", "m1")}


def test_a_landline_beside_two_peoples_emails_joins_neither() -> None:
    # Alice and Bob each have an email and a mobile; the home phone is typed for both.
    rows = [("ea", "pa"), ("eb", "pb"), ("ea", "home"), ("eb", "home")]
    state, names = build([tuple("p" + n if n == "home" else n for n in r) for r in rows])
    assert persons(state, names) == {s("ea", "pa"), s("eb", "pb"), s("phome")}
    assert state.code[names["phome"]] == BRIDGE


def test_two_emails_that_two_identifiers_vouch_for_are_one_person() -> None:
    # One person's work and home email, both seen with her phone and her phone's device.
    rows = [("e1", "p1", "m1"), ("e2", "p1", "m1")]
    state, names = build(rows)
    assert persons(state, names) == {s("e1", "e2", "p1", "m1")}
    # With one witness only (the phone), the phone is a bridge: precision first.
    state, names = build([("e1", "p1"), ("e2", "p1")])
    assert persons(state, names) == {s("e1"), s("e2"), s("p1")}
    # Unless the rules ask for no witness at all.
    state, names = build([("e1", "p1"), ("e2", "p1")], rules=GraphRules(witnesses=0))
    assert persons(state, names) == {s("e1", "e2", "p1")}


def test_a_shop_phone_typed_for_every_customer_is_shared() -> None:
    rows = [(f"e{n}", "pshop") for n in range(12)] + [("e0", "m0")]
    state, names = build(rows)
    assert state.code[names["pshop"]] == SHARED
    assert s("pshop") in persons(state, names)
    assert s("e0", "m0") in persons(state, names)


def test_blocklisted_junk_links_nothing_and_is_no_one() -> None:
    state, names = build([("etest", "p1"), ("etest", "p2")], junk=["etest"])
    assert state.code[names["etest"]] == BLOCKED
    assert persons(state, names) == {s("p1"), s("p2")}


def test_a_family_tablet_beside_two_persons_phones_joins_neither() -> None:
    rows = [("pmum", "mtab"), ("pdad", "mtab"), ("emum", "pmum"), ("edad", "pdad")]
    state, names = build(rows)
    assert persons(state, names) == {s("emum", "pmum"), s("edad", "pdad"), s("mtab")}


def test_a_device_keeps_to_its_email_when_its_phone_is_someone_elses() -> None:
    # m1 is seen with Bob's email and with Alice's phone: it stays Bob's; the phone link
    # is refused rather than joining Alice and Bob.
    rows = [("ea", "pa"), ("eb", "m1"), ("pa", "m1")]
    state, names = build(rows)
    assert persons(state, names) == {s("ea", "pa"), s("eb", "m1")}
    assert state.code[names["m1"]] == LINKED


def test_a_device_joins_an_email_only_and_a_phone_only_person() -> None:
    # Nothing conflicts: one holds emails, the other phones.
    state, names = build([("e1", "m1"), ("p1", "m1")])
    assert persons(state, names) == {s("e1", "p1", "m1")}


def test_a_person_over_a_limit_is_split_at_its_device_links() -> None:
    rules = GraphRules(max_maids=2)
    rows = [("e1", "p1")] + [("e1", f"m{n}") for n in range(3)]
    state, names = build(rows, rules=rules)
    assert persons(state, names) == {s("e1", "p1"), s("m0"), s("m1"), s("m2")}
    rules = GraphRules(max_identifiers=3)
    state, names = build([("e1", "p1", "m1"), ("e1", "m2")], rules=rules)
    assert s("e1", "p1") in persons(state, names)


GRAPHS = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
        st.lists(st.sampled_from([LINKED, LINKED, BLOCKED]), min_size=n, max_size=n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60),
        st.lists(st.integers(0, n - 1), min_size=n, max_size=n),
    )
)


@given(GRAPHS, st.integers(0, 4))
def test_shared_and_limits_agree_with_counting_every_node(graph: tuple, cap: int) -> None:
    kinds, codes, pairs, labels = graph
    kind, code = np.array(kinds, dtype=np.uint8), np.array(codes, dtype=np.uint8)
    pairs = sorted({(min(a, b), max(a, b)) for a, b in pairs if a != b})
    src = np.array([a for a, _ in pairs], dtype=np.int32)
    dst = np.array([b for _, b in pairs], dtype=np.int32)
    n = len(kind)
    seen = [[set() for _ in range(3)] for _ in range(n)]
    for a, b in pairs:
        for x, y in ((a, b), (b, a)):
            if code[y] != BLOCKED:
                seen[x][kind[y]].add(y)
    expected = [max(len(s) for s in seen[x]) > cap for x in range(n)]
    assert degree_shared(kind, code, src, dst, cap).tolist() == expected
    person = np.array(labels, dtype=np.int32)
    rules = GraphRules(max_emails=cap, max_phones=cap + 1, max_maids=cap, max_identifiers=cap + 3)
    limits = (rules.max_emails, rules.max_phones, rules.max_maids)
    over = []
    for label in range(n):
        held = [int(((person == label) & (kind == k)).sum()) for k in range(3)]
        over.append(any(h > m for h, m in zip(held, limits, strict=True)) or sum(held) > cap + 3)
    assert over_limits(kind, person, rules).tolist() == over
