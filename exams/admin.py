from django.contrib import admin

from exams.account_views import ThrottledAdminAuthenticationForm
from exams.models import (
    Accommodation,
    Answer,
    AnswerOpening,
    Attempt,
    DeadlineExtension,
    Exam,
    ExamVersion,
    Item,
    Reveal,
    RubricCriterion,
    Section,
    TestCase,
)

# The admin's log-in counts failures with the site's (exams/throttle.py).
admin.site.login_form = ThrottledAdminAuthenticationForm


class ReadOnlyInline(admin.TabularInline):
    """Imported content is immutable: staff read it here, authors change the pack."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class UndeletableAdmin(admin.ModelAdmin):
    """Never deleted here (no delete page, no bulk action), not even by a
    superuser: imported content is what attempts were asked and graded
    against (a deleted hidden case would silently change a version's
    grading), and attempts, answers and reveals are the record of what a
    candidate did (a deleted reveal would unlock a timed item). Deleting a
    user who has attempts is refused for the same reason."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ImmutableAdmin(UndeletableAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class SectionInline(ReadOnlyInline):
    model = Section
    fields = ["position", "slug", "title"]


class ItemInline(ReadOnlyInline):
    model = Item
    fields = ["position", "slug", "kind", "title", "points", "written_points"]


class CriterionInline(ReadOnlyInline):
    model = RubricCriterion
    fields = ["position", "item", "signal", "text", "points"]


class CaseInline(ReadOnlyInline):
    model = TestCase
    fields = ["position", "category", "name", "args", "kwargs", "expected", "visible"]


@admin.register(Exam)
class ExamAdmin(UndeletableAdmin):
    list_display = ["slug", "current_version", "created_at"]
    search_fields = ["slug"]
    readonly_fields = ["slug", "created_at", "current_version"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ExamVersion)
class ExamVersionAdmin(ImmutableAdmin):
    list_display = ["__str__", "title", "duration_minutes", "reveal_policy", "imported_at", "short_hash"]
    list_filter = ["exam", "reveal_policy"]
    inlines = [SectionInline, ItemInline, CriterionInline]

    @admin.display(description="content hash")
    def short_hash(self, obj: ExamVersion) -> str:
        return obj.content_hash[:12]


@admin.register(Section)
class SectionAdmin(ImmutableAdmin):
    list_display = ["title", "version", "position"]
    list_filter = ["version__exam"]


@admin.register(Item)
class ItemAdmin(ImmutableAdmin):
    list_display = ["title", "kind", "version", "position", "points", "written_points"]
    list_filter = ["kind", "version__exam"]
    search_fields = ["title", "slug"]
    inlines = [CriterionInline, CaseInline]


@admin.register(TestCase)
class TestCaseAdmin(ImmutableAdmin):
    list_display = ["__str__", "category", "visible"]
    list_filter = ["visible", "item__version__exam"]


@admin.register(RubricCriterion)
class RubricCriterionAdmin(ImmutableAdmin):
    list_display = ["__str__", "version", "item", "signal", "points"]
    list_filter = ["signal", "version__exam"]


@admin.register(Accommodation)
class AccommodationAdmin(admin.ModelAdmin):
    list_display = ["user", "time_multiplier", "reason", "granted_by", "granted_at"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]
    readonly_fields = ["granted_by", "granted_at"]

    def save_model(self, request, obj, form, change) -> None:
        obj.granted_by = request.user
        super().save_model(request, obj, form, change)


class ExtensionInline(admin.TabularInline):
    """Extensions are recorded, never edited: each adds minutes to the deadline."""

    model = DeadlineExtension
    extra = 1
    can_delete = False
    fields = ["minutes", "reason", "granted_by", "granted_at"]
    readonly_fields = ["granted_by", "granted_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AnswerInline(ReadOnlyInline):
    model = Answer
    fields = ["item", "part", "revision", "saved_at", "content"]


class RevealInline(ReadOnlyInline):
    model = Reveal
    fields = ["item", "user", "revealed_at", "had_answer"]


class OpeningInline(ReadOnlyInline):
    model = AnswerOpening
    fields = ["item", "opened_at"]


@admin.register(Attempt)
class AttemptAdmin(UndeletableAdmin):
    list_display = ["pk", "user", "version", "mode", "status", "started_at", "deadline", "time_multiplier"]
    list_filter = ["status", "mode", "exam"]
    search_fields = ["user__username"]
    readonly_fields = [
        "user",
        "exam",
        "version",
        "mode",
        "status",
        "started_at",
        "deadline",
        "time_multiplier",
        "finalized_at",
    ]
    inlines = [ExtensionInline, AnswerInline, RevealInline, OpeningInline]

    def has_add_permission(self, request) -> bool:
        return False

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not DeadlineExtension:
            return super().save_formset(request, form, formset, change)
        for extension in formset.save(commit=False):
            extension.granted_by = request.user
            try:
                extension.apply()
            except ValueError as exc:
                self.message_user(request, str(exc), level="error")
            else:
                self.message_user(request, f"Deadline extended by {extension.minutes} min.")


@admin.register(Answer)
class AnswerAdmin(ImmutableAdmin):
    list_display = ["__str__", "attempt", "item", "part", "revision", "saved_at"]


@admin.register(Reveal)
class RevealAdmin(ImmutableAdmin):
    list_display = ["__str__", "attempt", "item", "revealed_at", "had_answer"]
