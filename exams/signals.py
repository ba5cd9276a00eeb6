from django.dispatch import Signal

# Sent once per attempt, by the call that ended it (submit or deadline), with
# `attempt`. Grading listens to grade the final code of each drill.
attempt_finalized = Signal()
