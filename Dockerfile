# reconcile watch in a container (docs/watch.md). Build: docker build -t codat-reconcile .
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconcile ./reconcile
COPY schemas ./schemas
RUN pip install . && rm -rf /src

# An unprivileged user; its home holds .reconcile/ (the record of registered webhook consumers).
RUN useradd --create-home --uid 10001 reconcile
USER reconcile
WORKDIR /home/reconcile

# Mount the desired files at /config/customers (read-only). Secrets: CODAT_API_KEY_FILE and
# CODAT_WEBHOOK_SECRET_FILE naming mounted files. Put HTTPS in front of port 8787.
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=3s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8787/healthz', timeout=2)"
STOPSIGNAL SIGTERM
ENTRYPOINT ["reconcile", "watch"]
CMD ["/config/customers", "--listen", "0.0.0.0:8787"]
