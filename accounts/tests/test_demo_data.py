import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_ADMIN

pytestmark = pytest.mark.django_db


def snapshot():
    return list(get_user_model().objects.order_by("username").values_list("username", "password", "is_superuser"))


def test_demo_data_loads_once_and_a_second_run_changes_nothing(settings):
    settings.DEBUG = True
    call_command("load_demo_data", verbosity=0)
    first = snapshot()
    assert ("admin", True) in [(name, su) for name, _, su in first]
    admin = get_user_model().objects.get(username=DEMO_ADMIN.username)
    assert admin.check_password(DEMO_ADMIN.password)
    assert admin.is_staff
    call_command("load_demo_data", verbosity=0)
    assert snapshot() == first


def test_demo_data_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published passwords"):
        call_command("load_demo_data")
    assert snapshot() == []
