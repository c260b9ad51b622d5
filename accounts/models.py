from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A person who signs in, locally or through an OpenID Connect provider.

    A project-owned user model from the start, so that fields can be added
    without the painful swap Django warns about.
    """

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
