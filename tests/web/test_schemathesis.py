"""schemathesis against the project's own OpenAPI schema on a live server, as an admin and as a viewer: no 5xx,
every response matches the schema, every status code is documented, and requests the schema calls valid are
accepted. Bounded: a few examples per operation, no shrinking."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from prover.services import import_dataset

EASY = '{"name": "t0", "formal_statement": "theorem t0 (x : ℝ) (h : x = 1) : x + 1 = 2 := by", "split": "test"}'


# A schema cannot say "a dataset that exists" or "a run of yours": a schema-valid request naming none is rightly a
# 400/404, so the check that every schema-valid request is accepted does not apply; every other check does.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture
def api(live_server, admin_user, viewer):
    import_dataset(name="easy", text=EASY, format="minif2f-lean4")
    client = APIClient()
    client.force_authenticate(admin_user)
    schema = schemathesis.openapi.from_dict(client.get("/api/schema/", {"format": "json"}).json())
    schema.config.update(base_url=live_server.url)
    tokens = {"admin": Token.objects.get_or_create(user=admin_user)[0].key,
              "viewer": Token.objects.get_or_create(user=viewer)[0].key}
    return schema, tokens


def test_the_api_keeps_its_schema(api):
    schema, tokens = api
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.generate], derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            for token in tokens.values():
                case.call_and_validate(headers={"Authorization": f"Token {token}"}, excluded_checks=EXCLUDED)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
