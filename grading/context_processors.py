from functools import cache

from django.http import HttpRequest

from grading.models import Membership


def reviewing(request: HttpRequest) -> dict:
    """`is_reviewer` for the navigation: asked only where a template reads it."""
    user = request.user

    @cache
    def is_reviewer() -> bool:
        if not user.is_authenticated:
            return False
        return user.is_staff or Membership.objects.filter(user=user, role__in=Membership.REVIEWING_ROLES).exists()

    return {"is_reviewer": is_reviewer}
