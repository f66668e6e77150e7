"""phi_course.local.modelfile reads Modelfiles as Ollama documents them and names the line at fault."""

import inspect

import ollama
import pytest

from phi_course.local.modelfile import Modelfile, ModelfileError, parse, read

TUTOR = '''
# A patient tutor on top of Phi-3.5-mini
FROM phi3.5
SYSTEM """
You are a patient tutor.
Answer in two sentences.
"""
PARAMETER temperature 0.2
PARAMETER num_ctx 4096
PARAMETER stop "<|end|>"
parameter stop <|user|>
PARAMETER use_mmap false
MESSAGE user What is an SLM?
MESSAGE assistant "A small language model: a few billion parameters or fewer."
LICENSE MIT
'''


def test_parses_every_instruction_with_types():
    mf = parse(TUTOR)
    assert mf.base == "phi3.5"
    assert mf.system == "You are a patient tutor.\nAnswer in two sentences."
    assert mf.parameters == {"temperature": 0.2, "num_ctx": 4096, "stop": ["<|end|>", "<|user|>"],
                             "use_mmap": False}
    assert isinstance(mf.parameters["num_ctx"], int) and isinstance(mf.parameters["temperature"], float)
    assert mf.messages == [
        {"role": "user", "content": "What is an SLM?"},
        {"role": "assistant", "content": "A small language model: a few billion parameters or fewer."},
    ]
    assert mf.license == ["MIT"]


def test_single_line_triple_quotes_and_escaped_quotes():
    mf = parse('FROM phi3.5\nSYSTEM """Be brief."""\nPARAMETER stop "say \\"stop\\""\n')
    assert mf.system == "Be brief."
    assert mf.parameters["stop"] == ['say "stop"']


def test_last_system_wins_and_instructions_are_case_insensitive():
    mf = parse("from phi3.5\nsystem first\nSYSTEM second\n")
    assert (mf.base, mf.system) == ("phi3.5", "second")


def test_chat_messages_put_system_and_history_first():
    mf = parse(TUTOR)
    out = mf.chat_messages([{"role": "user", "content": "Hi"}])
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[0]["content"] == mf.system and out[-1]["content"] == "Hi"


def test_options_is_a_copy():
    mf = parse(TUTOR)
    options = mf.options()
    options["stop"].append("x")
    assert mf.parameters["stop"] == ["<|end|>", "<|user|>"]


def test_create_kwargs_fit_the_real_ollama_client():
    kwargs = parse(TUTOR).create_kwargs()
    inspect.signature(ollama.Client.create).bind(None, model="mytutor", **kwargs)  # raises if not
    assert kwargs["from_"] == "phi3.5" and kwargs["parameters"]["temperature"] == 0.2


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("FROM phi3.5\nPARAMETER max_tokens 50\n", 2, "num_predict"),
        ("FROM phi3.5\nPARAMETER temprature 0.5\n", 2, "temperature"),
        ("FROM phi3.5\n\nPARAMETER temperature hot\n", 3, "a number"),
        ("FROM phi3.5\nPARAMETER num_ctx 4096.5\n", 2, "whole number"),
        ("FROM phi3.5\nPARAMETER seed\n", 2, "needs a value"),
        ("FROM phi3.5\nSYSTEMS be nice\n", 2, "Did you mean SYSTEM"),
        ("FROM phi3.5\nMESSAGE bot hello\n", 2, "role"),
        ('FROM phi3.5\nSYSTEM """never closed\nstill open\n', 2, "never closed"),
        ("FROM phi3.5\nFROM phi3\n", 2, "second FROM"),
        ("FROM\n", 1, "needs an argument"),
    ],
)
def test_errors_name_the_line_and_the_fix(text, line, words):
    with pytest.raises(ModelfileError) as error:
        parse(text)
    assert error.value.line == line
    assert words in str(error.value) and f"line {line}" in str(error.value)


def test_a_modelfile_without_from_is_refused():
    with pytest.raises(ModelfileError, match="no FROM line"):
        parse("# only a comment\nSYSTEM hi\n")


def test_read_from_a_file(tmp_path):
    path = tmp_path / "Modelfile"
    path.write_text(TUTOR, encoding="utf-8")
    assert read(path) == parse(TUTOR)
    assert isinstance(read(path), Modelfile)
