"""Serving stored product photos to both faces, within what each viewer may see."""

from flask import current_app, send_file
from flask_login import current_user

from blueprints.common import or_404
from core import access, photos
from core.errors import NotFound
from core.models import Product
from extensions import db


def send_photo(name: str):
    """A stored photo or thumbnail of a product this person may see; 404 otherwise.

    The type comes from what was stored (it was decoded and re-encoded), never from the
    name; nosniff and a sandboxing CSP keep a browser from treating it as anything else.
    """
    photo, thumbnail = or_404(photos.find(name))
    owner = or_404(db.session.get(Product, photo.product_id))
    path = photos.file_of(current_app.config["UPLOAD_DIR"], photo, thumbnail)
    if not access.may_see_product(current_user, owner) or not path.is_file():
        raise NotFound()
    response = send_file(path, mimetype=photo.content_type, conditional=True, etag=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Content-Disposition"] = "inline"
    return response
