"""The release step (docker/release.sh): what it runs, in which order, and the first administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from stockchat.deploy.tests.containers import run

# A stand-in for python that records each manage.py command it is asked to run.
FAKE_PYTHON = """#!/bin/sh
printf '%s\\n' "$*" >> "$CALLS"
"""


@pytest.fixture
def recorded(container_env, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    container_env.update(PATH=f"{bin_dir}:{container_env['PATH']}", CALLS=str(calls))

    def release(**env: str) -> list[str]:
        result = run({**container_env, **env}, "release")
        assert result.returncode == 0, result.stderr
        return calls.read_text().splitlines() if calls.exists() else []

    return release


def test_a_bare_release_only_migrates(recorded):
    assert recorded() == ["manage.py migrate --noinput"]


def test_a_full_release_opens_the_site_with_stocks_prices_and_an_admin(recorded):
    steps = recorded(
        AWS_STORAGE_BUCKET_NAME="stockchat-static",
        STOCKCHAT_RELEASE_LISTING="trading/data/listing.csv",
        STOCKCHAT_RELEASE_PRICES="prices/daily.csv prices/more.csv",
        DJANGO_SUPERUSER_USERNAME="admin",
    )
    assert steps == [
        "manage.py migrate --noinput",
        "manage.py collectstatic --noinput",
        "manage.py import_assets trading/data/listing.csv",
        "manage.py import_prices prices/daily.csv prices/more.csv",
        "manage.py create_first_admin",
    ]


def test_a_failed_step_fails_the_release(container_env, tmp_path):
    # Nothing after a failure runs, and the exit code tells the deploy to stop.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text(
        '#!/bin/sh\nprintf "%s\\n" "$*" >> "$CALLS"\ncase "$*" in *import_assets*) exit 3;; esac\n'
    )
    (bin_dir / "python").chmod(0o755)
    calls = tmp_path / "calls"
    env = {**container_env, "PATH": f"{bin_dir}:{container_env['PATH']}", "CALLS": str(calls)}
    result = run({**env, "STOCKCHAT_RELEASE_LISTING": "x.csv", "DJANGO_SUPERUSER_USERNAME": "admin"}, "release")
    assert result.returncode == 3
    assert calls.read_text().splitlines()[-1] == "manage.py import_assets x.csv"


ADMIN_ENV = {
    "DJANGO_SUPERUSER_USERNAME": "root",
    "DJANGO_SUPERUSER_EMAIL": "root@example.com",
    "DJANGO_SUPERUSER_PASSWORD": "a long and unusual passphrase 7",
}


@pytest.mark.django_db
def test_the_first_admin_is_created_once_and_never_reset(monkeypatch):
    for name, value in ADMIN_ENV.items():
        monkeypatch.setenv(name, value)
    call_command("create_first_admin")
    admin = get_user_model().objects.get(username="root")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.check_password(ADMIN_ENV["DJANGO_SUPERUSER_PASSWORD"])
    admin.set_password("changed in the admin afterwards")
    admin.save()
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "another")
    call_command("create_first_admin")  # a later deploy
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
    admin.refresh_from_db()
    assert admin.check_password("changed in the admin afterwards")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"DJANGO_SUPERUSER_PASSWORD": ""}, "Set DJANGO_SUPERUSER_PASSWORD"),
        ({"DJANGO_SUPERUSER_PASSWORD": "password"}, "DJANGO_SUPERUSER_PASSWORD is refused"),
    ],
)
def test_a_missing_or_weak_password_creates_no_admin(monkeypatch, override, message):
    for name, value in {**ADMIN_ENV, **override}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(CommandError, match=message):
        call_command("create_first_admin")
    assert not get_user_model().objects.exists()


def test_the_release_runs_the_first_admin_with_the_real_commands(container_env, tmp_path):
    result = run({**container_env, **ADMIN_ENV}, "release")
    assert result.returncode == 0, result.stderr
    assert "Superuser 'root' created." in result.stdout
    again = run({**container_env, **ADMIN_ENV}, "release")
    assert "A superuser exists already; nothing changed." in again.stdout
    code = "from accounts.models import User; print(User.objects.filter(is_superuser=True).count())"
    count = run(container_env, "manage", "shell", "-c", code)
    assert count.stdout.strip().splitlines()[-1] == "1", count.stderr
