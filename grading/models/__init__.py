"""Scoring's models: drill submissions, teams, reviews and stored scores."""

from grading.models.audit import AuditEvent
from grading.models.comments import LineComment
from grading.models.reviews import Adjudication, AdjudicationDecision, Mark, Review, ReviewEvent
from grading.models.scores import AttemptScore, BestAttempt, ItemScore
from grading.models.self_assessment import SelfAssessment
from grading.models.submissions import Submission, storable
from grading.models.teams import BoardSettings, Invitation, Membership, Team

__all__ = [
    "Adjudication",
    "AdjudicationDecision",
    "AttemptScore",
    "AuditEvent",
    "BestAttempt",
    "BoardSettings",
    "Invitation",
    "ItemScore",
    "LineComment",
    "Mark",
    "Membership",
    "Review",
    "ReviewEvent",
    "SelfAssessment",
    "Submission",
    "Team",
    "storable",
]
