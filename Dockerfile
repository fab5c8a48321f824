# minilogin as a container: installed exactly from uv.lock, run as an unprivileged user.
# Build: docker build -t minilogin .   Run: see compose.yaml and the README's "Operate".
FROM python:3.11-slim-bookworm

# The uv the Makefile pins, so the image resolves nothing the lock does not name.
RUN pip install --no-cache-dir uv==0.13.10

WORKDIR /app
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH \
    MINILOGIN_DATA_DIR=/data \
    PYTHONUNBUFFERED=1

# The dependencies first, in a layer of their own: a change to the code does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache
COPY README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev --no-editable --no-cache

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin minilogin \
    && mkdir -p /data \
    && chown minilogin /data
USER minilogin
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]

CMD ["minilogin", "serve", "--host", "0.0.0.0", "--port", "8000"]
