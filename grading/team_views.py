"""Team pages: my teams, a team, its leaderboards, invitations and roles.
Only members see a team's pages (everyone else gets 404); only owners manage
it. The rules are in grading/teams.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from exams.models import Exam
from exams.taking import Refused
from exams.web import strict_post
from grading import leaderboard, teams
from grading.models import Invitation, Membership


def get_membership(request: HttpRequest, slug: str, *, owner: bool = False) -> Membership:
    """The user's membership of the team; 404 for non-members (a team's pages
    say nothing to outsiders), 403 for a member acting as owner."""
    membership = (
        Membership.objects.select_related("team").filter(team__slug=slug, user_id=request.user.pk).first()
        if request.user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404("No such team")
    if owner and membership.role != Membership.Role.OWNER:
        raise PermissionDenied("Only the team's owners can do this.")
    return membership


def _refused(request: HttpRequest, refusal: Refused, membership: Membership) -> HttpResponse:
    """The team page again, with why the request was refused and its status (nothing changed)."""
    messages.error(request, refusal.message)
    return render(request, "grading/team.html", _team_context(membership), status=refusal.status)


@require_http_methods(["GET", "POST"])
@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            team = teams.create_team(request.user, strict_post(request).get("name", ""))
        except Refused as refusal:
            messages.error(request, refusal.message)
            return render(request, "grading/teams.html", _teams_context(request), status=refusal.status)
        messages.success(request, f"Team {team.name} created: invite its members with a link.")
        return redirect(team)
    return render(request, "grading/teams.html", _teams_context(request))


def _teams_context(request: HttpRequest) -> dict:
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("team")
        .annotate(members=Count("team__memberships"))
        .order_by("team__name")
    )
    return {"memberships": memberships}


def _team_context(membership: Membership) -> dict:
    team = membership.team
    is_owner = membership.role == Membership.Role.OWNER
    members = list(team.memberships.select_related("user").order_by("user__username"))
    return {
        "team": team,
        "membership": membership,
        "is_owner": is_owner,
        "members": members,
        "owners": sum(1 for m in members if m.role == Membership.Role.OWNER),
        "roles": Membership.Role.choices,
        "invitations": list(team.invitations.filter(revoked_at=None)) if is_owner else [],
        "exams": Exam.objects.filter(current_version__isnull=False).select_related("current_version"),
        "max_days": teams.MAX_INVITATION_DAYS,
    }


@require_GET
@login_required
def team_page(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "grading/team.html", _team_context(get_membership(request, slug)))


@require_GET
@login_required
def leaderboard_page(request: HttpRequest, slug: str, exam_slug: str) -> HttpResponse:
    membership = get_membership(request, slug)
    team = membership.team
    exam = get_object_or_404(Exam.objects.select_related("current_version"), slug=exam_slug)
    settings, member_count = leaderboard.facts(team, exam)
    is_owner = membership.role == Membership.Role.OWNER
    # Owners may look behind the freeze; members see the board as published.
    live = is_owner and request.GET.get("live") == "1"
    frozen_at = None if live else settings.frozen_at
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    page = leaderboard.board(
        team, exam, frozen_at=frozen_at, final_only=settings.final_only, page=number, viewer_id=request.user.pk
    )
    context = {
        "team": team,
        "exam": exam,
        "settings": settings,
        "is_owner": is_owner,
        "live": live,
        "page": page,
        "rows_html": leaderboard.rows_html(page, request.user.pk, _row_renderer(request)),
        "mine": page.mine,
        "mine_on_page": page.mine_on_page,
        "member_count": member_count,
        "anonymous": leaderboard.ANONYMOUS,
    }
    return render(request, "grading/leaderboard.html", context)


def _row_renderer(request: HttpRequest):
    def render_row(row: leaderboard.Row, own: bool) -> str:
        context = {"row": row, "own": own, "anonymous": leaderboard.ANONYMOUS}
        return render_to_string("grading/_board_row.html", context, request=request)

    return render_row


@require_POST
@login_required
def board_settings(request: HttpRequest, slug: str, exam_slug: str) -> HttpResponse:
    membership = get_membership(request, slug, owner=True)
    exam = get_object_or_404(Exam, slug=exam_slug)
    action = strict_post(request).get("action", "")
    changes = {
        "freeze": {"freeze": True},
        "unfreeze": {"freeze": False},
        "final_only": {"final_only": True},
        "all_rows": {"final_only": False},
    }
    if action not in changes:
        messages.error(request, "Unknown change to the leaderboard.")
        return redirect("grading:leaderboard", slug=slug, exam_slug=exam_slug)
    teams.publish(membership.team, exam, request.user, **changes[action])
    messages.success(request, "Leaderboard updated.")
    return redirect("grading:leaderboard", slug=slug, exam_slug=exam_slug)


@require_POST
@login_required
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_membership(request, slug, owner=True)
    try:
        days = int(strict_post(request).get("days", "7"))
        invitation = teams.invite(membership.team, request.user, days)
    except ValueError:
        return _refused(request, Refused("Give the number of days the link stays valid.", 400), membership)
    except Refused as refusal:
        return _refused(request, refusal, membership)
    until = timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M %Z")
    messages.success(request, f"Invitation link created; it works until {until}.")
    return redirect(membership.team)


@require_POST
@login_required
def revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    membership = get_membership(request, slug, owner=True)
    invitation = get_object_or_404(Invitation, pk=pk, team=membership.team)
    teams.revoke(invitation)
    messages.success(request, "Invitation withdrawn: its link no longer works.")
    return redirect(membership.team)


@require_http_methods(["GET", "POST"])
@login_required
def join(request: HttpRequest, code: str) -> HttpResponse:
    try:
        invitation = teams.usable_invitation(code)
        if request.method == "POST":
            teams.join(code, request.user)
            messages.success(request, f"You joined {invitation.team.name}.")
            return redirect(invitation.team)
    except Refused as refusal:
        context = {"error": refusal.message, "team": None}
        if refusal.status == 409:
            context["team"] = invitation.team
        return render(request, "grading/join.html", context, status=refusal.status)
    already = Membership.objects.filter(team=invitation.team, user=request.user).exists()
    return render(request, "grading/join.html", {"invitation": invitation, "team": invitation.team, "already": already})


@require_POST
@login_required
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_membership(request, slug)
    try:
        teams.remove(membership, actor=request.user)
    except Refused as refusal:
        return _refused(request, refusal, membership)
    messages.success(request, f"You left {membership.team.name}.")
    return redirect("grading:teams")


@require_POST
@login_required
def member(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """An owner changes a member's role or removes them."""
    membership = get_membership(request, slug, owner=True)
    target = get_object_or_404(Membership.objects.select_related("team", "user"), pk=pk, team=membership.team)
    data = strict_post(request)
    try:
        if data.get("action") == "remove":
            teams.remove(target, actor=request.user)
            messages.success(request, f"{target.user.get_username()} was removed from the team.")
        else:
            teams.set_role(target, data.get("role", ""), actor=request.user)
            messages.success(request, f"{target.user.get_username()} is now {data.get('role')}.")
    except Refused as refusal:
        return _refused(request, refusal, membership)
    return redirect(membership.team)


@require_POST
@login_required
def privacy(request: HttpRequest, slug: str) -> HttpResponse:
    membership = get_membership(request, slug)
    hidden = strict_post(request).get("hide_name") == "1"
    teams.set_hidden(membership, hidden)
    if hidden:
        messages.success(request, "Other members now see you as “anonymous member” on leaderboards.")
    else:
        messages.success(request, "Other members now see your name on leaderboards.")
    return redirect(membership.team)
