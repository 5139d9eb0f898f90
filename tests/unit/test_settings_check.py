"""Settings the app cannot run with stop it at start, naming the variable to fix."""
from __future__ import annotations

import pytest

from app import create_app
from config import TestingConfig


@pytest.mark.parametrize("name, value", [("SLA_NEAR_BREACH_MINUTES", 0), ("ALERT_SLA_WARNING_MINUTES", -5),
                                         ("ALERT_REGION_MINIMUM", "five")])
def test_a_count_or_duration_must_be_above_zero(tmp_path, name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"KESU_{name} is .*; set it to a whole number above 0"):
        create_app(TestingConfig, INSTANCE_DIR=str(tmp_path), **{name: value})


def test_the_defaults_pass(tmp_path) -> None:
    assert create_app(TestingConfig, INSTANCE_DIR=str(tmp_path)).config["SLA_NEAR_BREACH_MINUTES"] == 60
