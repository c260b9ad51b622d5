# syntax=docker/dockerfile:1
# stockchat: one image for the web process (default) and the market feed worker.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm AS runtime
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=stockchat.settings \
    PORT=8000
RUN groupadd --system stockchat && useradd --system --gid stockchat --home-dir /app --shell /usr/sbin/nologin stockchat
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=stockchat:stockchat . /app
# Static files are collected into the image (hashed names, compressed). The
# placeholder key and host exist only for this build step; at run time the
# real ones must be given or the process refuses to start.
RUN DJANGO_SECRET_KEY=collectstatic-build-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --verbosity 0
USER stockchat
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4)" || exit 1
CMD ["sh", "-c", "exec daphne --bind 0.0.0.0 --port \"$PORT\" --proxy-headers stockchat.asgi:application"]
