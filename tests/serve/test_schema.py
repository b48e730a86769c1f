"""The API against its own OpenAPI schema: schemathesis generates requests for every operation of a
real server, ones the schema allows and ones it does not; none gets a server error, and every refusal
is JSON with a one-line reason."""

from __future__ import annotations

import collections
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable


@pytest.fixture(scope="module")
def operations(server):
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 9
    return found


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_no_generated_request_gets_a_server_error(server, operations, mode):
    answers: collections.Counter = collections.Counter()
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(timeout=60, headers=server.auth)
            answers[(case.method, response.status_code)] += 1
            assert response.status_code < 500, (case.method, case.path, response.text[:300])
            if response.status_code >= 400:
                detail = json.loads(response.text)["detail"]
                assert isinstance(detail, str) and detail and "\n" not in detail and "Traceback" not in detail

        try:
            check()
        except Unsatisfiable:  # nothing to break where every parameter is any string, or there are none
            assert mode == schemathesis.GenerationMode.NEGATIVE and operation.label != "POST /api/jobs"
    assert sum(answers.values()) >= 1000  # with the other mode: over 2,000 generated requests
    assert any(method == "POST" and status >= 400 for method, status in answers)  # job requests refused


def test_the_schema_types_every_answer_and_names_the_token(server):
    schema = server.client.get("/openapi.json").json()
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    create = schema["paths"]["/api/jobs"]["post"]
    assert {"202", "400", "401", "403", "408", "413", "415", "429", "507"} <= set(create["responses"])
    problem = {"$ref": "#/components/schemas/Problem"}
    assert create["responses"]["507"]["content"]["application/json"]["schema"] == problem
    assert create["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobState"
    }
    job = schema["paths"]["/api/jobs/{job_id}"]["get"]["responses"]
    assert job["404"]["content"]["application/json"]["schema"] == problem
    assert set(schema["components"]["schemas"]["JobState"]["properties"]) >= {"id", "status", "progress", "outputs"}
    # The answers are what the schema says.
    for state in server.client.get("/api/jobs").json():
        assert set(state) == set(schema["components"]["schemas"]["JobState"]["properties"])
