"""Region kinds: ids parse to keys, and list regions are signalled by their whole id."""

import re

import pytest

from blueprints.fragments import registry as regions
from blueprints.fragments.registry import RegionKind


def test_a_list_region_that_captures_a_number_is_refused():
    kind = RegionKind("thing-list", re.compile(r"thing-list-(\d+)"), is_list=True)
    with pytest.raises(ValueError, match="must not capture"):
        regions.register(kind)
    assert kind not in regions.KINDS


def test_every_list_signal_names_a_region_id_the_page_has():
    for kind in regions.KINDS:
        if kind.is_list:
            sample = kind.pattern.pattern.replace(r"\d+", "42").replace("(?:", "").split("|")[0]
            sample = re.sub(r"[()]", "", sample)
            key = kind.key_of(sample)
            assert key == sample, kind.name
            assert f'data-refresh="{sample}"' in regions.refresh_signal(key)
