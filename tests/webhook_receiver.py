"""A real HTTPS receiver of webhooks on 127.0.0.1, for the tests.

It serves TLS with a certificate made for 127.0.0.1 (cryptography, self-signed); the
portal trusts it through WEBHOOK_CA_FILE, as a receiver with a private authority would be
trusted in production. Each request is kept with its headers and body; `answer` sets the
status it replies with, and `on_receive(request)` runs inside the request (the tests look
at the database from there, to prove a message comes after its commit).
"""

import datetime
import ipaddress
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "receiver.pem", folder / "receiver.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    seen: object = None  # what on_receive returned


@dataclass
class Receiver:
    url: str
    ca_file: str
    received: list[Received] = field(default_factory=list)
    answer: int = 200
    on_receive: object = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait (for a condition, not a time) until `count` messages have come."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def clear(self) -> None:
        with self._changed:
            self.received.clear()


@contextmanager
def receiving(app, folder: Path, monkeypatch):
    """A receiver the app may send to: private addresses allowed, its certificate trusted."""
    found, stop = serve(folder)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    monkeypatch.setitem(app.config, "WEBHOOK_CA_FILE", found.ca_file)
    try:
        yield found
    finally:
        stop()


def serve(folder: Path):
    """Start a receiver; returns (receiver, stop)."""
    cert_path, key_path = make_certificate(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    holder: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            receiver = holder["receiver"]
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            if receiver.on_receive is not None:
                request.seen = receiver.on_receive(request)
            status = receiver.answer
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            reply = b"ok" if status < 300 else b"not today"
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            with receiver._changed:
                receiver.received.append(request)
                receiver._changed.notify_all()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    holder["receiver"] = Receiver(f"https://127.0.0.1:{port}/hooks", str(cert_path))
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()
        thread.join(5)

    return holder["receiver"], stop
