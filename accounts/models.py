from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models, transaction

from accounts import onboarding


class UserManager(DjangoUserManager):
    """Django's manager, except that ``create_user`` and ``create_superuser`` onboard the new user.

    ``manage.py createsuperuser``, the shell and scripts create users through
    these methods; they get what every other new user gets (the steps other apps
    register in ``accounts.onboarding``, such as trading's paper-money account), in the
    same transaction as the user row.
    """

    def _create_user(self, username, email, password, **extra_fields):
        with transaction.atomic(using=self._db):
            user = super()._create_user(username, email, password, **extra_fields)
            onboarding.user_onboard(user=user)
        return user

    async def _acreate_user(self, username, email, password, **extra_fields):
        return await sync_to_async(self._create_user)(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in, locally or through an OpenID Connect provider.

    A project-owned user model from the start, so that fields can be added
    without the painful swap Django warns about.
    """

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Identity(models.Model):
    """A user's account at an identity provider: the issuer and the subject (``sub``).

    Sign-in finds users through this pair only, never by e-mail address: an
    address can change at the provider, or be claimed by someone else there.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="identity_unique_issuer_subject")]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class ApiToken(models.Model):
    """A personal token for scripts: ``sct_<prefix>_<secret>``, stored as a SHA-256 hash.

    The whole token is shown once when it is made. The prefix is stored in
    clear so that a token can be recognised in lists and logs.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (sct_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
