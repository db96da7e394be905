"""The ASOS experiments (real cumulative statistics per arm) read at every checkpoint: the
figures of docs/experiments.md, pinned."""

from __future__ import annotations

from pathlib import Path

import pytest

from touchpath.analytics.experiments.streams import Stream, load_asos, read_streams, srm_table


@pytest.fixture(scope="module")
def streams(data_dir: Path) -> list[Stream]:
    return load_asos(data_dir / "asos-digital-experiments" / "asos_digital_experiments.csv.gz")


def test_peeking_at_every_checkpoint_on_real_experiments(streams: list[Stream]) -> None:
    assert len(streams) == 396 and len({s.experiment for s in streams}) == 78
    reads = read_streams(streams)
    fixed = [r for r in reads if r.fixed_day is not None]
    seq = [r for r in reads if r.seq_day is not None]
    final = [r for r in reads if r.final_sign]
    assert (len(fixed), len(seq), len(final)) == (225, 105, 105)
    assert sum(1 for r in fixed if r.final_sign != r.fixed_sign) == 123
    assert sum(1 for r in seq if r.final_sign != r.seq_sign) == 33
    assert sum(1 for r in seq if r.final_sign == -r.seq_sign != 0) == 2
    assert sum(1 for r in fixed if r.fixed_sign > 0) == 109
    early = read_streams(streams, tuning=5000)
    assert sum(1 for r in early if r.seq_day is not None) == 71


def test_sample_ratio_mismatches_in_asos(streams: list[Stream]) -> None:
    table = srm_table(streams)
    assert len(table) == 99
    flagged = {(e, v) for e, v, _, _, p in table if p < 0.001}
    assert len(flagged) == 12
    assert {("54a85a", "0"), ("329386", "1"), ("a68bf4", "1"), ("530a76", "1")} <= flagged
