from django.contrib import admin, messages

from grading.models import Submission
from grading.submitting import regrade


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("pk", "item", "attempt", "source", "status", "passed", "total", "score", "created_at", "claims")
    list_filter = ("status", "source", "queue", "attempt__exam")
    search_fields = ("attempt__user__username", "item__slug")
    list_select_related = ("item", "attempt__user", "attempt__version")
    date_hierarchy = "created_at"
    actions = ["regrade_selected"]
    # Submissions are the record of what a candidate ran: nobody edits them.
    readonly_fields = [field.name for field in Submission._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Grade again (on the bulk queue), keeping the current results")
    def regrade_selected(self, request, queryset) -> None:
        count = len(regrade(queryset))
        self.message_user(request, f"{count} submission(s) queued for regrading.", messages.SUCCESS)
