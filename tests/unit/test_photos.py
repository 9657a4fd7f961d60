"""Photo checks: what is accepted is decoded, re-encoded without metadata and thumbnailed;
everything else is refused with a message that names the file and what it really is."""

import io
import re

import pytest
from PIL import Image

from core import photos
from core.photos import PhotoRefused, Upload

LIMIT = 40_000_000


def picture(fmt: str, size=(64, 48), mode="RGB", color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def exif(orientation: int) -> bytes:
    data = Image.Exif()
    data[0x0112] = orientation  # Orientation
    data[0x010F] = "Secret Camera Co."  # Make
    data[0x0131] = "Editor 9.1"  # Software
    return data.tobytes()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")],
)
def test_the_three_formats_are_accepted_and_re_encoded(fmt, content_type, extension):
    encoded = photos.encode(Upload("part.bin", picture(fmt)), max_pixels=LIMIT)
    assert (encoded.format, encoded.content_type, encoded.extension) == (
        fmt,
        content_type,
        extension,
    )
    assert (encoded.width, encoded.height) == (64, 48)
    assert decoded(encoded.picture).format == fmt
    assert decoded(encoded.thumbnail).size == (64, 48)  # never scaled up


def test_large_pictures_are_scaled_down_and_the_thumbnail_fits_320():
    encoded = photos.encode(Upload("big.jpg", picture("JPEG", (3200, 1600))), max_pixels=LIMIT)
    assert (encoded.width, encoded.height) == (1600, 800)
    assert decoded(encoded.thumbnail).size == (320, 160)


def test_exif_orientation_is_applied_and_every_tag_is_dropped():
    upload = Upload("phone.jpg", picture("JPEG", (80, 40), exif=exif(6)))
    assert Image.open(io.BytesIO(upload.data)).getexif()[0x010F] == "Secret Camera Co."
    encoded = photos.encode(upload, max_pixels=LIMIT)
    assert (encoded.width, encoded.height) == (40, 80)  # rotated upright
    for data in (encoded.picture, encoded.thumbnail):
        image = decoded(data)
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info and "icc_profile" not in image.info
        assert b"Secret Camera" not in data and b"Editor 9.1" not in data


def test_png_text_chunks_are_dropped_and_transparency_kept():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone Private")
    data = picture("PNG", mode="RGBA", color=(0, 0, 255, 0), pnginfo=info)
    assert b"Someone Private" in data
    encoded = photos.encode(Upload("logo.png", data), max_pixels=LIMIT)
    assert b"Someone Private" not in encoded.picture
    assert decoded(encoded.picture).mode == "RGBA"


def test_cmyk_jpeg_becomes_rgb():
    encoded = photos.encode(
        Upload("print.jpg", picture("JPEG", mode="CMYK", color=(0, 50, 50, 0))), max_pixels=LIMIT
    )
    assert decoded(encoded.picture).mode == "RGB"


def gif() -> bytes:
    return picture("GIF", mode="P", color=1)


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.png", b"just some text, not a picture at all\n" * 4, "not a picture we can read"),
        ("anim.gif", None, "is a GIF"),
        ("drawing.svg", SVG, "an SVG drawing"),
        ("photo.png", b"<svg onload=alert(1)>", "an SVG drawing"),
        ("scan.bmp", None, "a BMP"),
        ("cut.png", None, "a damaged or incomplete PNG"),
        ("cut.jpg", None, "a damaged or incomplete JPEG"),
    ],
)
def test_what_is_not_a_jpeg_png_or_webp_is_refused_by_content(name, data, message):
    if data is None:
        data = {
            "anim.gif": gif(),
            "scan.bmp": picture("BMP"),
            "cut.png": picture("PNG", (300, 300))[:200],
            "cut.jpg": picture("JPEG", (300, 300))[:300],
        }[name]
    with pytest.raises(PhotoRefused, match=message) as refused:
        photos.encode(Upload(name, data), max_pixels=LIMIT)
    assert name in str(refused.value)
    assert "JPEG, PNG or WebP" in str(refused.value)


def test_a_gif_renamed_to_jpg_is_still_refused():
    with pytest.raises(PhotoRefused, match="is a GIF"):
        photos.encode(Upload("holiday.jpg", gif()), max_pixels=LIMIT)


def test_pixel_bombs_are_refused_before_their_pixels_are_read():
    # 10,000 by 10,000 of one colour: a few hundred KB as PNG, 300 MB once decoded.
    data = picture("PNG", (10_000, 10_000), mode="L", color=0)
    assert len(data) < 1_000_000
    with pytest.raises(
        PhotoRefused, match=r"“bomb.png” has too many pixels: at most 40 megapixels"
    ):
        photos.encode(Upload("bomb.png", data), max_pixels=LIMIT)
    with pytest.raises(PhotoRefused, match=re.escape("at most 0.001 megapixels")):
        photos.encode(Upload("small.png", picture("PNG", (40, 40))), max_pixels=1_000)


def test_a_very_long_strip_is_refused_by_its_side():
    with pytest.raises(PhotoRefused, match="12,000 pixels a side"):
        photos.encode(
            Upload("strip.png", picture("PNG", (13_000, 1), mode="L", color=0)), max_pixels=LIMIT
        )


def test_animated_pictures_are_refused():
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    with pytest.raises(PhotoRefused, match="animated"):
        photos.encode(Upload("spin.webp", out.getvalue()), max_pixels=LIMIT)


def test_reading_stops_past_the_size_limit():
    stream = io.BytesIO(b"x" * 2000)
    with pytest.raises(PhotoRefused, match=re.escape("“big.png” is larger than 1 KB")):
        photos.read(stream, "big.png", 1024)
    assert stream.tell() == 1025  # never read the whole thing
    with pytest.raises(PhotoRefused, match=re.escape("“empty.png” is empty")):
        photos.read(io.BytesIO(b""), "empty.png", 1024)
    assert photos.read(io.BytesIO(b"abc"), "C:\\Users\\me\\a.png", 1024).name == "a.png"


@pytest.mark.parametrize(
    "name",
    [
        "../secret.png",
        "x/../../app.py",
        "0123456789abcdef0123456789abcdef.svg",
        "0123456789ABCDEF0123456789ABCDEF.png",
        "0123456789abcdef0123456789abcdef.png.part",
        "",
    ],
)
def test_served_names_must_be_generated_ones(name):
    assert photos.NAME.fullmatch(name) is None


def test_thumbnail_names():
    assert photos.thumb_name("0123456789abcdef0123456789abcdef.webp") == (
        "0123456789abcdef0123456789abcdef-thumb.webp"
    )
    assert photos.NAME.fullmatch(photos.thumb_name("0123456789abcdef0123456789abcdef.webp"))


@pytest.mark.parametrize(("n", "label"), [(5 * 1024 * 1024, "5 MB"), (512 * 1024, "512 KB")])
def test_size_labels(n, label):
    assert photos.size_label(n) == label
