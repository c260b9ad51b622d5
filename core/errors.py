"""The one error type that services raise for a request that cannot be carried out.

The API's exception handler (``core.api``) turns it into a JSON body with
the stable ``code`` and the human ``detail``; WebSocket consumers send the same
pair in an error frame.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request refused for a reason the caller can understand and fix.

    ``status`` is the HTTP status an API should answer with.
    """

    status = 400
    #: Seconds the client should wait before trying again (sent as ``Retry-After``), for 429s.
    retry_after: int | None = None

    def __init__(self, code: str, detail: str, *, status: int | None = None, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        if status is not None:
            self.status = status
        if retry_after is not None:
            self.retry_after = retry_after


class NotFound(ServiceError):
    """The object does not exist or the caller may not know that it does."""

    status = 404

    def __init__(self, detail: str = "Not found.", code: str = "not_found") -> None:
        super().__init__(code, detail)
