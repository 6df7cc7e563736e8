from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """A tenant app installed only under test settings: a model holding a secret and a task."""

    name = "tests.testapp"
    label = "testapp"
