from django.contrib import admin, messages
from django.db.models import Q, Subquery

from grading.models import (
    Adjudication,
    AdjudicationDecision,
    AttemptScore,
    ItemScore,
    Mark,
    Membership,
    Review,
    ReviewEvent,
    SelfAssessment,
    Submission,
    Team,
)
from grading.models.audit import AuditEvent
from grading.models.comments import LineComment
from grading.reviewing import blind_attempts
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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MarkInline(ReadOnlyInline):
    model = Mark
    fields = readonly_fields = ["item", "ticked", "adjustment", "reason", "comment", "updated_at"]

    @admin.display(description="Ticked criteria")
    def ticked(self, mark: Mark) -> str:
        return "; ".join(str(criterion) for criterion in mark.criteria.all()) or "-"


class ReviewEventInline(ReadOnlyInline):
    model = ReviewEvent
    fields = readonly_fields = ["action", "actor", "at", "reason"]


class RecordAdmin(admin.ModelAdmin):
    """Read-only: rows written by the rules only (reviews by grading.reviewing,
    which checks them and recomputes the score; scores by grading.scoring.recompute).
    An edit or a delete here would bypass both."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(RecordAdmin):
    list_display = ("pk", "attempt", "reviewer", "status", "finalized_at")
    list_filter = ("status", "attempt__exam")
    search_fields = ("reviewer__username", "attempt__user__username")
    list_select_related = ("attempt__user", "attempt__version__exam", "reviewer")
    inlines = [MarkInline, ReviewEventInline]

    def get_inlines(self, request, obj):
        # Double marking: another reviewer's marks stay hidden until every review is final.
        if (
            obj is not None
            and obj.reviewer_id != request.user.pk
            and blind_attempts().filter(pk=obj.attempt_id).exists()
        ):
            return [ReviewEventInline]
        return self.inlines


class AdjudicationDecisionInline(ReadOnlyInline):
    model = AdjudicationDecision
    fields = readonly_fields = ["item", "choice", "rubric", "reason"]


@admin.register(Adjudication)
class AdjudicationAdmin(RecordAdmin):
    list_display = ("attempt", "adjudicator", "status", "decided_at")
    list_filter = ("status", "attempt__exam")
    search_fields = ("adjudicator__username", "attempt__user__username")
    list_select_related = ("attempt__user", "attempt__version__exam", "adjudicator")
    inlines = [AdjudicationDecisionInline]


@admin.register(AttemptScore)
class AttemptScoreAdmin(RecordAdmin):
    list_display = ("attempt", "total", "max_points", "percent", "is_final", "pending_runs", "computed_at")
    list_filter = ("is_final", "attempt__exam")
    search_fields = ("attempt__user__username",)
    list_select_related = ("attempt__user", "attempt__version__exam")


@admin.register(ItemScore)
class ItemScoreAdmin(RecordAdmin):
    list_display = ("attempt", "item", "tests", "rubric", "score", "max_points", "scored_by", "updated_at")
    list_filter = ("attempt__exam",)
    search_fields = ("attempt__user__username", "item__slug")
    list_select_related = ("attempt__user", "attempt__version__exam", "item", "scored_by")


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    """The audit log: read and filter; nobody adds, changes or deletes an
    entry here (no delete page, no bulk action), superusers included."""

    list_display = ("at", "action", "actor_name", "target_repr", "team", "attempt")
    list_filter = ("action", ("actor", admin.RelatedOnlyFieldListFilter), "at")
    search_fields = ("actor_name", "target_repr")
    date_hierarchy = "at"
    list_select_related = ("team", "attempt__user", "attempt__version__exam")
    actions = None

    def get_queryset(self, request):
        # An adjustment's entry carries its points and reason: under double
        # marking, not before every review of the attempt is final.
        blind = Q(action=AuditEvent.Action.ADJUSTMENT, attempt__in=Subquery(blind_attempts().values("pk")))
        return super().get_queryset(request).exclude(blind & ~Q(actor_id=request.user.pk))

    fields = readonly_fields = [
        "at", "action", "actor", "actor_name", "target_type", "target_id", "target_repr", "details", "team", "attempt",
    ]  # fmt: skip


@admin.register(LineComment)
class LineCommentAdmin(RecordAdmin):
    """Line comments are written through the review page only (grading.line_comments),
    which holds them to the review's revision and its draft."""

    list_display = ("pk", "review", "item", "line", "updated_at")
    list_filter = ("review__status", "review__attempt__exam")
    search_fields = ("review__reviewer__username", "review__attempt__user__username", "item__slug")
    list_select_related = ("review__reviewer", "review__attempt__user", "item")
    fields = readonly_fields = [
        "review", "item", "line", "line_text", "code_sha256", "body", "created_at", "updated_at",
    ]  # fmt: skip


@admin.register(SelfAssessment)
class SelfAssessmentAdmin(RecordAdmin):
    """A candidate's own ratings (grading.self_assessment): read-only, like
    every record the rules write; never part of a score."""

    list_display = ("attempt", "item", "score", "max_points", "updated_at")
    list_filter = ("attempt__exam",)
    search_fields = ("attempt__user__username", "item__slug")
    list_select_related = ("attempt__user", "attempt__version__exam", "item")
    fields = readonly_fields = ["attempt", "item", "criteria", "score", "max_points", "created_at", "updated_at"]
