from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        from exams.loader import DrillTools, register_drill_tools
        from exams.signals import attempt_finalized
        from exams.state import register_panels
        from grading.compare import outputs_match
        from grading.reference import run_reference
        from grading.scoring import recompute
        from grading.submitting import add_run_panels, queue_final_runs

        register_panels(add_run_panels)
        from grading.self_assessment_views import add_self_assessment_panels

        register_panels(add_self_assessment_panels)
        register_drill_tools(DrillTools(run_reference=run_reference, outputs_match=outputs_match))

        def grade_final_code(sender, attempt, **kwargs) -> None:
            queue_final_runs(attempt)
            # After queueing, so the stored score counts the final runs as
            # pending; each one recomputes it again once it is graded.
            recompute(attempt)

        attempt_finalized.connect(grade_final_code, dispatch_uid="grading.grade_final_code", weak=False)

        from django.db.models.signals import post_delete, post_save

        from grading.leaderboard import team_changed
        from grading.models import BoardSettings, Membership

        for model in (Membership, BoardSettings):
            for signal in (post_save, post_delete):
                signal.connect(team_changed, sender=model, dispatch_uid=f"grading.board.{model.__name__}.{signal}")

        from exams.models import AnswerOpening, Reveal
        from grading.audit import record_opening, record_reveal

        post_save.connect(record_reveal, sender=Reveal, dispatch_uid="grading.audit.reveal")
        post_save.connect(record_opening, sender=AnswerOpening, dispatch_uid="grading.audit.opening")

        # A worker refuses grading work when its sandbox cannot run code.
        import grading.worker  # noqa: F401
