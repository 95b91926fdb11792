"""Properties of graph changes: an update equals a rebuild on the same edges, a file never
renumbers a person it does not touch, and an identifier that stops linking never joins
two persons (update.py, stable.py)."""

from __future__ import annotations

import copy

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from resolver.graph import stable
from resolver.graph.levels import BLOCKED, LINKED
from resolver.graph.rules import GraphRules
from resolver.graph.state import GraphState
from resolver.graph.update import rebuild
from tests.resolver.graph.support import add, build, partition, persons, pid_of

RULES = GraphRules(max_links=3)  # small, so the shared rule fires in small graphs


def _row(kinds: dict[str, int]) -> tuple[str, ...]:
    return tuple(f"{kind}{n}" for kind, n in kinds.items())


ROWS = st.dictionaries(st.sampled_from("epm"), st.integers(0, 7), min_size=1, max_size=3).map(_row)
FILES = st.lists(st.lists(ROWS, min_size=1, max_size=12), min_size=1, max_size=4)
JUNK = st.sets(st.sampled_from(["e0", "p0", "m0"]), max_size=2)


def _history(
    files: list[list[tuple[str, ...]]], junk: set[str]
) -> tuple[GraphState, dict[str, int]]:
    state, names = GraphState(), {}  # type: ignore[var-annotated]
    for rows in files:
        add(state, names, rows, junk, RULES)
    return state, names


@given(FILES, JUNK)
def test_an_update_equals_a_rebuild_on_the_same_edges(
    files: list[list[tuple[str, ...]]], junk: set[str]
) -> None:
    state, _ = _history(files, junk)
    full = copy.deepcopy(state)
    rebuild(full, full.base == BLOCKED, RULES)
    assert partition(state) == partition(full)
    assert state.code.tolist() == full.code.tolist()
    assert state.raw.tolist() == full.raw.tolist()
    # and a rebuild of an unchanged graph renumbers nobody
    assert state.pid.tolist() == full.pid.tolist()


@given(FILES, st.lists(ROWS, min_size=1, max_size=8))
def test_a_file_never_renumbers_a_person_it_does_not_touch(
    files: list[list[tuple[str, ...]]], extra: list[tuple[str, ...]]
) -> None:
    state, names = _history(files, set())
    before = {frozenset(p): pid_of(state, names, next(iter(p))) for p in persons(state, names)}
    add(state, names, extra, (), RULES)
    after = persons(state, names)
    for members, pid in before.items():
        if members in after:  # the same identifiers, no more, no fewer
            assert pid_of(state, names, next(iter(members))) == pid


@given(FILES, JUNK)
def test_an_identifier_that_stops_linking_joins_no_one(
    files: list[list[tuple[str, ...]]], junk: set[str]
) -> None:
    state, names = _history(files, junk)
    stopped = {n for n, node in names.items() if state.code[node] != LINKED}
    for name in stopped:
        pid = pid_of(state, names, name)
        assert pid == -1 or int((state.pid == pid).sum()) == 1
    # Blocklisted junk is as if it had never been sent: the same persons without it.
    cleaned = [[tuple(n for n in r if n not in junk) for r in rows] for rows in files]
    clean, clean_names = _history([[r for r in rows if r] for rows in cleaned], set())
    assert persons(state, names) == persons(clean, clean_names)


def test_merges_keep_the_oldest_pid_and_report_the_retired_one() -> None:
    state, names = build([("e1", "p1"), ("e2", "m2")])
    older, newer = pid_of(state, names, "e1"), pid_of(state, names, "e2")
    assert older < newer
    change = add(state, names, [("e2", "p1")], (), GraphRules(witnesses=0))
    assert pid_of(state, names, "e2") == older
    merged = change.events.filter(change.events["event"] == "merged")
    assert merged.rows() == [("merged", newer, older)]


def test_a_split_keeps_the_pid_on_the_bigger_part() -> None:
    rows = [("e1", "p1", "m1"), ("e1", "m2"), ("e2", "p2")]
    state, names = build(rows)
    pid = pid_of(state, names, "e1")
    # a second person's email beside p1 makes p1 a bridge: it leaves e1's person
    change = add(state, names, [("e3", "p1"), ("e3", "p3")])
    assert pid_of(state, names, "e1") == pid
    assert pid_of(state, names, "p1") != pid
    assert change.counts()["split"] == 1


def test_pids_are_never_reused() -> None:
    state, names = build([("e1", "p1"), ("e2", "p2")])
    add(state, names, [("e1", "p2")], (), GraphRules(witnesses=0))
    seen = set(np.unique(state.pid).tolist())
    add(state, names, [("e9",)])
    assert pid_of(state, names, "e9") not in seen


def _reference(old: np.ndarray, label: np.ndarray, next_pid: int, prefer: str) -> tuple:
    """stable.assign as first written: every node through the matching, in Polars."""
    nodes = pl.DataFrame({"old": old, "label": label})
    known = (pl.col("old") >= 0) & (pl.col("label") >= 0)
    overlap = nodes.filter(known).group_by("label", "old").len("n")
    kept = stable._match(overlap, prefer)
    labels = nodes.filter(pl.col("label") >= 0).select("label").unique().sort("label")
    fresh = labels.join(kept, on="label", how="anti").with_row_index("rank")
    fresh = fresh.select("label", (pl.col("rank").cast(pl.Int64) + next_pid).alias("pid"))
    table = pl.concat([kept.select("label", pl.col("old").alias("pid")), fresh])
    joined = nodes.join(table, on="label", how="left", maintain_order="left")
    pid = joined.get_column("pid").fill_null(-1).to_list()
    events = stable._events(nodes, overlap, table, fresh)
    return pid, next_pid + fresh.height, events.rows()


@given(
    st.lists(st.tuples(st.integers(-1, 6), st.integers(-1, 9)), min_size=1, max_size=40),
    st.sampled_from(["oldest", "overlap"]),
)
def test_the_fast_paths_of_pid_assignment_give_the_matching_answer(
    pairs: list[tuple[int, int]], prefer: str
) -> None:
    old = np.array([p for p, _ in pairs], dtype=np.int64)
    label = np.array([lab for _, lab in pairs], dtype=np.int32)
    fast = stable.assign(old, label, 10, prefer)  # type: ignore[arg-type]
    assert (fast.pid.tolist(), fast.next_pid, fast.events.rows()) == _reference(
        old, label, 10, prefer
    )
