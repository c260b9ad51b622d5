"""Every write about users: creation, onboarding, provider sign-in, tokens, deactivation."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import events, onboarding
from accounts.models import ApiToken, Identity, User

TOKEN_PREFIX = "sct_"  # noqa: S105 (a label, not a secret)
USERNAME_MAX = 150
_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")
GROUP_NAME_MAX = 150

ERROR_CLAIMS_NO_SUBJECT = "The provider's token names no usable subject (sub)."
ERROR_CLAIMS_BAD_GROUPS = "The provider's groups claim is not a list of names."


def user_create_local(*, username: str, email: str, password: str) -> User:
    """A user who signs in with a password here, onboarded (``create_user`` does it)."""
    return get_user_model().objects.create_user(username=username, email=email, password=password)


def _username_base(claims: Mapping[str, Any]) -> str:
    for key in ("preferred_username", "cognito:username", "email", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            if key == "email":
                value = value.split("@", 1)[0]
            cleaned = _USERNAME_UNSAFE.sub("", value.strip())[: USERNAME_MAX - 8]
            if cleaned:
                return cleaned
    return "user"


def _username_candidates(base: str) -> Iterable[str]:
    yield base
    for n in range(2, 10):
        yield f"{base}-{n}"
    while True:
        yield f"{base}-{secrets.token_hex(3)}"


def _groups_from_claims(claims: Mapping[str, Any]) -> list[str]:
    raw = claims.get(settings.OIDC_GROUPS_CLAIM, [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise ValueError(ERROR_CLAIMS_BAD_GROUPS)
    return sorted({name.strip()[:GROUP_NAME_MAX] for name in raw if name.strip()})


def user_groups_sync(*, user: User, group_names: list[str]) -> None:
    """Make the user's groups and admin flags exactly what the provider says.

    The provider is the source of truth for its users: a group removed there is
    removed here at the next sign-in, and so is the staff or superuser flag.
    """
    groups = [Group.objects.get_or_create(name=name)[0] for name in group_names]
    user.groups.set(groups)
    names = set(group_names)
    user.is_superuser = bool(names & set(settings.STOCKCHAT_SUPERUSER_GROUPS))
    user.is_staff = user.is_superuser or bool(names & set(settings.STOCKCHAT_STAFF_GROUPS))


def _profile_from_claims(user: User, claims: Mapping[str, Any]) -> None:
    email = claims.get("email")
    if isinstance(email, str) and (claims.get("email_verified", True) in (True, "true")):
        user.email = email[:254]
    for claim, field in (("given_name", "first_name"), ("family_name", "last_name")):
        value = claims.get(claim)
        if isinstance(value, str):
            setattr(user, field, value[:150])


@transaction.atomic
def user_from_oidc_claims(*, issuer: str, claims: Mapping[str, Any]) -> User:
    """The user bound to (issuer, sub), created and onboarded on first sign-in.

    Precondition: ``claims`` come from an ID token whose signature, issuer,
    audience, expiry and nonce were verified.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255 or not subject.isprintable():
        raise ValueError(ERROR_CLAIMS_NO_SUBJECT)
    group_names = _groups_from_claims(claims)
    identity = (
        Identity.objects.select_related("user").select_for_update().filter(issuer=issuer, subject=subject).first()
    )
    if identity is None:
        try:
            with transaction.atomic():
                user = _user_create_for_identity(claims)
                identity = Identity.objects.create(user=user, issuer=issuer, subject=subject)
                onboarding.user_onboard(user=user)
        except IntegrityError:
            # A concurrent first sign-in of the same person won the race; use its user.
            identity = Identity.objects.select_related("user").select_for_update().get(issuer=issuer, subject=subject)
    user = identity.user
    _profile_from_claims(user, claims)
    user_groups_sync(user=user, group_names=group_names)
    user.save()
    identity.last_seen_at = timezone.now()
    identity.save(update_fields=["last_seen_at"])
    return user


def _user_create_for_identity(claims: Mapping[str, Any]) -> User:
    model = get_user_model()
    for candidate in _username_candidates(_username_base(claims)):
        if model.objects.filter(username__iexact=candidate).exists():
            continue
        try:
            with transaction.atomic():
                user = model(username=candidate)
                user.set_unusable_password()
                user.save()
                return user
        except IntegrityError:
            continue  # taken by a concurrent sign-in between the check and the insert
    raise AssertionError("unreachable: the candidate generator never ends")


@transaction.atomic
def user_deactivate(*, user: User) -> None:
    """Refuse every future sign-in and close the user's open sockets.

    Existing sessions stop working at once: Django's backends ignore inactive users.
    """
    user.is_active = False
    user.save(update_fields=["is_active"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    events.sockets_close_for_user(user.pk)


def user_signed_out(*, session_key: str | None) -> None:
    """Close the sockets that the ended browser session opened."""
    if session_key:
        events.sockets_close_for_session(session_key)


def user_password_changed(*, user: User, session_key_before: str | None, session_key_after: str | None) -> None:
    """Close the user's session sockets except those of the session that changed the password.

    Django has already ended the other sessions (their auth hash no longer
    matches) and given this one a new key (``update_session_auth_hash``); the
    open sockets of this session follow the new key so that signing out still
    closes them.
    """
    if session_key_before and session_key_after and session_key_before != session_key_after:
        events.sockets_follow_new_session_key(session_key_before, session_key_after)
    events.sockets_close_for_user(
        user.pk, events.REASON_PASSWORD_CHANGED, keep_session_key=session_key_before or "", sessions_only=True
    )


def user_password_reset(*, user: User) -> None:
    """Close every session socket of the user whose password was reset (by e-mail link or by an admin).

    Personal API tokens stay valid (revoke them on the tokens page), and so do their sockets.
    """
    events.sockets_close_for_user(user.pk, events.REASON_PASSWORD_RESET, sessions_only=True)


def _token_hash(token: str) -> str:
    # The secret is 32 random bytes: a fast hash is enough, nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new personal token; the returned string is the only time the secret exists in clear."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = f"{TOKEN_PREFIX}{prefix}_{secret}"
    record = ApiToken.objects.create(
        user=user, name=name.strip()[:100] or "token", prefix=prefix, secret_hash=_token_hash(token)
    )
    return record, token


@transaction.atomic
def api_token_revoke(*, user: User, prefix: str) -> bool:
    """Revoke one of ``user``'s tokens and close its open sockets; False when there is no such active token."""
    token = ApiToken.objects.select_for_update().filter(user=user, prefix=prefix, revoked_at__isnull=True).first()
    if token is None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    events.sockets_close_for_api_token(token.pk)
    return True


def api_token_check(raw: str) -> ApiToken | None:
    """The active token that ``raw`` is, with its user, or None. Records its use at most once a minute."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    record = ApiToken.objects.select_related("user").filter(prefix=prefix, revoked_at__isnull=True).first()
    if record is None or not secrets.compare_digest(record.secret_hash, _token_hash(raw)):
        return None
    now = timezone.now()
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        record.last_used_at = now
    return record
