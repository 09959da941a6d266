import itertools
import re

import pytest

from headcount.agent.errors import ConfigError
from headcount.agent.sink import Backoff
from headcount.agent.state import SequenceCounter, persistent_agent_id


def test_sequence_counter_is_monotonic_and_persistent(tmp_path):
    counter = SequenceCounter(tmp_path / "state")
    assert [counter.next(), counter.next(), counter.next()] == [1, 2, 3]
    reopened = SequenceCounter(tmp_path / "state")
    assert reopened.last == 3 and reopened.next() == 4
    reopened.advance_to(2)            # never backwards
    assert reopened.last == 4
    reopened.advance_to(10)
    assert SequenceCounter(tmp_path / "state").next() == 11
    assert not [p for p in (tmp_path / "state").iterdir() if p.name.startswith(".")]  # no temp files left


def test_corrupt_counter_file_is_named(tmp_path):
    (tmp_path / "sequence").write_text("garbage")
    with pytest.raises(ConfigError, match="sequence.*whole number.*garbage"):
        SequenceCounter(tmp_path)


def test_state_dir_that_is_a_file_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="^/etc/headcount/agent.toml: agent.state_dir = .*file"):
        SequenceCounter(blocker, source="/etc/headcount/agent.toml")


def test_default_agent_id_is_made_once_and_kept(tmp_path):
    first = persistent_agent_id(tmp_path, "lab-pc")
    assert re.fullmatch(r"lab-pc-[0-9a-f]{8}", first)
    assert persistent_agent_id(tmp_path, "lab-pc") == first          # stable across restarts
    assert persistent_agent_id(tmp_path / "other", "lab-pc") != first  # a cloned disk image gets its own


def test_backoff_doubles_with_jitter_up_to_the_cap():
    delays = list(itertools.islice(Backoff(initial_s=1, maximum_s=8).delays(), 7))
    nominal = [1, 2, 4, 8, 8, 8, 8]
    for delay, expected in zip(delays, nominal):
        assert 0.8 * expected <= delay <= 1.2 * expected
