"""Images as request content: base64 data URLs, and the size limits services set on them.

Introduced in lessons/09_phi_vision.ipynb.

OpenAI-compatible chat APIs (GitHub Models, Azure AI Foundry, NVIDIA NIM, the
course stand-in) take an image as a content part
`{"type": "image_url", "image_url": {"url": "data:image/png;base64,...", "detail": "auto"}}`.
`to_data_url` makes that URL and checks it against a service's limits before
you send it; `from_data_url` is the reverse, used by the stand-in, and fails
with a message that says what to do. `check_data_urls` checks a whole
request's pictures from their headers alone, so nothing is decoded until all
of them fit.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from phi_course.i18n import N_, _

__all__ = ["DETAILS", "FORMATS", "ImageError", "LIMITS", "Limits", "MB", "STANDIN", "check_count", "check_data_urls",
           "check_size", "encode", "from_data_url", "image_part", "to_data_url"]

MB = 1024 * 1024
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
DETAILS = ("auto", "low", "high")


class ImageError(ValueError):
    """An image could not be used: unreadable, the wrong kind, or too big. The message says why."""


@dataclass(frozen=True)
class Limits:
    """What one service accepts, and where that figure comes from."""

    service: str
    max_image_bytes: int | None  # per image, decoded
    max_images: int | None  # per request
    max_base64_chars: int | None  # per inline image, encoded
    max_side_px: int | None
    source: str

    def describe(self) -> dict:
        """One row of the limits table a lesson shows."""
        def fmt(value, unit=""):
            return "-" if value is None else f"{value:,}{unit}"
        return {
            N_("service"): _(self.service),
            N_("per image"): "-" if self.max_image_bytes is None else _size(self.max_image_bytes),
            N_("images per request"): fmt(self.max_images),
            N_("inline base64"): fmt(self.max_base64_chars, _(" chars")),
            N_("longest side"): fmt(self.max_side_px, " px"),
            N_("source"): _(self.source),
        }


LIMITS: dict[str, Limits] = {limit.service: limit for limit in [
    Limits("OpenAI API", 20 * MB, 500, None, None,
           N_("OpenAI 'Images and vision' guide (2025): PNG, JPEG, WEBP, non-animated GIF; "
              "20 MB per image, 500 images and 50 MB of images per request")),
    Limits("Azure OpenAI / AI Foundry", 20 * MB, 10, None, None,
           N_("Microsoft Learn, 'Vision-enabled chat models' (2025): 20 MB per image, 10 images per chat call")),
    Limits("NVIDIA NIM (hosted)", None, None, 180_000, None,
           N_("NVIDIA's build.nvidia.com samples: inline base64 under 180,000 characters; "
              "larger images go through its assets API")),
    Limits(N_("course stand-in"), 20 * MB, 10, None, 4096,
           N_("the course's own limits: the OpenAI per-image size, Azure's image count, and "
              "4096 px per side so a huge picture cannot exhaust memory")),
]}  # services and sources are marked with N_(): describe() shows them in the course language
STANDIN = LIMITS["course stand-in"]

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w-]+=[^;,]*)*)(?P<b64>;base64)?,",
                       re.IGNORECASE)


def _open(source) -> Image.Image:
    """A PIL image from a PIL image, a path, or raw bytes."""
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, (bytes, bytearray)):
        return _decode(bytes(source), STANDIN)
    path = Path(source)
    if not path.exists():
        raise ImageError(f"There is no image file at {path}. Check the path (relative paths start "
                         f"in the notebook's folder).")
    return _decode(path.read_bytes(), STANDIN)


def encode(image, image_format: str = "PNG") -> bytes:
    """The image as file bytes in `image_format` (PNG keeps charts and text sharp; JPEG is smaller for photos)."""
    fmt = image_format.upper().replace("JPG", "JPEG")
    if fmt not in FORMATS:
        raise ImageError(f"Cannot encode as {image_format!r}: services accept {', '.join(FORMATS)}. "
                         "Pick one of those.")
    picture = _open(image)
    if fmt == "JPEG" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")  # JPEG has no transparency
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


def to_data_url(image, image_format: str = "PNG", limits: Limits = STANDIN) -> str:
    """`data:image/png;base64,...` for a PIL image, a file path or image bytes, checked against `limits`.

    Raises ImageError when the encoded image is over a limit, saying by how much.
    """
    if isinstance(image, (str, Path)) and str(image).lower().startswith(("http://", "https://")):
        raise ImageError("to_data_url encodes a local image; pass a web address to the service as "
                         "the image_url itself (the course stand-in cannot fetch it: it is offline).")
    fmt = image_format.upper().replace("JPG", "JPEG")
    if isinstance(image, (bytes, bytearray)) and _sniff(bytes(image)) == fmt:
        raw = bytes(image)  # already a file in that format: send it as it is
    else:
        raw = encode(image, fmt)
    text = base64.b64encode(raw).decode("ascii")
    check_size(len(raw), len(text), limits)
    return f"data:{FORMATS[fmt]};base64,{text}"


def image_part(image, detail: str = "auto", image_format: str = "PNG", limits: Limits = STANDIN) -> dict:
    """An OpenAI-style content part holding `image` inline, ready to put in a message's content list."""
    if detail not in DETAILS:
        raise ImageError(f"detail must be one of {', '.join(DETAILS)}; got {detail!r}.")
    return {"type": "image_url", "image_url": {"url": to_data_url(image, image_format, limits), "detail": detail}}


def check_size(n_bytes: int, n_base64: int, limits: Limits) -> None:
    """Raise ImageError if an image of this size breaks `limits`."""
    if limits.max_image_bytes is not None and n_bytes > limits.max_image_bytes:
        raise ImageError(
            f"The image is {_size(n_bytes)}; {limits.service} accepts at most "
            f"{_size(limits.max_image_bytes)} per image. Shrink it first, e.g. "
            "image.thumbnail((1024, 1024)), or save it as JPEG.")
    if limits.max_base64_chars is not None and n_base64 > limits.max_base64_chars:
        raise ImageError(
            f"The image is {n_base64:,} characters of base64; {limits.service} takes at most "
            f"{limits.max_base64_chars:,} inline. Shrink it (image.thumbnail((512, 512))) or "
            "upload it through the service's assets API.")


def check_count(n_images: int, limits: Limits = STANDIN) -> None:
    """Raise ImageError if a request carries more images than `limits` allow."""
    if limits.max_images is not None and n_images > limits.max_images:
        raise ImageError(
            f"The request has {n_images} images; {limits.service} accepts at most "
            f"{limits.max_images} per request. Send fewer (pick key frames), or split the question.")


def check_data_urls(urls, limits: Limits = STANDIN) -> None:
    """Raise ImageError, naming the image, unless every data URL in a request fits `limits`.

    Reads the count, then each image's header (its format and size in pixels), and decodes no pixels.
    """
    urls = list(urls)
    check_count(len(urls), limits)
    for number, url in enumerate(urls, 1):
        try:
            _header(_file_bytes(url, limits), limits).close()
        except ImageError as error:
            raise ImageError(f"Image {number} of {len(urls)}: {error}") from None


def from_data_url(url: str, limits: Limits = STANDIN) -> Image.Image:
    """Decode a `data:image/...;base64,...` URL into an RGB PIL image, checking it on the way."""
    return _decode(_file_bytes(url, limits), limits)


def _file_bytes(url: str, limits: Limits) -> bytes:
    """The image file inside a data URL, checked for its form and byte size."""
    if not isinstance(url, str) or not url.strip():
        raise ImageError("The image_url has no url. Send {'url': 'data:image/png;base64,...'}; "
                         "phi_course.vision.images.to_data_url makes one.")
    url = url.strip()
    if url.lower().startswith(("http://", "https://")):
        raise ImageError(
            f"The image is a web address ({url[:60]}). The course stand-in is offline and reads only "
            "images sent inline as base64 data URLs. Download the file yourself and send "
            "to_data_url(path) instead.")
    match = _DATA_URL.match(url)
    if not match:
        raise ImageError(f"The image url does not start like a data URL ({url[:30]!r}...). It must be "
                         "'data:image/png;base64,' followed by the base64 of the file; use to_data_url.")
    mime = (match.group("mime") or "").lower()
    if not match.group("b64"):
        raise ImageError("The data URL is not base64 (';base64,' is missing). Encode the bytes with "
                         "base64.b64encode, or use to_data_url.")
    if mime and mime not in FORMATS.values():
        raise ImageError(f"The data URL says {mime}; accepted are {', '.join(FORMATS.values())}. "
                         "Convert the picture to PNG or JPEG first.")
    text = url[match.end():]
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageError(f"The image data is not valid base64 ({error}). Encode the file with "
                         "base64.b64encode(bytes).decode(), or use to_data_url.") from None
    check_size(len(raw), len(text), limits)
    return raw


def _size(n_bytes: int) -> str:
    """'20 MB', '1.5 MB', '200 KB' or '100 bytes'."""
    if n_bytes >= MB:
        return f"{n_bytes / MB:.1f}".removesuffix(".0") + " MB"
    if n_bytes >= 1024:
        return f"{n_bytes / 1024:.0f} KB"
    return f"{n_bytes} bytes"


def _sniff(raw: bytes) -> str | None:
    """The format named by a file's first bytes, or None."""
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if raw.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "WEBP"
    if raw[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    return None


def _header(raw: bytes, limits: Limits) -> Image.Image:
    """Open image bytes lazily (Pillow reads the header only) and check the format and size in pixels."""
    if not raw:
        raise ImageError("The image is empty (0 bytes). Check that the file was written completely.")
    side = (f"{limits.service} takes at most {limits.max_side_px} px per side" if limits.max_side_px
            else "too many to decode safely")
    try:
        picture = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError:  # Pillow's own guard: the header claims a gigantic picture
        raise ImageError(
            f"The image's header claims more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels; {side}. Send an "
            "ordinary picture: shrink it first with image.thumbnail((1024, 1024)).") from None
    except UnidentifiedImageError:
        raise ImageError(
            f"The {len(raw):,} bytes sent are not an image Pillow can read (they start with "
            f"{raw[:8]!r}). Send a PNG, JPEG, WEBP or GIF file.") from None
    if picture.format not in FORMATS:
        raise ImageError(f"The image is {picture.format}; accepted are {', '.join(FORMATS)}. "
                         "Convert it first: Image.open(path).save('picture.png').")
    width, height = picture.size
    if limits.max_side_px is not None and max(width, height) > limits.max_side_px:
        raise ImageError(f"The image is {width}x{height} px; {side}. Shrink it first: "
                         "image.thumbnail((1024, 1024)).")
    return picture


def _decode(raw: bytes, limits: Limits) -> Image.Image:
    """Check image bytes from their header, then load the pixels."""
    picture = _header(raw, limits)
    try:
        picture.load()
    except (OSError, Image.DecompressionBombError) as error:
        raise ImageError(f"The image is damaged or cut short ({error}). Re-save or re-send the file.") from None
    return picture.convert("RGB")
