"""Exporting an exam's scores: a CSV or JSON download, streamed. What an
export covers and who may ask is in grading/exports.py."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from exams.taking import Refused
from grading import audit, exports

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@require_GET
@login_required
def export_scores(request: HttpRequest) -> HttpResponse:
    try:
        export = exports.prepare(request.user, request.GET)
    except Refused as refusal:
        # Checked before anything is read or recorded: a refusal leaves no audit entry.
        return render(request, "400.html", {"message": refusal.message}, status=refusal.status)
    audit.record(request.user, audit.Action.EXPORT, export.version, team=export.team, **export.describe())
    write = exports.as_csv if export.format == "csv" else exports.as_json
    response = StreamingHttpResponse(write(export, exports.chunks(export)), content_type=CONTENT_TYPES[export.format])
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
