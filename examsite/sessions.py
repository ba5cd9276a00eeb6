"""Sessions read from Redis and kept in PostgreSQL (`cached_db`), that keep
working while Redis is down.

Django's `cached_db` store already falls back to the database when reading
the cache fails, but then writes the session back to the cache, and a
failing write there (or on log-out) is a 500 for every logged-in request: a
Redis outage would stop candidates saving answers. Here reading a session
skips a cache that cannot be reached (logged); the database holds the
session anyway.
"""

import logging

from django.contrib.sessions.backends import cached_db

log = logging.getLogger("django.contrib.sessions")


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # unreachable, or a key the backend refuses: read the database
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:
            log.warning("sessions: could not write to the cache (%s); reading the database meanwhile", self._cache)
        return data

    def delete(self, session_key=None):
        # From the cache first, and not skipped when Redis is down: a session
        # gone from the database but left in a Redis that comes back would be
        # valid again. So logging out (and in: the key changes) needs Redis;
        # a candidate already logged in does not.
        key = session_key if session_key is not None else self.session_key
        if key is not None:
            self._cache.delete(self.cache_key_prefix + key)
        cached_db.DBStore.delete(self, session_key)
