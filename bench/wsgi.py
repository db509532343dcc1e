"""The app as gunicorn serves it in the bench, plus a hello-world route of the same app: the
baseline for the pages' throughput ratio (same server, same middleware, no database)."""

from __future__ import annotations

from app import create_app
from app.web.access import public

app = create_app()


@app.get("/bench/hello")
@public
def bench_hello():
    return "hello", 200, {"Content-Type": "text/plain; charset=utf-8"}
