from django.contrib import admin

from exams.models import Exam, ExamVersion, Item, RubricCriterion, Section, TestCase


class ReadOnlyInline(admin.TabularInline):
    """Imported content is immutable: staff read it here, authors change the pack."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ImmutableAdmin(admin.ModelAdmin):
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
class ExamAdmin(admin.ModelAdmin):
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
