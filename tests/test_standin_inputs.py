"""What the stand-in answers to wrong inputs and to pictures, driven with the real clients (no mocks).

A client mistake is a 400 in the protocol's own shape naming the field and what it takes; the
connection stays usable after it. Pictures are checked (how many, how big each says it is) before
any is decoded. The vision model is listed and takes Ollama's `images`. Nothing internal leaks.
"""

import base64
import io
import json
import struct
import zlib

import httpx
import ollama
import openai
import pytest
from PIL import Image

from phi_course.local import embedded
from phi_course.vision import NAME as VISION
from phi_course.vision import images

MODEL = "tiny-phi35-mini"
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def ollama_client(standin):
    return ollama.Client(host=standin.url, timeout=120)  # one client, one connection, for every case


@pytest.fixture(scope="module")
def client(standin):
    return openai.OpenAI(base_url=standin.base_url, api_key="not-needed", timeout=120, max_retries=0)


def png(width: int, height: int) -> bytes:
    """A PNG whose header says width x height, with no pixel data behind it (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def picture(colour: str = "red", size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, "PNG")
    return buffer.getvalue()


def damaged() -> bytes:
    """A PNG with a sound header whose pixel data is cut short: it fails only when decoded."""
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()[:200]


def url(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


def ask(parts: list[bytes], question: str = "What is in the picture?") -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": question}]
             + [{"type": "image_url", "image_url": {"url": url(raw)}} for raw in parts]}]


# --- 1. wrong fields: a 400 naming the field, in each protocol's shape ---

@pytest.mark.parametrize(("options", "field", "allowed"), [
    ({"temperature": "abc"}, "options.temperature", "a number, 0 or more"),
    ({"top_k": "abc"}, "options.top_k", "a whole number"),
    ({"num_predict": "abc"}, "options.num_predict", "a whole number of tokens"),
    ({"stop": 5}, "options.stop", "a string or a list of strings"),
    ({"seed": "abc", "temperature": 0.7}, "options.seed", "from -2**63 to 2**63 - 1"),
    ({"seed": 10**30, "temperature": 0.7}, "options.seed", "from -2**63 to 2**63 - 1"),
])
def test_ollama_wrong_option_is_a_400_naming_it_and_the_client_goes_on(ollama_client, options, field, allowed):
    with pytest.raises(ollama.ResponseError) as error:
        ollama_client.chat(model=MODEL, messages=HI, options=options)
    assert error.value.status_code == 400
    assert field in error.value.error and allowed in error.value.error
    # The same client (and connection) answers the next, valid request.
    reply = ollama_client.chat(model=MODEL, messages=HI, options={"num_predict": 2})
    assert reply.done and reply.eval_count <= 2


def test_a_role_that_does_not_exist_is_a_400_on_both_apis(ollama_client, client):
    with pytest.raises(ollama.ResponseError) as error:
        ollama_client.chat(model=MODEL, messages=[{"role": "hacker", "content": "hi"}])
    assert error.value.status_code == 400
    assert "messages.0.role is 'hacker'" in error.value.error
    assert "system, user, assistant, tool" in error.value.error
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=MODEL, messages=[{"role": "hacker", "content": "hi"}], max_tokens=2)
    assert bad.value.param == "messages.0.role" and bad.value.code == "invalid_value"
    assert "system, developer, user, assistant, tool" in bad.value.message
    assert ollama_client.chat(model=MODEL, messages=HI, options={"num_predict": 2}).done


def test_a_seed_out_of_range_is_a_400_saying_the_range(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=HI, max_tokens=2, temperature=0.7, seed=10**30)
    assert error.value.status_code == 400 and error.value.param == "seed"
    assert "seed is 1000000000000000000000000000000" in error.value.message
    assert "from -2**63 to 2**63 - 1" in error.value.message


def test_temperature_nan_is_a_400_on_both_apis(standin):
    with httpx.Client(timeout=120) as http:  # json.dumps writes the NaN literal, as a careless client does
        ollama_reply = http.post(f"{standin.url}/api/chat", content=json.dumps(
            {"model": MODEL, "stream": False, "messages": HI, "options": {"temperature": float("nan")}}))
        openai_reply = http.post(f"{standin.base_url}/chat/completions", content=json.dumps(
            {"model": MODEL, "messages": HI, "temperature": float("nan"), "max_tokens": 2}))
        assert http.post(f"{standin.url}/api/chat", json={"model": MODEL, "stream": False, "messages": HI,
                                                          "options": {"num_predict": 2}}).status_code == 200
    assert ollama_reply.status_code == 400
    assert ollama_reply.json() == {"error": "The request body is not valid: options.temperature is nan; "
                                            "send a number, 0 or more (0 answers the same every time)."}
    assert openai_reply.status_code == 400
    error = openai_reply.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["param"] == "temperature" and error["type"] == "invalid_request_error"
    assert "temperature is nan" in error["message"] and "a number from 0 to 2" in error["message"]


# --- 2. pictures: checked from their headers before any is decoded ---

def test_a_decompression_bomb_is_a_400_naming_the_image_and_the_limit(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=VISION, messages=ask([picture(), png(100_000, 100_000)]), max_tokens=2)
    assert error.value.status_code == 400
    assert "Image 2 of 2: The image's header claims more than" in error.value.message
    assert "4096 px per side" in error.value.message


def test_the_image_count_is_checked_before_any_image_is_decoded(client):
    # The first picture fails only when decoded; eleven are too many, and that is said first.
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=VISION, messages=ask([damaged()] + [picture()] * 10), max_tokens=2)
    assert "11 images; course stand-in accepts at most 10" in error.value.message


def test_every_images_size_is_checked_before_any_image_is_decoded(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=VISION, messages=ask([damaged(), png(5000, 5000)]), max_tokens=2)
    assert "Image 2 of 2: The image is 5000x5000 px" in error.value.message
    assert "at most 4096 px per side" in error.value.message
    with pytest.raises(openai.BadRequestError) as error:  # a damaged picture alone is still caught, at decoding
        client.chat.completions.create(model=VISION, messages=ask([damaged()]), max_tokens=2)
    assert "damaged or cut short" in error.value.message


def test_check_data_urls_reads_headers_only():
    images.check_data_urls([url(damaged()), url(picture())])  # sound headers: nothing decoded, nothing raised
    with pytest.raises(images.ImageError, match="Image 1 of 1: The image's header claims more than"):
        images.check_data_urls([url(png(100_000, 100_000))])


# --- 3. the vision model: listed, and reading Ollama's images ---

def test_the_vision_model_is_listed_with_its_real_size(client, ollama_client):
    assert embedded.on_disk(VISION)
    folder = embedded.models_dir() / VISION
    assert VISION in [m.id for m in client.models.list()]
    listed = {m.model: m for m in ollama_client.list().models}
    vision = listed[f"{VISION}:latest"]
    assert vision.size == sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    assert vision.details.family == json.loads((folder / "config.json").read_text())["model_type"]
    assert len(vision.digest) == 64
    assert "vision" in ollama_client.show(VISION).capabilities


def test_ollama_images_reach_the_vision_model_as_openai_image_parts_do(client, ollama_client):
    question, raw = "What colour is the picture?", picture("blue")
    parts = ask([raw], question)[0]["content"]  # Ollama's pictures come before the message's text
    expected = client.chat.completions.create(model=VISION, messages=[{"role": "user", "content": parts[::-1]}],
                                              max_tokens=12, temperature=0)
    chat = ollama_client.chat(model=VISION, messages=[{"role": "user", "content": question, "images": [raw]}],
                              options={"num_predict": 12, "temperature": 0})
    assert chat.message.content == expected.choices[0].message.content
    assert chat.prompt_eval_count == expected.usage.prompt_tokens  # the picture's tokens are counted
    generated = ollama_client.generate(model=VISION, prompt=question, images=[raw],
                                       options={"num_predict": 12, "temperature": 0})
    assert generated.response == expected.choices[0].message.content


def test_text_models_refuse_ollama_images_saying_where_to_send_them(ollama_client):
    for call in (lambda: ollama_client.chat(model=MODEL, messages=[{**HI[0], "images": [picture()]}]),
                 lambda: ollama_client.generate(model=MODEL, prompt="hi", images=[picture()])):
        with pytest.raises(ollama.ResponseError) as error:
            call()
        assert error.value.status_code == 400
        assert "reads text only" in error.value.error and VISION in error.value.error


# --- 4. nothing internal in responses ---

def test_show_gives_no_path_on_the_server(standin, ollama_client):
    shown = ollama_client.show(MODEL)
    assert f"FROM {MODEL}\n" in shown.modelfile
    raw = httpx.post(f"{standin.url}/api/show", json={"model": MODEL}, timeout=60).text
    assert str(embedded.models_dir()) not in raw and str(embedded.models_dir().parent) not in raw
