from __future__ import annotations

from django.apps import AppConfig


class DeployConfig(AppConfig):
    # Listed before django.contrib.staticfiles so that its collectstatic, which
    # skips files whose content S3 already holds, is the one manage.py runs.
    name = "stockchat.deploy"
    label = "stockchat_deploy"
    verbose_name = "stockchat deployment"
