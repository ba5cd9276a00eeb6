"""How passwords are stored: Argon2id at OWASP's recommended parameters
(docs/operations.md, "Password hashing").

Django's default, PBKDF2-SHA256 at 1,000,000 iterations, costs about a
quarter of a second of CPU per log-in on this project's 2-core machine: 200
candidates logging in at an exam's start would hold both cores for about
half a minute. Argon2id with 19 MiB of memory, 2 passes and 1 lane (the
OWASP Password Storage Cheat Sheet's first recommendation) costs a tenth of
that in CPU while making each guess need 19 MiB of memory, which is what
slows down GPU and ASIC guessing, where PBKDF2's cost is CPU alone.
`bench/login.py` measures both.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (argon2id) with OWASP's parameters. The same
    algorithm name: a hash made with other parameters still verifies, and
    is stored again with these at the user's next log-in."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
