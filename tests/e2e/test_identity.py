"""Identity is exact (contract §7, issue 11 item 5): every seen case, through /graphql with real
signed tokens, plus the start-up refusals and ``audience token``."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from api.auth import principal_from_header
from api.cli import main as cli_main
from api.settings import DEVELOPMENT_JWT_SECRET, ConfigurationError, Settings
from tests.conftest import SECRET, codes
from tests.helpers import send

SEGMENT_OF = '{{ creatorAudience(creatorId: "{c}") {{ withheld }} }}'


def signed(claims: dict[str, Any], secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def soon() -> int:
    return int(time.time()) + 600


@pytest.mark.parametrize("sub", ["creator-141 ", " creator-141", "creator-141\n",
                                 "creator\u00a0141", "", "x" * 129, "tab\there"])
async def test_a_sub_that_is_not_exact_is_unauthenticated(api, sub):
    body = await api.post(SEGMENT_OF.format(c="creator-141"), sub=None,
                          headers=signed({"sub": sub, "roles": ["creator"], "exp": soon()}))
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None or body["data"]["creatorAudience"] is None


async def test_the_exact_sub_still_reads_its_own_audience(api):
    body = await api.post(SEGMENT_OF.format(c="creator-141"), sub=None,
                          headers=signed({"sub": "creator-141", "roles": ["creator"],
                                          "exp": soon()}))
    assert not body.get("errors"), body


@pytest.mark.parametrize("roles", [[["admin"]], "admin", [{"admin": True}], [1], ["root"],
                                   ["admin", None], {"0": "admin"}])
async def test_roles_other_than_a_list_of_known_role_strings_are_unauthenticated(api, roles):
    response = await api.http.post(
        "/graphql", json={"query": "{ me { userId roles } }"},
        headers=signed({"sub": "u1", "roles": roles, "exp": soon()}))
    assert response.status_code == 200, response.text  # never a 500
    assert codes(response.json()) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("sub", [7, None, ["u1"], {"id": "u1"}])
async def test_a_sub_that_is_not_a_string_is_unauthenticated(api, sub):
    body = await api.post("{ me { userId } }", sub=None,
                          headers=signed({"sub": sub, "roles": [], "exp": soon()}))
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_admin_reads_a_segment_but_never_its_risk(api):
    await send(api, "transactionCompleted", viewerId="v1", creatorId="c1", tokens=600)
    body = await api.post('{ segment(viewerId: "v1", creatorId: "c1") { budget risk } }',
                          sub="ops", roles=("admin",))
    assert codes(body) == ["FORBIDDEN"]
    assert body["data"]["segment"] == {"budget": "LOW", "risk": None}
    history = await api.post('{ viewerRiskHistory(viewerId: "v1") { level } }',
                             sub="ops", roles=("admin",))
    assert codes(history) == ["FORBIDDEN"]
    safety = await api.post('{ segment(viewerId: "v1", creatorId: "c1") { risk } }',
                            sub="safe", roles=("safety_team",))
    assert safety["data"]["segment"]["risk"] == "NORMAL"


# --- expiry ------------------------------------------------------------------------------------

async def test_a_token_without_exp_is_refused_on_a_real_store(make_api):
    no_exp = signed({"sub": "u1", "roles": ["viewer"]})
    with_exp = signed({"sub": "u1", "roles": ["viewer"], "exp": soon()})
    async with make_api(mongodb_url="mongodb://mongo.invalid:27017") as api:
        refused = await api.post("{ me { userId } }", sub=None, headers=no_exp)
        admitted = await api.post("{ me { userId } }", sub=None, headers=with_exp)
    assert codes(refused) == ["UNAUTHENTICATED"]
    assert "exp" in refused["errors"][0]["message"]
    assert admitted["data"]["me"] == {"userId": "u1"}


async def test_the_embedded_store_still_takes_a_token_without_exp(api):
    body = await api.post("{ me { userId } }", sub=None,
                          headers=signed({"sub": "u1", "roles": []}))
    assert body["data"]["me"] == {"userId": "u1"}


async def test_an_expired_token_is_unauthenticated(api):
    body = await api.post("{ me { userId } }", sub=None,
                          headers=signed({"sub": "u1", "exp": int(time.time()) - 60}))
    assert codes(body) == ["UNAUTHENTICATED"]


# --- secrets and binding -----------------------------------------------------------------------

def test_a_short_secret_with_mongodb_is_a_start_up_error():
    settings = Settings(mongodb_url="mongodb://localhost:27017", audience_jwt_secret="x")
    with pytest.raises(ConfigurationError, match="32 bytes"):
        settings.jwt_secret()
    with pytest.raises(ConfigurationError, match="must be set"):
        Settings(mongodb_url="mongodb://localhost:27017", audience_jwt_secret=None).jwt_secret()
    assert Settings(mongodb_url="mongodb://localhost:27017",
                    audience_jwt_secret="s" * 32).jwt_secret() == "s" * 32


def test_create_app_refuses_a_short_secret_with_mongodb():
    from api.app import create_app

    with pytest.raises(ConfigurationError):
        create_app(Settings(mongodb_url="mongodb://localhost:27017", audience_jwt_secret="1"))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.4", "api.example.org"])
def test_the_development_secret_never_listens_beyond_loopback(host, capsys, monkeypatch):
    monkeypatch.delenv("AUDIENCE_JWT_SECRET", raising=False)
    monkeypatch.delenv("MONGODB_URL", raising=False)
    assert cli_main(["serve", "--host", host, "--port", "8129"]) == 2
    assert "development secret" in capsys.readouterr().err
    with pytest.raises(ConfigurationError):
        Settings(audience_jwt_secret="short").check_bind(host)
    Settings(audience_jwt_secret="s" * 32).check_bind(host)  # a real secret may


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_may_use_the_development_secret(host):
    Settings(audience_jwt_secret=None).check_bind(host)


def test_docker_image_and_compose_never_serve_the_development_secret():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    compose = (root / "docker-compose.yml").read_text()
    assert "placeholder" not in compose
    assert "${AUDIENCE_JWT_SECRET:?" in compose
    assert DEVELOPMENT_JWT_SECRET not in (root / "Dockerfile").read_text()


# --- audience token ----------------------------------------------------------------------------

def _minted(capsys) -> dict[str, Any]:
    out = capsys.readouterr().out.strip()
    return principal_from_header(f"Bearer {out}", SECRET, require_exp=True) and jwt.decode(
        out, SECRET, algorithms=["HS256"])


def test_audience_token_expires_in_12_hours_by_default(capsys, monkeypatch):
    monkeypatch.setenv("AUDIENCE_JWT_SECRET", SECRET)
    assert cli_main(["token", "--sub", "creator-001", "--role", "creator"]) == 0
    claims = _minted(capsys)
    assert claims["roles"] == ["creator"]
    assert abs(claims["exp"] - (time.time() + 12 * 3600)) < 60


def test_audience_token_hours(capsys, monkeypatch):
    monkeypatch.setenv("AUDIENCE_JWT_SECRET", SECRET)
    assert cli_main(["token", "--sub", "u1", "--hours", "2"]) == 0
    assert abs(_minted(capsys)["exp"] - (time.time() + 2 * 3600)) < 60


@pytest.mark.parametrize("argv", [["--sub", "u1", "--hours", "0"],
                                  ["--sub", "u1", "--hours", "-3"],
                                  ["--sub", "creator-141 "], ["--sub", ""]])
def test_audience_token_refuses_what_the_server_would(argv, capsys, monkeypatch):
    monkeypatch.setenv("AUDIENCE_JWT_SECRET", SECRET)
    assert cli_main(["token", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "audience token:" in captured.err
