"""The generator: seeded, about the size asked for, and its returns pass the implemented 903 rules."""

from __future__ import annotations

import pyarrow.compute as pc

from cspa.records.read import read_return
from cspa.records.rules import validate
from cspa.records.synthetic import Scale, generate, write_903_csv


def test_same_seed_same_tables_and_size_as_asked():
    a = generate(Scale(episodes=20_000, seed=7, years=(2023, 2024)))
    b = generate(Scale(episodes=20_000, seed=7, years=(2023, 2024)))
    assert all(a[k].equals(b[k]) for k in a)
    assert abs(a["episodes"].num_rows - 20_000) < 2_000
    # authorities in proportion to their children: at this size all but the smallest (Isles of Scilly)
    assert len(pc.unique(a["episodes"].column("LA"))) >= 150
    c = generate(Scale(episodes=20_000, seed=8, years=(2023, 2024)))
    assert not c["episodes"].equals(a["episodes"])


def test_generated_return_passes_the_903_rules(tmp_path):
    t = generate(Scale(episodes=60_000, seed=3, years=(2023, 2024), las=("886", "821")))
    files = write_903_csv(t, tmp_path, la="886", year=2024)
    ret = read_return(files, la="886", year=2024)
    assert ret.rows()["episodes"] > 10_000
    v = validate(ret)
    assert v.findings == [], [str(f) for f in v.findings[:5]]
