"""The web import row: the reviews file uploaded through gunicorn (2 workers, the default
30 s worker timeout), previewed, confirmed and applied, timed from the upload to 'applied'."""

from __future__ import annotations

import http.client
import re
import time
import uuid
from urllib.parse import urlencode

from bench import data, load
from bench.measure import Bench
from bench.queries import csrf_token
from bench.report import errored, judged, seconds
from bench.web import Client, gunicorn

TARGET = "< 60 s"
POLL_SECONDS = 0.5


def measure_web_import(bench: Bench) -> None:
    """Leaves the reviews imported, as the CLI import before it did."""
    what = f"web import of the reviews file ({bench.files.review_rows:,} rows), upload to applied"
    runs = []
    try:
        with gunicorn(bench.db) as port:
            client = Client(port).sign_in(data.PROGRAMME_EMAIL)
            for _ in range(bench.runs):
                load.reset_reviews(bench.app)
                runs.append(_one_import(client, bench.files.reviews.read_bytes()))
    except Exception as exc:
        bench.report.add(errored(what, TARGET, exc))
        return
    bench.report.add(judged(what, TARGET, runs, seconds, lambda v: v < 60, bench.judge))


def _one_import(client: Client, payload: bytes) -> float:
    started = time.perf_counter()
    status, html = client.get("/imports")
    if status != 200:
        raise RuntimeError(f"GET /imports gave HTTP {status}")
    location = _upload(client, csrf_token(html), payload)
    html = _wait(client, location, "What this file would do")
    sha = re.search(r'name="sha256"[^>]*value="([0-9a-f]{64})"', html)
    if sha is None:
        raise RuntimeError("the preview page has no confirm form")
    form = {"csrf_token": csrf_token(html), "sha256": sha.group(1)}
    status, _ = client.request("POST", location + "/confirm", urlencode(form))
    if status != 303:
        raise RuntimeError(f"confirming gave HTTP {status}")
    _wait(client, location, "What the import did")
    return time.perf_counter() - started


def _upload(client: Client, token: str, payload: bytes) -> str:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nreviews\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="reviews.csv"'
        "\r\nContent-Type: text/csv\r\n\r\n",
    ]
    body = "".join(parts).encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=120)
    headers = {
        "Host": f"127.0.0.1:{client.port}",
        "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    try:
        conn.request("POST", "/imports", body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        if response.status != 303:
            raise RuntimeError(f"the upload gave HTTP {response.status}: {text[-300:]}")
        return response.headers["Location"].split("127.0.0.1:" + str(client.port))[-1]
    finally:
        conn.close()


def _wait(client: Client, path: str, heading: str, limit: float = 600) -> str:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        status, html = client.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} gave HTTP {status}")
        if heading in html:
            return html
        if "Nothing was imported" in html:
            raise RuntimeError("the import failed: " + re.sub(r"<[^>]+>", " ", html)[-300:])
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{path} did not show '{heading}' within {limit:.0f} s")
