"""Remake the README screenshots: `.venv/bin/python docs/screenshot.py` (needs Chromium)."""

import tempfile
import threading
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

import demo
from app import create_app

HERE = Path(__file__).resolve().parent
SHOTS = (
    ("orders@acme.test", "/shop/?category=microcontrollers", "storefront.png"),
    ("manager@portal.test", "/office/products?q=STM32", "back-office.png"),
)


def main() -> None:
    """Serve a fresh demo database and photograph each face as one of its people."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/demo.db", "SECRET_KEY": "screenshot"})
        with app.app_context():
            upgrade()
            demo.load()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            for email, path, name in SHOTS:
                page = browser.new_page(viewport={"width": 1280, "height": 820})
                page.goto(f"{base}/login")
                page.fill("input[name=email]", email)
                page.fill("input[name=password]", demo.PASSWORD)
                page.click("button[type=submit]")
                page.goto(f"{base}{path}")
                page.screenshot(path=str(HERE / name))
                page.close()
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
