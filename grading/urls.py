from django.urls import path

import grading.adjudication_views
import grading.agreement_views
import grading.export_views
import grading.progress
from grading import by_question, comment_views, review_views, self_assessment_views, team_views, views

app_name = "grading"

urlpatterns = [
    path("attempts/<int:pk>/items/<int:item_pk>/run/", views.run, name="run"),
    path("attempts/<int:pk>/items/<int:item_pk>/run-own-input/", views.run_own_input, name="run_own_input"),
    path("submissions/<int:pk>/", views.submission, name="submission"),
    path("submissions/<int:pk>/code/", views.submission_code, name="submission_code"),
    path("review/", review_views.review_queue, name="review_queue"),
    path("review/attempts/<int:pk>/", review_views.review_page, name="review"),
    path("review/attempts/<int:pk>/items/<int:item_pk>/mark/", review_views.mark, name="mark"),
    path("review/attempts/<int:pk>/overall/mark/", review_views.mark, name="mark_overall"),
    path("review/attempts/<int:pk>/finalize/", review_views.finalize, name="finalize"),
    path("review/attempts/<int:pk>/reopen/", review_views.reopen, name="reopen"),
    path("review/anonymous/", review_views.anonymous_marking, name="review_anonymous"),
    path("review/export/", grading.export_views.export_scores, name="export"),
    path("teams/", team_views.team_list, name="teams"),
    path("teams/join/<str:code>/", team_views.join, name="join"),
    path("teams/<slug:slug>/", team_views.team_page, name="team"),
    path("teams/<slug:slug>/invite/", team_views.invite, name="invite"),
    path("teams/<slug:slug>/invitations/<int:pk>/revoke/", team_views.revoke, name="revoke"),
    path("teams/<slug:slug>/leave/", team_views.leave, name="leave"),
    path("teams/<slug:slug>/privacy/", team_views.privacy, name="privacy"),
    path("teams/<slug:slug>/members/<int:pk>/", team_views.member, name="member"),
    path("teams/<slug:slug>/leaderboards/<slug:exam_slug>/", team_views.leaderboard_page, name="leaderboard"),
    path("teams/<slug:slug>/leaderboards/<slug:exam_slug>/settings/", team_views.board_settings, name="board"),
    path("progress/", grading.progress.my_progress, name="progress"),
    # Marking by question (grading/by_question.py).
    path("review/questions/", by_question.by_question, name="by_question"),
    path("review/questions/<int:item_pk>/", by_question.by_question_item, name="by_question_item"),
]

# Line comments on a drill's code (grading/comment_views.py).
urlpatterns += [
    path("review/attempts/<int:pk>/items/<int:item_pk>/comments/", comment_views.add, name="line_comment_add"),
    path("review/attempts/<int:pk>/comments/<int:comment_pk>/edit/", comment_views.edit, name="line_comment_edit"),
    path("review/attempts/<int:pk>/comments/<int:comment_pk>/delete/", comment_views.delete, name="line_comment_del"),
]

# Self-assessment (grading.self_assessment_views): the candidate's own ratings.
urlpatterns += [
    path(
        "attempts/<int:pk>/items/<int:item_pk>/self-assessment/", self_assessment_views.self_assess, name="self_assess"
    ),
    path("attempts/<int:pk>/overall/self-assessment/", self_assessment_views.self_assess, name="self_assess_overall"),
]

# Double marking: adjudication and the agreement figures.
urlpatterns += [
    path("review/attempts/<int:pk>/adjudicate/", grading.adjudication_views.adjudicate, name="adjudicate"),
    path("review/agreement/", grading.agreement_views.agreement_page, name="agreement"),
]
