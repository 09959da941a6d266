"""quick_init builds the same objects as the __init__ that dataclasses writes, and the class stays frozen."""

import dataclasses
import inspect
import pickle
from datetime import date, datetime, timezone

import pytest

from headcount.collector.assets import AssetMatch, AssetRecord, Finding
from headcount.collector.flags import AgentState, Condition, DeviceState, Flag, RefurbishFlag, Status
from headcount.collector.health import Readings
from headcount.collector.records import quick_init

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)
QUICK = (DeviceState, AgentState, Status, Condition, RefurbishFlag, Flag, Readings, AssetRecord, AssetMatch, Finding)


def plain_twin(cls):
    """The same fields as `cls`, in a class whose __init__ is the one dataclasses writes."""
    spec = [(f.name, f.type, dataclasses.field(default=f.default, kw_only=f.kw_only)) for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, spec, frozen=True, slots=True)


@pytest.mark.parametrize("cls", QUICK, ids=lambda cls: cls.__name__)
def test_the_quick_init_has_the_signature_dataclasses_gives(cls):
    assert inspect.signature(cls) == inspect.signature(plain_twin(cls))
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"


def test_objects_built_either_way_hold_the_same_fields_and_compare_equal():
    record = AssetRecord("asset_register", 7, serial="SN1", macs=("aa:bb:cc:dd:ee:01",), model="Chromebook 3110",
                         purchase_date=date(2020, 8, 15), last_sync=NOW, file="register.csv")
    cases = [
        (DeviceState, ("s1", "42", "aa:bb:cc:dd:ee:01", "chromebook", False, NOW, NOW), {"model": "x", "missed_polls": 3}),
        (DeviceState, ("s1", "42", "m", "switch", True, NOW, NOW, 2, date(2020, 1, 1)), {}),
        (Condition, ("offline", "42", "gone"), {}),
        (RefurbishFlag, ("age", "42", "old", ("purchased 2019-08-15",), NOW), {}),
        (Flag, ("age", "42", "old", ("e",), NOW), {"last_present_at": NOW}),
        (Readings, (), {"uptime_samples": ((1, 2),), "ups_battery_status": "low"}),
        (AssetRecord, ("asset_register", 7), {"serial": "SN1", "aue_date": date(2027, 6, 1)}),
        (AssetMatch, (record, "s1", "42", "serial"), {}),
        (Finding, ("aue_passed", "s1", "42", "passed", ("AUE date 2025-06-01",), date(2025, 6, 1)), {}),
        (Status, ("online", "seen"), {}),
        (AgentState, ("s1", NOW), {}),
    ]
    for cls, args, kwargs in cases:
        quick, plain = cls(*args, **kwargs), plain_twin(cls)(*args, **kwargs)
        assert dataclasses.astuple(quick) == dataclasses.astuple(plain), cls.__name__
        assert quick == cls(*args, **kwargs) and hash(quick) == hash(cls(*args, **kwargs))
        assert pickle.loads(pickle.dumps(quick)) == quick


def test_the_class_stays_frozen_and_wrong_calls_fail_as_before():
    flag = Flag("age", "42", "old", (), NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        flag.reason = "new"          # type: ignore[misc]
    with pytest.raises(TypeError):
        Flag("age", "42")            # type: ignore[call-arg]   # a field without a default left out
    with pytest.raises(TypeError):
        Flag("age", "42", "old", (), NOW, colour="red")    # type: ignore[call-arg]


def test_post_init_still_runs_and_unsuitable_classes_are_refused():
    seen = []

    @quick_init
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        value: int
        label: str = "x"

        def __post_init__(self):
            seen.append(self.value)
            if self.value < 0:
                raise ValueError("negative")

    assert Checked(3).label == "x" and seen == [3]
    with pytest.raises(ValueError):
        Checked(-1)

    with pytest.raises(TypeError, match="frozen dataclasses with slots"):
        quick_init(dataclasses.dataclass(frozen=True)(type("NoSlots", (), {"__annotations__": {"a": int}})))
    with pytest.raises(TypeError, match="plain defaults"):
        quick_init(dataclasses.dataclass(frozen=True, slots=True)(
            type("Factory", (), {"__annotations__": {"a": list}, "a": dataclasses.field(default_factory=list)})))
