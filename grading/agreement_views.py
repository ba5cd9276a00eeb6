"""Staff's page of agreement between double-marking reviewers, per exam
version and per criterion (the arithmetic is in grading/agreement.py)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from exams.models import Exam, ExamVersion
from grading.agreement import exam_agreement


@require_GET
@login_required
def agreement_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("Agreement between reviewers is shown to staff only.")
    exams = list(Exam.objects.filter(current_version__isnull=False).select_related("current_version").order_by("slug"))
    double = [e for e in exams if e.current_version.reviews_required > 1]
    slug = request.GET.get("exam", "") or (double[0].slug if double else "")
    exam = next((e for e in exams if e.slug == slug), None)
    if slug and exam is None:
        raise Http404("No such exam")
    context = {"exams": exams, "exam": exam, "report": None}
    if exam is not None:
        number = request.GET.get("version", "")
        versions = ExamVersion.objects.filter(exam=exam).order_by("-number")
        if number:
            if not (number.isascii() and number.isdigit() and len(number) < 10):
                raise Http404("No such version")
            version = versions.filter(number=int(number)).first()
            if version is None:
                raise Http404("No such version of this exam")
        else:
            version = exam.current_version
        context.update(versions=list(versions), version=version, report=exam_agreement(version))
    return render(request, "grading/agreement.html", context)
