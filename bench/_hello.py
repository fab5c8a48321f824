"""A FastAPI hello-world, the unit of every server-CPU figure in ``bench/`` (not a benchmark:
``run.py`` skips ``_`` files). It runs under the uvicorn settings ``minilogin dev`` and
``serve`` use where they cost CPU (uvicorn picks the same event loop and HTTP parser for both;
no access log; warnings only), so that a ratio to it is the server's own work beside the
framework's least.

    python bench/_hello.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
    )
