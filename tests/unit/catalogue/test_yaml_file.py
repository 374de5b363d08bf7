"""The C YAML reader gives the same data as PyYAML's pure-Python safe loader, and refuses the same."""

from __future__ import annotations

import pytest
import yaml

from cspa.catalogue.load import CATALOGUE
from cspa.catalogue.yaml_file import load_yaml, read_yaml


def test_the_catalogue_reads_the_same_as_with_the_python_loader():
    files = sorted(CATALOGUE.glob("frameworks/*.yaml")) + sorted(CATALOGUE.glob("*/*.yaml"))[::20]
    assert len(files) > 30
    for p in files:
        assert read_yaml(p) == yaml.safe_load(p.read_text(encoding="utf-8")), p


def test_bad_yaml_and_python_tags_are_refused():
    with pytest.raises(yaml.YAMLError) as e:
        load_yaml("a: [1, 2\nb: 3\n")
    assert "line" in str(e.value)
    with pytest.raises(yaml.YAMLError):
        load_yaml("!!python/object/apply:os.system ['echo hi']")
