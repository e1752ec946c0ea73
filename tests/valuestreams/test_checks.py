"""USM requirement 5 (a customer-relevant trigger and result) and 9 (each activity once)."""

import pytest

from tests.factories import UserFactory
from tests.factories.portfolio import CustomerFactory
from tests.factories.valuestreams import ProcessFactory
from tests.factories.valuestreams import ValueStreamFactory
from valuestreams import selectors


@pytest.mark.django_db
def test_a_stream_with_trigger_result_and_customer_passes_requirement_5():
    stream = ValueStreamFactory(owner=UserFactory(), customer=CustomerFactory(), segment="")
    assert selectors.purpose_problems(stream) == []


@pytest.mark.django_db
def test_a_stream_without_trigger_result_or_customer_fails_requirement_5():
    stream = ValueStreamFactory(owner=UserFactory(), trigger=" ", result="", segment="")
    problems = selectors.purpose_problems(stream)
    assert len(problems) == 3
    assert problems[0].startswith("no trigger")
    assert problems[1].startswith("no result")
    assert problems[2] == "no customer: it names no customer or segment"


@pytest.mark.django_db
def test_a_process_outside_any_value_stream_serves_no_customer():
    process = ProcessFactory(name="Manage suppliers", value_stream=None)
    assert selectors.purpose_problems(process) == [
        "no customer: it belongs to no value stream, so nobody outside asks"
    ]


@pytest.mark.django_db
def test_a_process_inherits_its_customer_from_its_value_stream():
    stream = ValueStreamFactory(owner=UserFactory(), segment="")
    process = ProcessFactory(value_stream=stream, trigger="", result="The customer is paid.")
    problems = selectors.purpose_problems(process)
    assert problems[0].startswith("no trigger")
    assert problems[-1] == "no customer: its value stream names no customer or segment"
    stream.segment = "Retail"
    assert len(selectors.purpose_problems(process)) == 1


@pytest.mark.django_db
def test_process_model_checks_explain_each_requirement(viewer):
    good_stream = ValueStreamFactory(owner=UserFactory())
    ProcessFactory(value_stream=good_stream, activities=["Take the call"])
    practice = ProcessFactory(name="Manage assets", trigger="", activities=["Count assets"])
    checks = selectors.process_model_checks(user=viewer)
    purpose = checks["purpose"]
    assert [finding.subject for finding in purpose] == [practice]
    assert purpose[0].requirement == 5
    assert "intermediate result" in purpose[0].explanation
    assert purpose[0].subject_kind == "process, layer 4"
    assert checks["duplicates"] == []


@pytest.mark.django_db
def test_an_activity_in_two_processes_fails_requirement_9():
    first = ProcessFactory(name="Register a claim", activities=["Verify the identity", "Log it"])
    second = ProcessFactory(name="Sell a policy", activities=["verify  the identity.", "Quote"])
    ProcessFactory(activities=["Log it", "Log it"])  # twice in one process is not twice
    findings = selectors.duplicate_activity_findings([first, second])
    assert len(findings) == 1
    finding = findings[0]
    assert finding.requirement == 9
    assert set(finding.related) == {first, second}
    assert finding.problems == (
        "“Verify the identity” occurs in 2 processes: Register a claim, Sell a policy",
    )
    assert "only once" in finding.explanation


@pytest.mark.django_db
def test_checks_only_cover_what_the_user_may_see(client):
    ProcessFactory(trigger="")
    nobody = UserFactory()  # no role: sees no process
    assert selectors.process_model_checks(user=nobody) == {"purpose": [], "duplicates": []}
