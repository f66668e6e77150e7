"""Read a request body, check its fields, and answer every mistake in the protocol's own shape.

Ollama's own documentation sends bodies with `curl -d '{...}'`, which labels
them as form data; Ollama reads them as JSON anyway, so the stand-in does too.

Each API declares its fields once, as pydantic models; a field that needs more
than pydantic's wording says what it takes with `Allowed("...")`, so a wrong
value is answered with a 400 that names the field and what to send instead.
`api_router(answer)` makes an APIRouter whose routes turn anything a handler raises
into `answer(error)`, an ordinary JSON response: no traceback escapes, and the
client's connection stays usable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException

__all__ = ["Allowed", "Body", "InvalidField", "SEED", "api_router", "parse"]

Body = TypeVar("Body", bound=BaseModel)

# Both APIs take a 64-bit seed (OpenAI documents int64, Ollama's is a Go int).
SEED = "a whole number from -2**63 to 2**63 - 1 (e.g. 42), or leave it out"


class InvalidField(ValueError):
    """A request field the stand-in cannot use (HTTP 400). `field` is its path, e.g. 'options.temperature'."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def Allowed(what: str) -> WrapValidator:  # noqa: N802  (used like a type annotation)
    """Annotated metadata: when the field's value does not fit, the error says `what` is allowed."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("not_allowed", "send {allowed}", {"allowed": what}) from None

    return WrapValidator(check)


async def parse(request: Request, model: type[Body]) -> Body:
    """The body as `model`; an InvalidField (answered as 400) naming the first field that does not fit."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as error:
        problems = error.errors(include_url=False)
        first = _where(problems[0]["loc"])
        raise InvalidField(first, "The request body is not valid: "
                           + "; ".join(_explain(problem) for problem in problems) + ".") from None


def _where(loc) -> str:
    """'messages.0.role' for a validation error's location."""
    return ".".join(str(part) for part in loc) or "body"


def _explain(problem: dict[str, Any]) -> str:
    where = _where(problem["loc"])
    if problem["type"] != "not_allowed":
        return f"{where}: {problem['msg']}"
    got = repr(problem["input"])
    got = got if len(got) <= 60 else got[:57] + "..."
    return f"{where} is {got}; {problem['msg']}"


def api_router(answer: Callable[[Exception], Response]) -> APIRouter:
    """An APIRouter whose handlers' exceptions become `answer(error)` (HTTPException and
    FastAPI's own validation errors still go to the app's handlers)."""

    class Route(APIRoute):
        def get_route_handler(self):
            handler = super().get_route_handler()

            async def answered(request: Request) -> Response:
                try:
                    return await handler(request)
                except (HTTPException, RequestValidationError):
                    raise
                except Exception as error:  # noqa: BLE001  (every failure is answered, never escapes)
                    return answer(error)

            return answered

    return APIRouter(route_class=Route)
