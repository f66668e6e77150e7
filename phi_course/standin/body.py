"""Read a JSON request body whatever its Content-Type says.

Ollama's own documentation sends bodies with `curl -d '{...}'`, which labels
them as form data; Ollama reads them as JSON anyway, so the stand-in does too.
"""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

__all__ = ["Body", "parse"]

Body = TypeVar("Body", bound=BaseModel)


async def parse(request: Request, model: type[Body]) -> Body:
    """The body as `model`; a RequestValidationError (answered as 400) if it does not fit."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from None
