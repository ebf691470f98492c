"""Schemathesis against the service's own OpenAPI document: no 5xx, and every answer as documented.

Every operation of ``/openapi.json`` is called by the real server's operator with a bounded number of
generated requests — valid ones (within the schema) and invalid ones (outside it) — and each answer is
checked: never a server error, its status documented, its media type documented, its body matching
the documented schema. Hypothesis is derandomized, so CI runs the same requests every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.service.server import Server

EXAMPLES = 15
"""Examples per operation and mode: enough to reach every documented refusal, bounded for CI's two cores."""
STREAMING = "/v1/events"
"""Never ends unless asked to (``test_events`` covers it with bounded streams)."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Return a sandbox of its own: the fuzzer issues keys and lists stocks nobody else expects."""
    # The fuzzer sends requests as fast as the server answers: a 429 would hide what they reach.
    unlimited = {"EQUITOKEN_API_RATE_LIMIT": "10000"}
    running = Server(Path(tmp_path_factory.mktemp("schema")), env=unlimited).start()
    try:
        yield running
    finally:
        running.stop()


def exercise(operation: Any, mode: GenerationMode, headers: dict[str, str], seen: list[int]) -> None:
    """Call ``operation`` with ``EXAMPLES`` generated requests of ``mode`` and check every answer."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as generated
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        # The operator's key is sent as is: a generated Authorization header would only test 401s.
        response = case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)
        seen.append(response.status_code)

    run()


def test_every_operation_answers_as_documented_and_never_with_a_server_error(fuzzed: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json")
    headers = {"Authorization": f"Bearer {fuzzed.key('operator')}"}
    loaded = list(schema.get_all_operations())
    # An operation the loader cannot read is a defect of the document itself.
    assert all(isinstance(result, Ok) for result in loaded), [r for r in loaded if not isinstance(r, Ok)]
    operations = [result.ok() for result in loaded if isinstance(result, Ok)]
    labels = {operation.label for operation in operations}
    assert "POST /v1/orders" in labels and "GET /v1/investors/{investor_id}/holdings" in labels, labels
    failures: list[str] = []
    seen: list[int] = []
    for operation in operations:
        if operation.path == STREAMING:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                exercise(operation, mode, headers, seen)
            except Unsatisfiable:
                continue  # nothing to get wrong: an operation without parameters or body has no negative case
            except Exception as failed:  # collect all, so one run reports every operation that fails
                failures.append(f"{operation.label} [{mode.value}]: {failed}")
    assert not failures, "\n\n".join(failures)
    # The run reached the platform's answers, not only the guard's: successes and refusals both.
    statuses = set(seen)
    assert len(seen) >= EXAMPLES * len(operations) and {200, 201, 400, 404} <= statuses, sorted(statuses)
    with fuzzed.client() as anyone:  # the server is still up and healthy after all of it
        assert anyone.get("/health").json()["status"] == "ok"


def test_every_success_and_every_refusal_is_documented_with_its_shape(server: Server) -> None:
    with server.client() as anyone:
        document = anyone.get("/openapi.json").json()
    undocumented = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            for status, answer in answers.items():
                content = answer.get("content", {})
                if status.startswith("2") and not any(media.get("schema") for media in content.values()):
                    undocumented.append(f"{method.upper()} {path} {status}: no body schema")
            # The public routes (the transparency page's data) take no key, so they can never answer
            # 401 or 403: documenting those would be a lie. They are rate limited per address (429).
            refusals = {"400", "429"} if path.startswith("/public/") else {"400", "401", "403", "429"}
            if path != "/health" and not refusals <= set(answers):
                undocumented.append(f"{method.upper()} {path}: refusals not documented")
            if path.startswith("/public/") and {"401", "403"} & set(answers):
                undocumented.append(f"{method.upper()} {path}: a keyless route documents key refusals")
    assert not undocumented, "\n".join(undocumented)
