"""What the navigation and the landing page may offer a visitor."""

from django import template

from exams import account_views

register = template.Library()


@register.simple_tag
def signup_open() -> bool:
    """Whether to offer sign-up (the same switch the sign-up view obeys)."""
    return account_views.signup_open()
