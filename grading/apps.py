from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Grading"

    def ready(self) -> None:
        from exams.signals import attempt_finalized
        from grading.submitting import queue_final_runs

        def grade_final_code(sender, attempt, **kwargs) -> None:
            queue_final_runs(attempt)

        attempt_finalized.connect(grade_final_code, dispatch_uid="grading.grade_final_code", weak=False)
