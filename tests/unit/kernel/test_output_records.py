"""output_records: the same records as OutputRecord(...) one by one, still frozen."""

from __future__ import annotations

import dataclasses

import pytest

from streams.kernel.records import OutputRecord, output_records


def test_output_records_are_the_records_made_one_by_one() -> None:
    values = [{"n": 1}, {"n": 2}, {}]
    made = output_records("t", ["a", "b", "c"], values)
    assert made == [OutputRecord("t", k, v) for k, v in zip("abc", values, strict=True)]
    assert [type(r) for r in made] == [OutputRecord] * 3
    assert all(r.value is v for r, v in zip(made, values, strict=True))  # not copied
    assert repr(made[0]) == "OutputRecord(topic='t', key='a', value={'n': 1})"
    with pytest.raises(dataclasses.FrozenInstanceError):
        made[0].key = "z"  # type: ignore[misc]
    assert hash(output_records("t", ["a"], [()])[0]) == hash(  # type: ignore[list-item]
        OutputRecord("t", "a", ()))  # type: ignore[arg-type]
    assert output_records("t", [], []) == []
    with pytest.raises(ValueError):
        output_records("t", ["a"], [])
