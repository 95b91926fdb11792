"""Property tests of the pure planner: applying a plan to what the destination holds
yields exactly the segment's identifiers; deletes precede adds; batches fit the limit."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.plan_bench import frames
from distributor.destinations.base import ID_COLUMNS
from distributor.plan import Plan, current_from_members, plan, plan_long, to_long
from tests.strategies import IDS, person


def frame(people: list[tuple[int, str | None, str | None, str | None, str | None]]) -> pl.DataFrame:
    seen: dict[int, tuple[str | None, ...]] = {}
    for key, *values in people:
        seen.setdefault(key, tuple(values))
    return pl.DataFrame(
        {
            "person_key": [k.to_bytes(16, "big") for k in seen],
            **{c: [v[i] for v in seen.values()] for i, c in enumerate(ID_COLUMNS)},
        },
        schema={"person_key": pl.Binary, **dict.fromkeys(ID_COLUMNS, pl.Utf8)},
    )


def memberships(df: pl.DataFrame) -> set[tuple[str, str]]:
    return {(c, v) for c in ID_COLUMNS for v in df[c].to_list() if v is not None}


def apply(held: set[tuple[str, str]], result: Plan) -> set[tuple[str, str]]:
    state = set(held)
    for batch in result.batches:
        for column, values in zip(batch.id_schema, result.columns(batch), strict=True):
            for value in values:
                if value is None:
                    continue
                if batch.action == "delete":
                    state.discard((column, value))
                else:
                    state.add((column, value))
    return state


@given(st.lists(person, max_size=14), st.lists(person, max_size=14), st.integers(1, 5))
def test_applying_the_plan_yields_current(
    held_people: list[tuple[int, str | None, str | None, str | None, str | None]],
    current_people: list[tuple[int, str | None, str | None, str | None, str | None]],
    batch_size: int,
) -> None:
    held, current = frame(held_people), frame(current_people)
    result = plan(held, current, batch_size)
    assert apply(memberships(held), result) == memberships(current)
    actions = [b.action for b in result.batches]
    assert actions == sorted(actions, key=["delete", "add"].index)
    assert all(1 <= b.size <= batch_size for b in result.batches)
    # batches tile the rows, and each schema names exactly the columns its rows use
    starts = [0, *[b.end for b in result.batches]][: len(result.batches)]
    assert [b.start for b in result.batches] == starts
    for batch in result.batches:
        assert batch.id_schema
        for values in result.columns(batch):
            assert any(v is not None for v in values)
    # no row is all-empty under its schema
    for batch in result.batches:
        rows = list(zip(*result.columns(batch), strict=True))
        assert all(any(v is not None for v in row) for row in rows)


@given(st.lists(person, max_size=14))
def test_empty_diff_is_an_empty_plan(
    people: list[tuple[int, str | None, str | None, str | None, str | None]],
) -> None:
    same = frame(people)
    assert plan(same, same, 3).batches == ()


@given(st.lists(person, max_size=10), st.lists(person, max_size=10), st.lists(person, max_size=6))
def test_uncertain_ids_are_resent_or_deleted(
    held_people: list[tuple[int, str | None, str | None, str | None, str | None]],
    current_people: list[tuple[int, str | None, str | None, str | None, str | None]],
    unknown_people: list[tuple[int, str | None, str | None, str | None, str | None]],
) -> None:
    """Ids whose last call has an unknown outcome: whether or not the destination applied
    it, the plan brings the destination to exactly current."""
    held, current = frame(held_people), frame(current_people)
    unknown = to_long(frame(unknown_people)).with_columns(pl.lit(True).alias("uncertain"))
    known = to_long(held).with_columns(pl.lit(False).alias("uncertain"))
    result = plan_long(pl.concat([known, unknown]), to_long(current), 4)
    unknown_set = {(r["id_type"], r["id"]) for r in unknown.iter_rows(named=True)}
    for applied in (True, False):
        truth = memberships(held) | unknown_set if applied else memberships(held) - unknown_set
        assert apply(truth, result) == memberships(current)


def test_members_map_maids_by_type() -> None:
    members = pl.DataFrame(
        {
            "person_key": [b"a" * 16, b"b" * 16, b"c" * 16],
            "email_sha256": [IDS[0], None, None],
            "phone_sha256": [None, None, None],
            "maid_sha256": [IDS[1], IDS[2], IDS[3]],
            "maid_type": ["idfa", "gaid", None],
        }
    )
    current = current_from_members(members)
    # A MAID of no known type (an untyped `maid` column) goes as both: it used to be
    # dropped, counted valid but never sent (issue 9, item 1).
    assert current["idfa_sha256"].to_list() == [IDS[1], None, IDS[3]]
    assert current["aaid_sha256"].to_list() == [None, IDS[2], IDS[3]]
    assert current.columns == ["person_key", *ID_COLUMNS]


def test_a_large_diff_counts_every_leaver_and_joiner() -> None:
    """Vectorized paths at a size where batches and the key sort matter (the 2M-member
    timing is benchmarks/plan_bench.py)."""
    n, moved = 60_000, 3_000
    held, current = frames(n, moved)
    result = plan(held, current)
    assert result.count("delete") == moved
    assert result.count("add") == moved
    assert result.ids("delete") == result.ids("add") == 2 * moved
    assert [b.size for b in result.batches] == [3_000, 3_000]
