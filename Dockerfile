# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /src
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/belfry
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app app
COPY migrations migrations
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --create-home belfry
COPY --from=build /opt/belfry /opt/belfry
ENV PATH=/opt/belfry/bin:$PATH BELFRY_DATA_DIR=/data PYTHONUNBUFFERED=1
USER belfry
WORKDIR /data
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"]
# `serve` applies pending migrations before it starts listening.
CMD ["belfry", "serve", "--host", "0.0.0.0", "--port", "8000"]
