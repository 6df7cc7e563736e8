from django.db import models

from certmate.fields import EncryptedTextField


class Vault(models.Model):
    name = models.CharField(max_length=100)
    secret = EncryptedTextField()
    other_secret = EncryptedTextField(null=True, blank=True)


class TaskRun(models.Model):
    """Written by the test task: which schema the worker ran it in."""

    label = models.CharField(max_length=100)
    schema_seen = models.CharField(max_length=63)
    created_at = models.DateTimeField(auto_now_add=True)
