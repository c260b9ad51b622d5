import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction


@pytest.mark.django_db
def test_usernames_are_unique_in_the_database(request):
    User = get_user_model()
    User.objects.create_user("alice", password="correct-horse-9")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="alice")
    assert User.objects.filter(username="alice").count() == 1
    # Proves which database this pass really ran on.
    expected = {"sqlite": "sqlite", "postgres": "postgresql"}[request.config.getoption("--db")]
    assert connection.vendor == expected
