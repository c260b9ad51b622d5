# syntax=docker/dockerfile:1
# stockchat: one image for the web process (default), the market feed worker
# and the one-off release step (migrations, static files); see docker/entrypoint.sh.
#
# Build for the platform the tasks run on (docs/deploy.md):
#   docker buildx build --platform linux/amd64 -t stockchat .    (or linux/arm64)

# The official Python image through Amazon ECR Public's mirror of Docker Hub's
# library (no anonymous pull limit, as Docker Hub has on build hosts such as
# Elastic Beanstalk instances), pinned by digest so every build starts from the
# same bytes. The digest is the multi-platform index of the tag; refresh it with
#   docker buildx imagetools inspect public.ecr.aws/docker/library/python:3.11-slim-bookworm
ARG PYTHON_IMAGE=public.ecr.aws/docker/library/python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

FROM ${PYTHON_IMAGE} AS runtime
# The feed worker touches the heartbeat file after each recorded tick; the
# health check (docker/healthcheck.py) reads its age.
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=stockchat.settings \
    PORT=8000 \
    STOCKCHAT_FEED_HEARTBEAT_FILE=/tmp/stockchat-feed-heartbeat
# A fixed numeric id, so that orchestrators can check it is not root.
RUN groupadd --system --gid 10001 stockchat \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin stockchat
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=10001:10001 . /app
# Static files are collected into the image (hashed names, compressed) for
# when they are served by the app. The placeholder key and host exist only for
# this build step; at run time the real ones must be given or the process
# refuses to start. With AWS_STORAGE_BUCKET_NAME set at run time, the release
# step uploads them to S3 instead.
RUN DJANGO_SECRET_KEY=collectstatic-build-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --verbosity 0
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "/app/docker/healthcheck.py"]
# No CMD: the entrypoint runs $STOCKCHAT_PROCESS, or web when that is unset.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
