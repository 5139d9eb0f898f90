"""A customer endpoint told a token nobody issued answers 401 (sign in again), not 403 'not a staff token'."""
from __future__ import annotations

import pytest

API = "/api/v1/customer"


@pytest.mark.parametrize("token", ["garbage", "kesu_not-a-real-staff-token"])
def test_an_unknown_token_is_401_with_a_challenge(client, token) -> None:
    answer = client.get(f"{API}/complaints", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.mimetype == "application/problem+json"
    assert "unknown or revoked" in answer.get_json()["detail"]
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="kesu"'


def test_a_real_staff_token_is_still_403(client, staff_header) -> None:
    answer = client.get(f"{API}/complaints", headers=staff_header)
    assert answer.status_code == 403 and "this endpoint is for customers" in answer.get_json()["detail"]
