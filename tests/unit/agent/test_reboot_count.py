"""Reboot counting from the boot times the agent sees: pure rule plus its state file."""

from datetime import datetime, timedelta, timezone

from headcount.agent.state import BootHistory, count_reboots

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


def test_first_boot_is_the_install_not_a_reboot():
    history, counts = count_reboots([], NOW - timedelta(days=3), NOW)
    assert len(history) == 1 and (counts.reboot_count, counts.reboots_last_30_days) == (0, 0)


def test_each_new_boot_counts_and_only_recent_ones_count_for_30_days():
    boots = [NOW - timedelta(days=90), NOW - timedelta(days=40), NOW - timedelta(days=10)]
    history, counts = count_reboots(boots, NOW - timedelta(hours=2), NOW)
    assert len(history) == 4
    assert (counts.reboot_count, counts.reboots_last_30_days) == (3, 2)


def test_a_boot_time_that_wobbles_by_a_second_is_the_same_boot():
    boot = NOW - timedelta(days=1)
    history, counts = count_reboots([boot], boot + timedelta(seconds=1), NOW)
    assert history == [boot] and counts.reboot_count == 0


def test_history_survives_a_restart_and_a_damaged_file_starts_again(tmp_path):
    first, second = NOW - timedelta(days=2), NOW - timedelta(days=1)
    assert BootHistory(tmp_path).record(first, NOW).reboot_count == 0
    assert BootHistory(tmp_path).record(second, NOW).reboot_count == 1
    assert BootHistory(tmp_path).record(second, NOW).reboot_count == 1   # same boot read again
    (tmp_path / "boots.json").write_text("{not json")
    assert BootHistory(tmp_path).record(second, NOW).reboot_count == 0
    assert BootHistory(tmp_path).record(NOW, NOW).reboot_count == 1
