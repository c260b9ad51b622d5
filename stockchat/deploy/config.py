"""Deployment settings computed from the environment: storages and the CSP sources they imply.

``stockchat/settings.py`` calls these; they take the environment mapping so
that they can be read (and tested) without touching ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from core.env import env_int, env_str

MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # the longest SigV4 allows


@dataclass(frozen=True)
class StorageConfig:
    storages: dict
    static_url: str | None = None  # None: keep the local STATIC_URL
    static_origins: list[str] = field(default_factory=list)
    media_origins: list[str] = field(default_factory=list)


def storage_config(environ: Mapping[str, str], *, debug: bool) -> StorageConfig:
    """Static files and uploads: local by default, on S3 when the bucket variables are set.

    ``AWS_STORAGE_BUCKET_NAME`` puts static files (hashed names, manifest) under
    ``static/`` in a bucket read publicly through its policy or CloudFront;
    ``AWS_MEDIA_BUCKET_NAME`` puts uploads under ``media/`` in a private bucket
    read through presigned URLs. Credentials come from boto3's usual chain
    (task role, instance profile, AWS_ACCESS_KEY_ID...), never from settings.
    """
    static_bucket = env_str(environ, "AWS_STORAGE_BUCKET_NAME")
    media_bucket = env_str(environ, "AWS_MEDIA_BUCKET_NAME")
    cloudfront = env_str(environ, "AWS_CLOUDFRONT_DOMAIN")
    endpoint = env_str(environ, "AWS_S3_ENDPOINT_URL").rstrip("/")
    region = env_str(environ, "AWS_S3_REGION_NAME") or env_str(environ, "AWS_REGION")
    expire = env_int(environ, "AWS_MEDIA_URL_EXPIRE", 300)

    if cloudfront and not static_bucket:
        raise ImproperlyConfigured("AWS_CLOUDFRONT_DOMAIN needs AWS_STORAGE_BUCKET_NAME (the bucket behind it).")
    if "/" in cloudfront or ":" in cloudfront:
        raise ImproperlyConfigured("AWS_CLOUDFRONT_DOMAIN is a host name only, e.g. d111111abcdef8.cloudfront.net.")
    if endpoint and not endpoint.startswith(("https://", "http://")):
        raise ImproperlyConfigured("AWS_S3_ENDPOINT_URL must start with https:// or http://.")
    if not 1 <= expire <= MAX_PRESIGN_SECONDS:
        raise ImproperlyConfigured(f"AWS_MEDIA_URL_EXPIRE must be between 1 and {MAX_PRESIGN_SECONDS} seconds.")
    if (static_bucket or media_bucket) and not region:
        raise ImproperlyConfigured("AWS_S3_REGION_NAME (or AWS_REGION) must be set when an S3 bucket is configured.")

    def s3_options(bucket: str) -> dict:
        options = {
            "bucket_name": bucket,
            "region_name": region,
            "default_acl": None,
            "signature_version": "s3v4",
            "addressing_style": "virtual",
        }
        if endpoint:
            # An S3-compatible server (tests, MinIO, SeaweedFS) addresses buckets by path.
            options.update(endpoint_url=endpoint, addressing_style="path")
        return options

    def bucket_scheme_and_host(bucket: str) -> tuple[str, str]:
        """URL scheme and host (plus path prefix on S3-compatible servers) of a bucket's objects."""
        if endpoint:
            scheme, _, rest = endpoint.partition("://")
            return f"{scheme}:", f"{rest}/{bucket}"
        return "https:", f"{bucket}.s3.{region}.amazonaws.com"

    def origin(scheme: str, host: str) -> str:
        return f"{scheme}//{host.split('/')[0]}"

    static_url, static_origins, media_origins = None, [], []
    if static_bucket:
        scheme, host = ("https:", cloudfront) if cloudfront else bucket_scheme_and_host(static_bucket)
        static_backend = {
            "BACKEND": "stockchat.deploy.storage.StaticS3Storage",
            "OPTIONS": {
                **s3_options(static_bucket),
                "location": "static",
                # Plain URLs (no signing): the bucket policy or CloudFront grants the reads.
                "custom_domain": host,
                "url_protocol": scheme,
                "querystring_auth": False,
                # Hashed names never change content: browsers may keep them for a year.
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        }
        static_url, static_origins = f"{scheme}//{host}/static/", [origin(scheme, host)]
    elif debug:
        static_backend = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    else:
        static_backend = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}

    if media_bucket:
        media_backend = {
            "BACKEND": "stockchat.deploy.storage.PrivateMediaS3Storage",
            "OPTIONS": {**s3_options(media_bucket), "location": "media", "querystring_expire": expire},
        }
        media_origins = [origin(*bucket_scheme_and_host(media_bucket))]
        if not endpoint:
            # boto3 may sign us-east-1 URLs for the global endpoint.
            media_origins.append(f"https://{media_bucket}.s3.amazonaws.com")
    else:
        media_backend = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

    return StorageConfig(
        storages={"default": media_backend, "staticfiles": static_backend},
        static_url=static_url,
        static_origins=static_origins,
        media_origins=media_origins,
    )


def csp_directives(environ: Mapping[str, str], storage: StorageConfig) -> dict[str, list[str]]:
    """The Content-Security-Policy; the middleware adds this host's ws(s):// to connect-src."""
    static, media = storage.static_origins, storage.media_origins
    cognito = env_str(environ, "COGNITO_DOMAIN")
    return {
        "default-src": ["'self'"],
        "script-src": ["'self'", *static],
        "style-src": ["'self'", *static],
        "img-src": ["'self'", "data:", *static, *media],
        "font-src": ["'self'", *static],
        "media-src": ["'self'", *media],
        # Attachments are uploaded by the browser straight to the media bucket (presigned POST).
        "connect-src": ["'self'", *media],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # Signing out may post to the site and be redirected to Cognito's hosted UI.
        "form-action": ["'self'", *([f"https://{cognito}"] if cognito else [])],
        "frame-ancestors": ["'none'"],
    }


def redis_url_with_password(url: str, password: str) -> str:
    """``REDIS_URL`` with ``REDIS_PASSWORD`` (ElastiCache's AUTH token) put in, URL-encoded.

    On ECS the token comes from Secrets Manager as its own variable, so that the
    URL in the task definition holds no secret. A URL that already carries a
    password keeps it; giving both is refused, as two sources of one secret.
    """
    if not password:
        return url
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured("REDIS_PASSWORD needs a redis:// or rediss:// REDIS_URL.")
    if parts.password is not None:
        raise ImproperlyConfigured("Give the Redis password either in REDIS_URL or as REDIS_PASSWORD, not both.")
    user = quote(parts.username or "", safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))
