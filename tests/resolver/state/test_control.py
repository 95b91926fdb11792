"""The resolver's control database: the file state machine (each move one transaction, a
commit all-or-nothing with its segment versions) and segments with their versions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolver.errors import SegmentError, StoreError
from resolver.state.control import (
    CLAIMED,
    COMMITTED,
    DUPLICATE,
    PROCESSED,
    PURGED,
    QUARANTINED,
    Control,
    FileRecord,
    NewVersion,
    SegmentRecord,
)


@pytest.fixture
def control(tmp_path: Path) -> Iterator[Control]:
    with Control(tmp_path / "state" / "resolver.db") as opened:
        yield opened


def claim(control: Control, name: str, partner: str = "acme", kind: str = "data") -> int:
    return control.claim(partner, name, kind, name.encode().hex(), 100, None)


def version(
    segment_id: int | None, number: int, members: int, name: str = "Sports", partner: str = "acme"
) -> NewVersion:
    """A version of segment `name` (its norm is the lower-cased name)."""
    path = f"segments/{name.lower()}/v{number}.parquet"
    return NewVersion(segment_id, partner, name, name.lower(), number, members, members, 0, path)


def seeded(control: Control, name: str = "Sports", members: int = 10) -> SegmentRecord:
    """A segment with one committed version, made the way ingestion makes it."""
    file_id = claim(control, f"{name}.csv")
    control.set_state(file_id, PROCESSED)
    control.commit(file_id, [version(None, 1, members, name)])
    found = control.segment(name.lower())
    assert found is not None
    return found


# -- partners ---------------------------------------------------------------------------


def test_add_partner_once(control: Control) -> None:
    assert control.add_partner("acme", "US") is True
    assert control.add_partner("acme", "GB") is False  # the first registration stands
    partner = control.partner("acme")
    assert partner is not None
    assert (partner.name, partner.region) == ("acme", "US")
    assert control.partner("nobody") is None
    assert [p.name for p in control.partners()] == ["acme"]


# -- files ------------------------------------------------------------------------------


def test_claim_records_a_claimed_file(control: Control) -> None:
    first, second = claim(control, "a.csv"), claim(control, "b.csv", kind="optout")
    assert second > first
    rec = control.file(first)
    assert (rec.partner, rec.name, rec.kind, rec.state, rec.size) == (
        "acme",
        "a.csv",
        "data",
        CLAIMED,
        100,
    )
    assert bytes.fromhex(rec.work_name) == b"a.csv"
    assert rec.content_mac is None
    assert rec.rows is None
    assert control.file(second).kind == "optout"


def test_an_unknown_file_is_a_store_error(control: Control) -> None:
    with pytest.raises(StoreError, match="file 42"):
        control.file(42)


def test_set_state_moves_a_file_and_records_values(control: Control) -> None:
    file_id = claim(control, "a.csv")
    before = control.file(file_id).updated
    control.set_state(file_id, PROCESSED, content_mac="m1", rows=7, seconds=0.5)
    rec = control.file(file_id)
    assert (rec.state, rec.content_mac, rec.rows, rec.seconds) == (PROCESSED, "m1", 7, 0.5)
    assert rec.updated >= before
    assert [r.id for r in control.files(PROCESSED)] == [file_id]
    assert control.files(CLAIMED) == []


_PARTNER_FILES = [
    ("acme", "z.csv"),
    ("zenith", "a.csv"),
    ("acme", "b.csv"),
    ("acme", "y.csv"),
    ("acme", "p.csv"),
    ("acme", "q.csv"),
    ("acme", "d.csv"),
]


def test_unfinished_is_every_claimed_processed_or_committed_file(control: Control) -> None:
    """What a restart must resume, in a stable order (partner, name, id)."""
    ids = {name: claim(control, name, partner) for partner, name in _PARTNER_FILES}
    for name, state in {
        "z.csv": PROCESSED,
        "y.csv": COMMITTED,
        "p.csv": PURGED,
        "q.csv": QUARANTINED,
        "d.csv": DUPLICATE,
    }.items():
        control.set_state(ids[name], state)
    unfinished = control.unfinished()
    assert [(r.partner, r.name) for r in unfinished] == [
        ("acme", "b.csv"),
        ("acme", "y.csv"),
        ("acme", "z.csv"),
        ("zenith", "a.csv"),
    ]
    assert {r.state for r in unfinished} == {CLAIMED, PROCESSED, COMMITTED}


def test_a_retry_repeats_the_latest_ingested_file_of_its_kind(control: Control) -> None:
    """A file is a retry when the partner's latest ingested file of the same kind (not a
    quarantined one, not a duplicate) has the same content; after another file came in
    between, the same content is a re-send to ingest again (issue 9, item 3)."""

    def with_mac(file_id: int, mac: str) -> FileRecord:
        control.set_state(file_id, CLAIMED, content_mac=mac)
        return control.file(file_id)

    bad = claim(control, "bad.csv")
    control.set_state(bad, QUARANTINED, content_mac="m")
    first = claim(control, "first.csv")
    control.set_state(first, PURGED, content_mac="m")
    copy = claim(control, "copy.csv")
    control.set_state(copy, DUPLICATE, content_mac="m", duplicate_of=first)
    retry = with_mac(claim(control, "retry.csv"), "m")
    found = control.retried(retry)
    assert found is not None
    assert found.id == first
    assert control.retried(control.file(first)) is None  # only a quarantined file before
    control.set_state(retry.id, DUPLICATE, duplicate_of=first)
    other = claim(control, "v2.csv")
    control.set_state(other, PURGED, content_mac="other")
    resend = with_mac(claim(control, "v1-again.csv"), "m")
    assert control.retried(resend) is None
    stop = claim(control, "stop.csv", kind="optout")
    assert control.retried(with_mac(stop, "m")) is None  # opt-outs are their own kind
    zenith = claim(control, "z.csv", partner="zenith")
    assert control.retried(with_mac(zenith, "m")) is None


def test_commit_records_versions_and_the_state_together(control: Control) -> None:
    file_id = claim(control, "a.csv")
    control.set_state(file_id, PROCESSED, content_mac="m", rows=10)
    control.commit(file_id, [version(None, 1, 10, "Sports"), version(None, 1, 4, "News")])
    assert control.file(file_id).state == COMMITTED
    sports, news = control.segment("sports"), control.segment("news")
    assert sports is not None
    assert news is not None
    assert (sports.version, sports.members, news.version, news.members) == (1, 10, 1, 4)
    recorded = control.version(sports.id, 1)
    assert recorded is not None
    assert (recorded.file_id, recorded.members, recorded.path) == (
        file_id,
        10,
        "segments/sports/v1.parquet",
    )
    assert control.committed_files("acme") == [file_id]


def test_a_failing_commit_changes_nothing(control: Control) -> None:
    """A version that already exists makes the insert fail: the file stays processed, and
    neither the new segment nor any version of this commit is recorded."""
    sports = seeded(control)
    seeding_files = control.committed_files("acme")
    file_id = claim(control, "b.csv")
    control.set_state(file_id, PROCESSED)
    with pytest.raises(sqlite3.IntegrityError):
        control.commit(file_id, [version(None, 1, 3, "News"), version(sports.id, 1, 99)])
    assert control.file(file_id).state == PROCESSED
    assert control.segment("news") is None
    assert [v.file_id for v in control.versions(sports.id)] == seeding_files
    assert control.segment_by_id(sports.id).members == 10
    row = control.database.row(
        "SELECT count(*) AS n FROM segment_versions WHERE file_id = ?", (file_id,)
    )
    assert row is not None
    assert row["n"] == 0
    assert control.committed_files("acme") == seeding_files


def test_a_commit_naming_a_taken_segment_changes_nothing(control: Control) -> None:
    seeded(control, "Sports")
    file_id = claim(control, "b.csv")
    control.set_state(file_id, PROCESSED)
    with pytest.raises(SegmentError, match="already taken"):
        control.commit(file_id, [version(None, 1, 3, "News"), version(None, 1, 5, "Sports")])
    assert control.file(file_id).state == PROCESSED
    assert control.segment("news") is None


def test_counts_by_state_overall_and_per_partner(control: Control) -> None:
    a, z = claim(control, "a.csv"), claim(control, "z.csv", "zenith")
    claim(control, "b.csv")
    control.set_state(a, COMMITTED)
    control.set_state(z, QUARANTINED)
    assert control.counts_by_state() == {COMMITTED: 1, CLAIMED: 1, QUARANTINED: 1}
    assert control.counts_by_state("acme") == {COMMITTED: 1, CLAIMED: 1}
    assert control.counts_by_state("zenith") == {QUARANTINED: 1}
    assert control.counts_by_state("nobody") == {}


def test_recent_throughput_counts_the_last_finished_files_that_took_time(
    control: Control,
) -> None:
    assert control.recent_throughput() == (0, 0, 0.0)
    done = [(COMMITTED, 100, 1.0), (PURGED, 200, 2.0), (COMMITTED, 300, 3.0)]
    for n, (state, rows, seconds) in enumerate(done):
        control.set_state(claim(control, f"{n}.csv"), state, rows=rows, seconds=seconds)
    # not counted: unfinished, failed, or took no time
    control.set_state(claim(control, "p.csv"), PROCESSED, rows=9_000, seconds=9.0)
    control.set_state(claim(control, "q.csv"), QUARANTINED, rows=9_000, seconds=9.0)
    control.set_state(claim(control, "d.csv"), COMMITTED, rows=9_000, seconds=0.0)
    assert control.recent_throughput() == (3, 600, 6.0)
    assert control.recent_throughput(files=2) == (2, 500, 5.0)


# -- segments ---------------------------------------------------------------------------


def test_versions_follow_each_other(control: Control) -> None:
    sports = seeded(control, members=10)
    file_id = claim(control, "b.csv")
    control.commit(file_id, [version(sports.id, 2, 12)])
    assert [(v.version, v.members) for v in control.versions(sports.id)] == [(1, 10), (2, 12)]
    assert control.segment_by_id(sports.id).version == 2
    assert control.version(sports.id, 3) is None


def test_create_copy_starts_at_the_sources_current_members(control: Control) -> None:
    source = seeded(control, members=10)
    copy_id = control.create_copy(source, "Sports Fans", "sports fans")
    copy = control.segment_by_id(copy_id)
    assert (copy.name, copy.partner, copy.source_id) == ("Sports Fans", "acme", source.id)
    assert (copy.version, copy.members) == (1, 10)
    first = control.version(copy_id, 1)
    source_first = control.version(source.id, 1)
    assert first is not None
    assert source_first is not None
    assert (first.members, first.added, first.removed, first.file_id) == (10, 10, 0, None)
    assert first.path == source_first.path  # the same immutable snapshot
    assert [c.id for c in control.copies(source.id)] == [copy_id]


def test_create_copy_of_a_segment_without_versions(control: Control) -> None:
    with control.database.transaction() as db:
        db.execute(
            "INSERT INTO segments (partner, name, norm, created, updated)"
            " VALUES ('acme', 'Empty', 'empty', 0, 0)"
        )
    source = control.segment("empty")
    assert source is not None
    copy_id = control.create_copy(source, "Empty Copy", "empty copy")
    assert control.versions(copy_id) == []
    assert control.segment_by_id(copy_id).version == 0


def test_create_copy_refuses_a_taken_name(control: Control) -> None:
    source = seeded(control, "Sports")
    seeded(control, "News")
    with pytest.raises(SegmentError, match="already taken"):
        control.create_copy(source, "NEWS", "news")
    assert control.copies(source.id) == []
    assert len(control.segments()) == 2


def test_rename_segment(control: Control) -> None:
    sports = seeded(control, "Sports")
    control.rename_segment(sports.id, "Team Sports", "team sports")
    assert control.segment("sports") is None
    renamed = control.segment("team sports")
    assert renamed is not None
    assert (renamed.id, renamed.name, renamed.version) == (sports.id, "Team Sports", 1)


def test_rename_segment_refuses_a_taken_name(control: Control) -> None:
    sports, news = seeded(control, "Sports"), seeded(control, "News")
    with pytest.raises(SegmentError, match="already taken"):
        control.rename_segment(sports.id, "NEWS", "news")
    assert control.segment_by_id(sports.id).name == "Sports"
    assert control.segment_by_id(news.id).name == "News"


def test_segments_listed_by_norm_and_partner(control: Control) -> None:
    seeded(control, "Sports")
    seeded(control, "Autos")
    file_id = claim(control, "z.csv", "zenith")
    control.commit(file_id, [version(None, 1, 1, "Gamers", "zenith")])
    assert [s.name for s in control.segments()] == ["Autos", "Gamers", "Sports"]
    assert [s.name for s in control.segments("acme")] == ["Autos", "Sports"]
    with pytest.raises(StoreError, match="segment 999"):
        control.segment_by_id(999)


def test_state_survives_a_reopen(tmp_path: Path) -> None:
    """Every move is committed when the method returns: a new connection sees it."""
    path = tmp_path / "state" / "resolver.db"
    with Control(path) as first:
        sports = seeded(first)
    with Control(path) as second:
        assert second.segment_by_id(sports.id).members == 10
        assert second.counts_by_state() == {COMMITTED: 1}
