"""Solutions to the exercises of lessons/04_azure_ai_foundry.ipynb."""

from __future__ import annotations

import base64

from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.models import ImageContentItem, ImageUrl, TextContentItem, UserMessage
from azure.core.credentials import AzureKeyCredential

from phi_course import routes


def _azure_client(route: routes.Route) -> ChatCompletionsClient:
    return ChatCompletionsClient(endpoint=route.azure_inference_endpoint, credential=AzureKeyCredential(route.api_key))


def exercise_1(question: str = "How many parameters does Phi-4-mini have?") -> str:
    """Level 1: ask the Phi-4-mini deployment with the retired azure-ai-inference; return the answer."""
    route = routes.resolve("azure", model="phi-4-mini")
    response = _azure_client(route).complete(
        messages=[UserMessage(question)], model=route.model, max_tokens=60, temperature=0)
    return response.choices[0].message.content


def exercise_2(question: str = "What is Phi-4-mini?", model: str = "phi-4-mini") -> tuple[str, int]:
    """Level 2: stream with azure-ai-inference; return (text, number of updates that carried text)."""
    route = routes.resolve("azure", model=model)
    pieces = []
    stream = _azure_client(route).complete(
        messages=[UserMessage(question)], model=route.model, max_tokens=60, temperature=0, stream=True)
    with stream:
        for update in stream:
            if update.choices and update.choices[0].delta.content:
                pieces.append(update.choices[0].delta.content)
    return "".join(pieces), len(pieces)


def vision_message(question: str, image_bytes: bytes, mime: str = "image/png") -> dict:
    """Level 3: an OpenAI-style user message with a text part and a base64 image part."""
    data_url = f"data:{mime};base64,{base64.b64encode(image_bytes).decode()}"
    return {"role": "user", "content": [
        {"type": "text", "text": question},
        {"type": "image_url", "image_url": {"url": data_url}},
    ]}


def azure_vision_message(question: str, image_file: str, image_format: str = "png") -> dict:
    """Level 3: the same message built by azure-ai-inference from a file, as the JSON it sends."""
    return UserMessage(content=[
        TextContentItem(text=question),
        ImageContentItem(image_url=ImageUrl.load(image_file=image_file, image_format=image_format)),
    ]).as_dict()
