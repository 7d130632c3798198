"""Schemathesis hooks for .ci/schemathesis.sh: rules the server enforces that OpenAPI cannot say.

- An Idempotency-Key names one request: reusing a key with another body is refused (422
  idempotency_mismatch), as documented. A fuzzer reuses the few short keys it generates, so
  every *valid* generated key is made unique before the call; invalid keys are kept, so the
  negative cases still test the key rule.
- `starting_after`, `ending_before` and `offset` on GET /api/v1/customers are mutually exclusive
  (said in the parameter descriptions): a generated query keeps the first of them.
"""

import re
import uuid

import schemathesis

_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        value = headers[name]
        if name.lower() == "idempotency-key" and isinstance(value, str) and _KEY.match(value):
            headers[name] = str(uuid.uuid4())
    query = case.query
    if query and case.operation.path == "/api/v1/customers":
        present = [k for k in ("starting_after", "ending_before", "offset") if k in query]
        for extra in present[1:]:
            del query[extra]


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    """A KYC file is checked by its bytes (a PDF, JPEG or PNG signature), which a schema cannot
    say: a generated file of random bytes refused for that reason is not a failure."""
    if getattr(failure, "code", None) == "ST202" and response is not None and response.status_code in (415, 422):
        return "a file must be a PDF, JPEG or PNG document" not in (response.text or "")
    return True
