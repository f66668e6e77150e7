"""Pictures through the stand-in, with the real SDKs: the answers are the model's, the errors say why."""

import openai
import pytest
import torch
from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.models import ImageContentItem, ImageUrl, TextContentItem, UserMessage
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError

from phi_course import routes
from phi_course.vision import NAME, images, runtime, tasks


@pytest.fixture(autouse=True, scope="module")
def shipped_model():
    # The model ships with the package: missing is a failure, never a skip.
    if not runtime.is_available():
        pytest.fail("no tiny-phi35-vision: run `python -m phi_course.vision train` (make models)")


@pytest.fixture(scope="module")
def loaded():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the stand-in's setting: the same arithmetic on both sides
    yield runtime.load()
    torch.set_num_threads(before)


@pytest.fixture
def client(standin):
    return openai.OpenAI(base_url=standin.base_url, api_key="not-needed", timeout=120, max_retries=0)


def message(sample):
    return {"role": "user", "content": [{"type": "text", "text": sample.question}]
            + [images.image_part(p) for p in sample.images]}


def reference(loaded, messages, **options):
    model, processor = loaded
    return runtime.chat(model, processor, messages, max_new_tokens=40, **options)


@pytest.mark.parametrize("task", ["bar_tallest", "table_cell", "frames_summary"])
def test_openai_sdk_answer_is_the_models_answer(client, loaded, task):
    sample = tasks.make(task, tasks.EVAL_SEEDS[-7], "en")
    reply = client.chat.completions.create(model=NAME, messages=[message(sample)], max_tokens=40, temperature=0)
    expected = reference(loaded, [message(sample)])
    assert reply.choices[0].message.content == expected.text
    assert reply.usage.prompt_tokens == expected.prompt_tokens  # picture vectors are counted, as services do
    assert reply.model == NAME


def test_several_frames_in_one_message_stream(client, loaded):
    sample = tasks.make("frames_first", tasks.EVAL_SEEDS[-8], "zh")
    assert len(sample.images) == tasks.FRAMES
    stream = client.chat.completions.create(model=NAME, messages=[message(sample)], max_tokens=40, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == reference(loaded, [message(sample)]).text


def test_azure_ai_inference_image_content_item(standin, loaded, tmp_path):
    sample = tasks.make("shape", tasks.EVAL_SEEDS[-9], "en")
    path = tmp_path / "shape.png"
    sample.images[0].save(path)
    client = ChatCompletionsClient(endpoint=standin.base_url, credential=AzureKeyCredential("not-needed"))
    content = [TextContentItem(text=sample.question),
               ImageContentItem(image_url=ImageUrl.load(image_file=str(path), image_format="png"))]
    reply = client.complete(messages=[UserMessage(content=content)], model=NAME, max_tokens=40, temperature=0)
    expected = reference(loaded, [{"role": "user", "content": [{"type": "text", "text": sample.question},
                                                                images.image_part(path)]}])
    assert reply.choices[0].message.content == expected.text


def bad(url):
    return [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                         {"type": "image_url", "image_url": {"url": url}}]}]


@pytest.mark.parametrize("messages, reason", [
    (bad("data:image/png;base64,@@@"), "not valid base64"),
    (bad("https://example.com/chart.png"), "offline and reads only images sent inline"),
    (bad("data:image/png;base64,aGVsbG8="), "not an image Pillow can read"),
    ([{"role": "user", "content": [images.image_part(tasks.scene("shape", s).images[0]) for s in range(11)]}],
     "11 images; course stand-in accepts at most 10"),
])
def test_bad_pictures_are_a_400_that_says_why(client, messages, reason):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=NAME, messages=messages, max_tokens=5)
    assert error.value.status_code == 400 and reason in error.value.message


def test_azure_sdk_sees_the_same_400(standin):
    client = ChatCompletionsClient(endpoint=standin.base_url, credential=AzureKeyCredential("not-needed"))
    content = [TextContentItem(text="What is this?"), ImageContentItem(image_url=ImageUrl(url="data:image/png;base64,!!"))]
    with pytest.raises(HttpResponseError, match="not valid base64") as error:
        client.complete(messages=[UserMessage(content=content)], model=NAME, max_tokens=5)
    assert error.value.status_code == 400


def test_text_models_still_refuse_pictures_and_point_to_lesson_09(client):
    sample = tasks.make("shape", 1)
    with pytest.raises(openai.BadRequestError, match="text only"):
        client.chat.completions.create(model="tiny-phi35-mini", messages=[message(sample)], max_tokens=5)


def test_vision_phi_models_resolve_to_the_vision_stand_in(monkeypatch, standin):
    monkeypatch.setenv("PHI_COURSE_OFFLINE", "1")
    for phi in ("phi-3-vision", "phi-3.5-vision", "phi-4-multimodal"):
        route = routes.resolve("github", phi)
        assert route.model == NAME and not route.live and NAME in route.notice
    assert routes.resolve("nim", "phi-3.5-mini").model != NAME
