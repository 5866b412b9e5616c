"""One error family for everything a user can cause.

Each message says what was wrong and what to do about it; the UI shows it verbatim
(``ui.errors.user_facing`` is the one place that turns these into ``gr.Error``).
"""


class BackendError(Exception):
    """Base class: a problem the user can fix or must know about."""


class InvalidInput(BackendError):
    """The input is malformed: empty, binary, unparsable, wrong shape."""


class LimitExceeded(BackendError):
    """The input is well-formed but over a configured cap."""


class ModelUnavailable(BackendError):
    """A model id is not allowed, or it could not be loaded (e.g. no network for a Hub id)."""
