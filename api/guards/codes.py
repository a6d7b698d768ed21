"""The ``extensions.code`` of every guard refusal, and the limits that are not settings."""

from __future__ import annotations

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
RATE_LIMITED = "RATE_LIMITED"
BAD_REQUEST = "BAD_REQUEST"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"

#: largest request body accepted; the biggest legitimate one, a 500-event ``recordEvents``
#: batch in variables, is about 150 KiB
MAX_BODY_BYTES = 1 << 20
#: field selections a document may expand to through its fragments; a document within the
#: token limit has at most about a thousand, so only fragment bombs come near this
MAX_EXPANDED_FIELDS = 10_000
#: bounds the rate limiter's memory; the least recently seen principal is dropped first
MAX_TRACKED_PRINCIPALS = 100_000
#: distinct query texts whose parse and validation are cached (clients send few distinct ones)
PARSE_CACHE_SIZE = 512
#: operations one batched request (a JSON array) may carry; each is guarded like a request
MAX_BATCH_OPERATIONS = 10
#: the largest integer every JSON client reads exactly
JSON_SAFE_INT = 2**53 - 1
