"""The identity graph's quality on a generated population with known truth, through a
real home and `serve` (benchmarks/graph_quality.py at a small size), and the scorer
itself on cases worked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from benchmarks.graph_quality import run_quality
from benchmarks.graph_score import score, stability
from resolver.graph.state import GraphState


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_quality(3000, seed=11, root=Path(tmp_path_factory.mktemp("quality")))


@pytest.mark.parametrize("partner", ["retail", "travel"])
def test_precision_and_recall_on_known_truth(figures: dict, partner: str) -> None:
    graph = figures[partner]["graph"]
    assert graph["precision"] >= 0.99
    assert graph["recall"] >= 0.95
    assert graph["rows"] > 5000
    assert graph["rejected"] < 0.1 * graph["rows"]


def test_the_graph_beats_the_first_identifier(figures: dict) -> None:
    graph, first = figures["retail"]["graph"], figures["retail"]["first_identifier"]
    assert graph["f1"] > first["f1"] + 0.15
    assert graph["under_merged"] < first["under_merged"] / 3


def test_persons_untouched_by_a_refresh_keep_their_id(figures: dict) -> None:
    st = figures["stability"]
    assert st["untouched"] > 0.4 * st["persons"]
    assert st["untouched_kept_id"] >= 0.999
    assert st["all_kept_id"] > 0.9


def test_no_person_id_is_shared_across_partners(figures: dict) -> None:
    assert figures["shared_ids_across_partners"] == 0


def test_scores_worked_by_hand() -> None:
    truth = pl.Series(["a", "a", "a", "b", "b", "c"])
    predicted = pl.Series(["x", "x", "y", "y", "y", None])
    s = score(truth, predicted)
    # true pairs among scored rows: a 3, b 1; predicted: x 1, y 3; both: (a,x) 1, (b,y) 1
    assert (s.precision, s.recall) == (pytest.approx(2 / 4), pytest.approx(2 / 4))
    assert s.rejected == 1
    assert s.largest == 3
    assert (s.over_merged, s.under_merged) == (1, 1)
    # B-cubed precision: rows of x get 2/2, the a in y 1/3, the b's in y 2/3 each
    assert s.bcubed_precision == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5)
    assert score(truth, truth).f1 == 1.0


def _state(raw: list[int], pid: list[int], edges: list[tuple[int, int]]) -> GraphState:
    src, dst = (np.array(e, dtype=np.int32) for e in zip(*edges, strict=True))
    return GraphState(
        raw=np.array(raw, dtype=np.int32),
        pid=np.array(pid),
        src=src,
        dst=dst,
        kind=np.zeros(len(raw), dtype=np.uint8),
    )


def test_stability_counts_only_components_the_refresh_left_alone() -> None:
    before = _state([0, 0, 2, 2, 4], [7, 7, 8, 9, 10], [(0, 1), (2, 3)])
    # 0-1 untouched and kept; 2-3 gained an edge to new node 5 (touched) and merged;
    # 4 untouched but lost its id (what the metric must catch)
    after = _state([0, 0, 2, 2, 4, 2], [7, 7, 8, 8, 11, 8], [(0, 1), (2, 3), (3, 5)])
    st = stability(before, after)
    assert (st.persons, st.untouched) == (4, 2)
    assert st.untouched_kept_id == 0.5
    assert st.all_kept_id == 2 / 4
