"""The command line fails like a tool: one line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import logging

import pytest

from api.cli import main
from api.logs import JsonFormatter, TextFormatter
from api.progress import progress_bar


@pytest.mark.parametrize("argv", [
    [], ["nonsense"], ["serve", "--port", "eighty"], ["token"], ["token", "--sub", "u",
                                                                  "--role", "emperor"],
])
def test_usage_errors_are_one_line_and_exit_2(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("audience: error: ") and err.count("\n") == 1, err


def test_a_bad_setting_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "not-a-port")
    assert main(["token", "--sub", "u"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("audience: error: invalid setting PORT") and err.count("\n") == 1


def test_several_workers_need_a_shared_store(monkeypatch, capsys):
    monkeypatch.delenv("MONGODB_URL", raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    assert "MONGODB_URL" in capsys.readouterr().err


def test_an_unexpected_failure_is_one_line(monkeypatch, capsys):
    def explode(*args, **kwargs):
        raise OSError("[Errno 98] address already in use")

    monkeypatch.setattr("uvicorn.run", explode)
    monkeypatch.delenv("MONGODB_URL", raising=False)
    assert main(["serve", "--port", "8169"]) == 1
    err = capsys.readouterr().err
    assert err == "audience: error: OSError: [Errno 98] address already in use\n"


def test_log_formats():
    record = logging.makeLogRecord({"name": "audience.access", "levelname": "INFO",
                                    "msg": "GET /healthz 200", "status": 200})
    assert '"status": 200' in JsonFormatter().format(record)
    text = TextFormatter().format(record)
    assert "INFO audience.access: GET /healthz 200 [status=200]" in text


def test_progress_without_a_terminal_logs_each_fifth(caplog):
    caplog.set_level(logging.INFO, logger="audience.progress")
    with progress_bar("work", bar=False) as progress:
        for done in range(1, 101):
            progress(done, 100)
    assert len(caplog.records) == 6  # the start, then each fifth


def test_progress_bar_on_a_terminal(capsys):
    with progress_bar("work", bar=True) as progress:
        progress(50, 100)
        progress(100, 100)
    assert "100/100" in capsys.readouterr().err
