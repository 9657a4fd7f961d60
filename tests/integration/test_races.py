"""Two requests on one record at the same moment: a clear answer each, nothing half done.

Real threads on a MariaDB database of the test's own (derived_database), released together
by a barrier, each request through its own test client as from two browser tabs. The
loser of a race on a record that is gone gets the one 404 (the record is not there any
more, as for anyone who asks after); a change the database refuses as stale gets a 409
from the request boundary. Never a 500. Afterwards the data is whole: a deleted product
leaves no photo row, file, movement or group price behind, and a cart line holds one of
the quantities asked for.
"""

import contextlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from config import engine_options
from core.models import (
    Cart,
    CartLine,
    GroupPrice,
    Product,
    ProductPhoto,
    StockMovement,
    User,
)
from core.photos import SUBFOLDER
from extensions import db
from tests.conftest import demo_portal, derived_database, persona_token
from tests.integration.test_orders_concurrency import run_threads

TRIES = 15
ADMIN = "admin@portal.test"
REQUESTER = "request@baltic.test"


@contextlib.contextmanager
def database(kind: str, tmp: Path):
    """The database a race runs on: a MariaDB database of its own, or an SQLite file."""
    if kind == "mariadb":
        with derived_database("races") as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'races.db'}"


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def racing(request, tmp_path_factory):
    """A portal on its own database with the demo and the personas' sessions."""
    tmp = tmp_path_factory.mktemp("races")
    with (
        database(request.param, tmp) as url,
        demo_portal(
            url,
            personas=True,
            SECRET_KEY="races-test",
            UPLOAD_DIR=str(tmp / "uploads"),
            SQLALCHEMY_ENGINE_OPTIONS={**engine_options(url), "pool_size": 8},
        ) as app,
    ):
        yield app


def client_of(app, email: str):
    """A signed-in client holding its CSRF token already (fetched before any race)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = persona_token(email)
        session["_fresh"] = True
    client.csrf_token()
    return client


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def fresh_product(app, tag: str) -> int:
    """A product nothing refers to, with a group price and an opening movement."""
    with app.app_context():
        product = Product(sku=f"RACE-{tag}", name=f"Race {tag}", base_price=Decimal("1.00"))
        db.session.add(product)
        db.session.flush()
        db.session.add(
            StockMovement(product=product, kind="initial", delta=0, stock_before=0, stock_after=0)
        )
        db.session.add(GroupPrice(group_id=1, product_id=product.id, price=Decimal("0.90")))
        db.session.commit()
        return product.id


def statuses(results) -> list:
    """Each request's status, or the exception a 500 raised (TESTING propagates it)."""
    return [r.status_code if hasattr(r, "status_code") else r for r in results]


def leftovers(app, product_id: int) -> dict:
    """What of a product is still stored: rows that name it and its photo files."""
    with app.app_context():
        count = db.session.scalar
        found = {
            "product": count(select(func.count()).where(Product.id == product_id)),
            "photos": count(select(func.count()).where(ProductPhoto.product_id == product_id)),
            "movements": count(select(func.count()).where(StockMovement.product_id == product_id)),
            "group prices": count(select(func.count()).where(GroupPrice.product_id == product_id)),
        }
        db.session.remove()
    return found


def photo_files(app) -> set[str]:
    folder = Path(app.config["UPLOAD_DIR"]) / SUBFOLDER
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def stored_photo_files(app) -> set[str]:
    """The files every stored photo row needs (picture and thumbnail)."""
    from core.photos import thumb_name

    with app.app_context():
        names = db.session.scalars(select(ProductPhoto.filename)).all()
        db.session.remove()
    return {n for name in names for n in (name, thumb_name(name))}


def race(app, requests) -> list:
    """Send the requests at once, each from its own client; their statuses."""
    clients = [client_of(app, email) for email, *_ in requests]

    def work(i):
        _, url, data = requests[i]
        kwargs = {"data": data}
        if any(isinstance(v, tuple) for v in data.values()):
            kwargs["content_type"] = "multipart/form-data"
        return clients[i].send("POST", url, **kwargs)

    return statuses(run_threads(app, len(requests), work))


def assert_clear(answers: list, allowed: set[int]) -> None:
    assert all(isinstance(a, int) for a in answers), f"a request raised: {answers}"
    assert set(answers) <= allowed, answers


def test_archiving_and_deleting_one_product_at_once(racing):
    seen = []
    for attempt in range(TRIES):
        pid = fresh_product(racing, f"A{attempt}")
        answers = race(
            racing,
            [
                (ADMIN, f"/office/products/{pid}/archive", {}),
                (ADMIN, f"/office/products/{pid}/delete", {}),
            ],
        )
        seen.append(answers)
        assert_clear(answers, {302, 404})
        assert answers[1] == 302, "the delete of a product nothing names always goes through"
        assert leftovers(racing, pid) == dict.fromkeys(
            ("product", "photos", "movements", "group prices"), 0
        )
    print("archive/delete answers:", seen)


def test_adding_a_photo_to_a_product_being_deleted(racing):
    seen = []
    for attempt in range(TRIES):
        pid = fresh_product(racing, f"P{attempt}")
        answers = race(
            racing,
            [
                (ADMIN, f"/office/products/{pid}/photos", {"photos": (io.BytesIO(png()), "a.png")}),
                (ADMIN, f"/office/products/{pid}/delete", {}),
            ],
        )
        seen.append(answers)
        assert_clear(answers, {302, 404})
        assert answers[1] == 302
        assert leftovers(racing, pid) == dict.fromkeys(
            ("product", "photos", "movements", "group prices"), 0
        )
        assert photo_files(racing) == stored_photo_files(racing), "an orphan photo file"
    print("photo/delete answers:", seen)


def open_line(app, email: str) -> int:
    """A line of the person's open cart (the demo gives Baltic's requester one)."""
    with app.app_context():
        line_id = db.session.scalar(
            select(CartLine.id)
            .join(Cart, Cart.id == CartLine.cart_id)
            .join(User, User.id == Cart.owner_id)
            .where(User.email == email, Cart.status == "open")
            .order_by(CartLine.id)
        )
        db.session.remove()
    return line_id


def line_quantity(app, line_id: int) -> int | None:
    with app.app_context():
        quantity = db.session.scalar(select(CartLine.quantity).where(CartLine.id == line_id))
        db.session.remove()
    return quantity


def test_two_changes_to_one_cart_line_at_once(racing):
    line_id = open_line(racing, REQUESTER)
    url = f"/shop/cart/lines/{line_id}"
    for attempt in range(TRIES):
        wanted = (3 + attempt, 100 + attempt)
        answers = race(racing, [(REQUESTER, url, {"quantity": str(q)}) for q in wanted])
        assert_clear(answers, {200, 302})
        assert line_quantity(racing, line_id) in wanted


def test_changing_and_removing_one_cart_line_at_once(racing):
    seen = []
    for attempt in range(TRIES):
        with racing.app_context():
            cart = db.session.scalar(
                select(Cart)
                .join(User, User.id == Cart.owner_id)
                .where(User.email == REQUESTER, Cart.status == "open")
            )
            product = db.session.scalars(
                select(Product).where(Product.sold()).order_by(Product.id).offset(50 + attempt)
            ).first()
            line = CartLine(cart_id=cart.id, product_id=product.id, quantity=1)
            db.session.add(line)
            db.session.commit()
            line_id = line.id
            db.session.remove()
        answers = race(
            racing,
            [
                (REQUESTER, f"/shop/cart/lines/{line_id}", {"quantity": "7"}),
                (REQUESTER, f"/shop/cart/lines/{line_id}/remove", {}),
            ],
        )
        seen.append(answers)
        assert_clear(answers, {200, 302, 404})
        assert line_quantity(racing, line_id) is None, "the removal always goes through"
    print("change/remove answers:", seen)
