"""Images as request content: data URLs made and read back, and every limit enforced with a clear message."""

import base64
import io
import random

import pytest
from PIL import Image

from phi_course.vision import images
from phi_course.vision.images import ImageError, Limits


def picture(width=32, height=24, colour=(200, 30, 30)):
    return Image.new("RGB", (width, height), colour)


def noise(width, height):
    """A picture PNG cannot compress: its file is about 3 bytes per pixel."""
    return Image.frombytes("RGB", (width, height), random.Random(0).randbytes(width * height * 3))


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_data_url_round_trip_keeps_the_pixels():
    original = picture()
    original.putpixel((3, 4), (1, 2, 3))
    url = images.to_data_url(original)
    assert url.startswith("data:image/png;base64,iVBORw0KGgo")
    back = images.from_data_url(url)
    assert back.size == original.size and back.getpixel((3, 4)) == (1, 2, 3)


def test_files_and_bytes_keep_their_format(tmp_path):
    path = tmp_path / "photo.jpg"
    picture().save(path, format="JPEG")
    assert images.to_data_url(path, image_format="JPEG").startswith("data:image/jpeg;base64,/9j/")
    assert images.to_data_url(path.read_bytes(), image_format="JPEG") == images.to_data_url(path, "JPEG")


def test_image_part_is_the_openai_content_part():
    part = images.image_part(picture(), detail="low")
    assert part["type"] == "image_url" and part["image_url"]["detail"] == "low"
    assert part["image_url"]["url"].startswith("data:image/png;base64,")
    with pytest.raises(ImageError, match="detail must be one of"):
        images.image_part(picture(), detail="medium")


def test_nim_inline_limit_counts_base64_characters():
    nim = images.LIMITS["NVIDIA NIM (hosted)"]
    noisy = noise(260, 260)  # about 200 KB as PNG, 270,000 characters of base64
    with pytest.raises(ImageError, match=r"characters of base64.*180,000 inline"):
        images.to_data_url(noisy, limits=nim)
    assert len(images.to_data_url(picture(), limits=nim)) < 180_000


def test_per_image_byte_limit_names_the_service_and_the_fix():
    strict = Limits("a strict service", max_image_bytes=100, max_images=None, max_base64_chars=None,
                    max_side_px=None, source="test")
    noisy = noise(40, 40)
    with pytest.raises(ImageError, match=r"KB; a strict service accepts at most 100 bytes per image.*Shrink"):
        images.to_data_url(noisy, limits=strict)


def test_stand_in_refuses_more_than_twenty_megabytes():
    with pytest.raises(ImageError, match=r"21 MB; course stand-in accepts at most 20 MB"):
        images.check_size(21 * images.MB, 28 * images.MB, images.STANDIN)


def test_too_many_images_per_request():
    images.check_count(10)
    with pytest.raises(ImageError, match="11 images; course stand-in accepts at most 10"):
        images.check_count(11)


def test_oversized_dimensions_are_refused_before_decoding():
    url = images.to_data_url(Image.new("L", (5000, 8)))
    with pytest.raises(ImageError, match=r"5000x8 px.*at most 4096 px"):
        images.from_data_url(url)


@pytest.mark.parametrize("url, message", [
    ("https://example.com/cat.png", "web address"),
    ("data:image/png,rawbytes", "not base64"),
    ("data:image/png;base64,@@not-base64@@", "not valid base64"),
    ("data:text/plain;base64,aGVsbG8=", "text/plain"),
    ("data:image/png;base64," + base64.b64encode(b"hello, not an image").decode(), "not an image Pillow can read"),
    ("data:image/png;base64,", "empty"),
    ("iVBORw0KGgo=", "does not start like a data URL"),
    ("", "has no url"),
])
def test_unreadable_images_say_what_is_wrong(url, message):
    with pytest.raises(ImageError, match=message):
        images.from_data_url(url)


def test_unsupported_format_names_the_accepted_ones():
    buffer = io.BytesIO()
    picture().save(buffer, format="BMP")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    with pytest.raises(ImageError, match="The image is BMP; accepted are PNG, JPEG, WEBP, GIF"):
        images.from_data_url(url)


def test_truncated_file_is_reported_as_damaged():
    raw = png_bytes(noise(50, 50))
    url = "data:image/png;base64," + base64.b64encode(raw[: len(raw) // 2]).decode()
    with pytest.raises(ImageError, match="damaged or cut short"):
        images.from_data_url(url)


def test_limits_table_names_a_source_for_every_row():
    rows = [limit.describe() for limit in images.LIMITS.values()]
    assert all(row["source"] for row in rows)
    assert {row["service"] for row in rows} >= {"OpenAI API", "Azure OpenAI / AI Foundry", "NVIDIA NIM (hosted)"}
