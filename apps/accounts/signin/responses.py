"""The answer to a sign-in refused because of too many failures: 429, saying when to try again."""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse


def lockout_message(request: HttpRequest) -> tuple[str, int]:
    """The message and the seconds to wait. Every refused attempt counts as a failure and starts the
    cool-off again, so the wait is the whole cool-off."""
    seconds = int(get_cool_off(request).total_seconds())
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}.", seconds


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a page for people, the API's error shape for scripts asking for JSON."""
    message, seconds = lockout_message(request)
    if "application/json" in request.headers.get("accept", ""):
        response = JsonResponse({"error": message, "code": "signin_locked"}, status=429)
    else:
        context = {"message": message, "signin_url": request.path}
        response = TemplateResponse(request, "accounts/signin_locked.html", context, status=429).render()
    response["Retry-After"] = str(seconds)
    return response
