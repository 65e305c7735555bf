"""``GraphMirror.positions``: ids to mirror positions, runs of ids in mirror order
resolved by comparing the run with the mirror's ids rather than a look-up each."""

from __future__ import annotations

import random

import pytest

from graph_service.storage.mirror import _RUN, GraphMirror


def mirror_of(count: int) -> GraphMirror:
    m = GraphMirror()
    m.extend_nodes([f"Person:p{i}" for i in range(count)], ["Person"] * count)
    return m


def fresh(i: int) -> str:
    """An id equal to the mirror's but a different string object, as a loader's are."""
    return "".join(["Person:p", str(i)])


def test_positions_of_a_run_in_mirror_order_and_of_shuffled_ids_match_the_index() -> None:
    m = mirror_of(3 * _RUN)
    in_order = [fresh(i) for i in range(5, 5 + 2 * _RUN + 7)]
    assert m.positions(in_order) == list(range(5, 5 + 2 * _RUN + 7))
    shuffled = in_order[:]
    random.Random(3).shuffle(shuffled)
    assert m.positions(shuffled) == [int(i.removeprefix("Person:p")) for i in shuffled]


def test_positions_of_a_run_broken_midway_or_past_the_end_are_each_looked_up() -> None:
    m = mirror_of(2 * _RUN)
    # starts in order, then one id out of order inside the first run
    ids = [fresh(i) for i in range(_RUN)]
    ids[_RUN // 2] = fresh(2 * _RUN - 1)
    expected = list(range(_RUN))
    expected[_RUN // 2] = 2 * _RUN - 1
    assert m.positions(ids) == expected
    # a run that starts in order near the end of the mirror, then wraps to the start
    tail = [fresh(i) for i in [*range(2 * _RUN - 3, 2 * _RUN), 0, 1]]
    assert m.positions(tail) == [2 * _RUN - 3, 2 * _RUN - 2, 2 * _RUN - 1, 0, 1]
    # repeats of one id (a node with several relationships in a row)
    assert m.positions([fresh(4)] * 5) == [4] * 5
    assert m.positions([]) == []


def test_positions_raise_key_error_for_an_id_not_in_the_mirror_even_inside_a_run() -> None:
    m = mirror_of(_RUN)
    ids = [fresh(i) for i in range(10)]
    ids[6] = "Person:nobody"
    with pytest.raises(KeyError, match="Person:nobody"):
        m.positions(ids)
    with pytest.raises(KeyError, match="Person:nobody"):
        m.positions(["Person:nobody", *ids[:3]])


def test_claim_appends_ids_that_are_all_new_and_different() -> None:
    m = mirror_of(3)
    assert m.claim([fresh(3), fresh(4)], ["Person", "Person"])
    assert m.ids[3:] == ["Person:p3", "Person:p4"]
    assert m.positions([fresh(4), fresh(0)]) == [4, 0]
    assert len(m.kinds) == 5


@pytest.mark.parametrize("optimistic_first", [True, False])
def test_claim_of_a_stored_or_repeated_id_changes_nothing(optimistic_first: bool) -> None:
    m = mirror_of(4)
    if not optimistic_first:  # a refused claim turns the mirror to checking first
        assert not m.claim([fresh(1)], ["Person"])
    before = dict(m.index)
    # one id stored already (its position must survive), one new
    assert not m.claim([fresh(9), fresh(2)], ["Person", "Person"])
    # an id repeated within the batch
    assert not m.claim([fresh(7), fresh(7)], ["Person", "Person"])
    assert m.index == before
    assert m.ids == [f"Person:p{i}" for i in range(4)]
    assert len(m.kinds) == 4
    assert m.claim([fresh(7), fresh(8)], ["Person", "Person"])  # new ones still go in
    assert m.positions([fresh(2), fresh(8)]) == [2, 5]
