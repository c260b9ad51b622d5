"""What a new user gets, whichever way they signed up: the steps other apps register.

``accounts`` sits below the apps that give a new user something (``trading`` opens a
paper-money account), so it cannot call them; each registers a step here from its
``AppConfig.ready()`` instead, and every user creation runs them all through
``user_onboard``. This module imports nothing of the project, so ``accounts.models`` can
use it without a cycle.
"""

from __future__ import annotations

from typing import Any, Protocol


class OnboardingStep(Protocol):
    def __call__(self, *, user: Any) -> object: ...


_steps: list[OnboardingStep] = []


def onboarding_step_register(step: OnboardingStep) -> OnboardingStep:
    """Run ``step(user=...)`` for every new user, after the steps registered before it.

    Registering the same step again changes nothing (``ready()`` may run more than once in tests).
    """
    if step not in _steps:
        _steps.append(step)
    return step


def onboarding_steps() -> tuple[OnboardingStep, ...]:
    """The registered steps, in the order they run."""
    return tuple(_steps)


def user_onboard(*, user: Any) -> None:
    """Everything a new user gets, whichever way they signed up.

    Every user creation goes through here, inside the creating transaction:
    ``User.objects.create_user``/``create_superuser`` call it themselves (so
    ``createsuperuser`` onboards too); the provider sign-in and the admin's add
    form, which save a ``User`` directly, call it after the save. A step that
    raises rolls the user back with it.
    """
    for step in _steps:
        step(user=user)
