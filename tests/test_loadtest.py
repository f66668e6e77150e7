"""The instructor load test, run for real: a small class against the course stand-in on loopback,
and the one-line messages for a closed port, a refused key, an unknown model and bad arguments."""

import socket

import pytest

from phi_course import loadtest
from phi_course.standin.faults import FaultServer

MODEL = "tiny-phi35-mini"
SMALL_CLASS = {"turns": 2, "think_s": 0.0, "max_tokens": 12, "progress": False}


def closed_port_url() -> str:
    """A loopback URL nothing listens on: a port the OS just gave out and took back."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def one_line_error(capsys, argv: list[str]) -> str:
    """Run the CLI, expect it to refuse (exit 2), and return the single line it printed."""
    assert loadtest.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_small_class_is_answered_and_timed(standin):
    measured = loadtest.run_class(standin.base_url, MODEL, 3, **SMALL_CLASS)

    assert len(measured) == 6 and {r.learner for r in measured} == {0, 1, 2}
    assert [r.error for r in measured] == [None] * 6
    assert all(r.first_token_s > 0 and r.total_s >= r.first_token_s and r.tokens > 1 for r in measured)
    row = loadtest.summary(measured)
    assert (row["learners"], row["requests"], row["errors"]) == (3, 6, 0)
    assert 0 < row["p50 first token (s)"] <= row["p95 first token (s)"]
    assert row["median tokens/s per learner"] > 0
    assert "3 learners: p95 first token" in loadtest.verdict(measured)


def test_the_cli_prints_a_table_and_a_verdict(standin, capsys):
    code = loadtest.main([standin.base_url, "--learners", "2", "--model", MODEL, "--turns", "1",
                          "--think", "0", "--max-tokens", "8"])

    out = capsys.readouterr().out
    assert "p95 first token (s)" in out and "median tokens/s per learner" in out
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith(("holds 2 learners", "does not hold 2 learners"))
    assert code == (0 if verdict.startswith("holds") else 1)


def test_a_slow_class_is_judged_against_the_aim():
    slow = [loadtest.Measured(n, 0, first_token_s=4.2, total_s=5.0, tokens=20) for n in range(30)]
    assert loadtest.verdict(slow) == (
        f"does not hold 30 learners: p95 first token 4.2 s (aim for under {loadtest.AIM_FIRST_TOKEN_S:g} s)")
    slow[0] = loadtest.Measured(0, 0, error="boom")
    assert loadtest.verdict(slow).startswith("does not hold 30 learners: 1 of 30 requests failed: boom")


def test_a_closed_port_says_start_the_server(capsys):
    line = one_line_error(capsys, [closed_port_url(), "--learners", "2", "--model", MODEL])
    assert "no server answers" in line and "python -m phi_course.standin" in line


def test_a_refused_key_is_named_masked_never_whole(capsys):
    key = "sk-a-secret-key-of-forty-characters-xxxx"
    with FaultServer() as faults:
        line = one_line_error(capsys, [faults.url("401"), "--learners", "2", "--model", MODEL,
                                       "--api-key", key])
    assert "401" in line and "--api-key" in line
    assert key not in line and loadtest.mask(key) in line


def test_an_unknown_model_lists_what_the_server_offers(standin, capsys):
    line = one_line_error(capsys, [standin.base_url, "--learners", "2", "--model", "no-such-model"])
    assert "'no-such-model'" in line and "404" in line and "it offers: " in line and MODEL in line


@pytest.mark.parametrize("option, value, words", [
    ("--learners", "0", "--learners must be 1 or more"),
    ("--turns", "0", "--turns must be 1 or more"),
    ("--think", "-1", "--think must be 0 or more"),
    ("--max-tokens", "0", "--max-tokens must be 1 or more"),
])
def test_bad_arguments_are_refused_before_any_request(capsys, option, value, words):
    argv = [closed_port_url(), "--learners", "2", "--model", MODEL, option, value]
    assert words in one_line_error(capsys, argv)


def test_a_url_without_a_scheme_is_refused(capsys):
    line = one_line_error(capsys, ["127.0.0.1:8765/v1", "--learners", "2", "--model", MODEL])
    assert "must start with http://" in line
