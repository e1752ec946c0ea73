"""Who may do what on the value-stream pages, and their queries: one spec per model (tests/views.py
turns each into its cases). Value-stream owners own their streams and, through them, the stages,
processes and improvements; they and Portfolio managers change them. Anyone who sees value
streams suggests improvements, and edits or withdraws their own while they are proposed."""

from core import roles
from tests.factories import UserFactory
from tests.factories.portfolio import ServiceFactory
from tests.factories.valuestreams import ImprovementFactory
from tests.factories.valuestreams import ProcessConnectionFactory
from tests.factories.valuestreams import ProcessFactory
from tests.factories.valuestreams import StageFactory
from tests.factories.valuestreams import ValueStreamFactory
from tests.views import ALLOWED
from tests.views import GRANTS
from tests.views import INVALID
from tests.views import OTHER_OWNER
from tests.views import OWNER
from tests.views import REFUSED
from tests.views import Queries
from tests.views import ViewSpec
from tests.views import add
from tests.views import delete
from tests.views import edit
from tests.views import fresh
from tests.views import gone
from tests.views import listing
from tests.views import post
from tests.views import read
from tests.views import view_tests
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import Stage
from valuestreams.models import ValueStream
from valuestreams.models import VerbList

VALUE_STREAM_OWNER = roles.VALUE_STREAM_OWNER
# Value-stream owners add value streams; Service owners, like Viewers, only read them.
STREAM_GRANTS = {**GRANTS, "add": (VALUE_STREAM_OWNER, roles.PORTFOLIO_MANAGER)}


# --- Value streams ----------------------------------------------------------------------------


def make_stream(owner):
    """A stream of ``owner`` with three stages, the first a Moment of Truth."""
    stream = ValueStreamFactory(owner=owner)
    for position, name in enumerate(("Report the claim", "Assess the damage", "Pay the claim")):
        StageFactory(
            value_stream=stream, position=position, name=name, moment_of_truth=not position
        )
    return stream


def stream_added(stream, user, response):
    added = ValueStream.objects.get(name="Renew a policy")
    assert (added.slug, added.owner) == ("renew-a-policy", stream.owner)
    assert response.url == added.get_absolute_url()


def stream_renamed(stream):
    assert fresh(stream).name == "Settle a motor claim"


def future_state_made(stream):
    future = ValueStream.objects.get(state="future")
    assert future.current_state == stream and future.stages.count() == 3


def stream_data(name):
    return lambda stream: {"name": name, "owner": stream.owner_id, "experience": "customer"}


def stream_with_a_stage(owner):
    stream = ValueStreamFactory(owner=owner)
    StageFactory(value_stream=stream, moment_of_truth=True)
    StageFactory(value_stream=stream)
    return stream


def more_streams(stream, owner):
    for _ in range(25):
        stream_with_a_stage(owner)


def two_stages_counted(response):
    assert response.context["table"].rows[0].get_cell("stage_count") == "2"  # as a number reads


def stream_with_one_of_each(owner):
    stream = ValueStreamFactory(owner=owner)
    StageFactory(value_stream=stream, services=[ServiceFactory()])
    ImprovementFactory(value_stream=stream)
    ProcessFactory(value_stream=stream)
    return stream


def thirty_more_of_each(stream, owner):
    services = [ServiceFactory() for _ in range(5)]
    for n in range(30):
        StageFactory(value_stream=stream, services=services, moment_of_truth=n % 3 == 0)
        ImprovementFactory(value_stream=stream)
        ProcessFactory(value_stream=stream)


VALUE_STREAM = ViewSpec(
    name="value streams",
    make=make_stream,
    url_args=lambda stream: [stream.slug],
    owner_role=VALUE_STREAM_OWNER,
    grants=STREAM_GRANTS,
    other_roles=(roles.SERVICE_OWNER,),
    label=lambda stream: stream.name,
    actions={
        "list": listing("valuestreams:valuestream_list"),
        "detail": read("valuestreams:valuestream_detail"),
        "map": read("valuestreams:valuestream_map_svg"),
        "add": add(
            "valuestreams:valuestream_add",
            data=stream_data("Renew a policy"),
            done=stream_added,
        ),
        "edit": edit(
            "valuestreams:valuestream_edit",
            data=stream_data("Settle a motor claim"),
            done=stream_renamed,
        ),
        "delete": delete("valuestreams:valuestream_delete"),
        "future-state": post("valuestreams:future_state_create", done=future_state_made),
    },
    queries={
        "list": Queries(
            bound=13,  # one of them reads the custom fields' definitions
            make=stream_with_a_stage,
            populate=more_streams,
            rows=26,
            persona=OWNER,
            htmx=True,
            check_one=two_stages_counted,
        ),
        "detail": Queries(
            bound=30,
            make=stream_with_one_of_each,
            populate=thirty_more_of_each,
            rows=31,
            count=lambda response: len(response.context["map"].stages),
            persona=OWNER,
        ),
    },
)
test_value_stream_views = view_tests(VALUE_STREAM)


# --- Stages, edited on their stream's page ---------------------------------------------------


def stage_data(prefix="new", **overrides):
    data = {
        "name": "Check the policy",
        "responsible_party": "Loss adjuster",
        "process_time": "1.5",
        "process_time_unit": "hours",
        "lead_time": "2",
        "lead_time_unit": "days",
        "complete_accurate": "80",
        "value_class": "value_adding",
    }
    data.update(overrides)
    return {f"{prefix}-{key}": value for key, value in data.items()}


def make_stage(owner):
    """The middle one of its stream's three stages."""
    return make_stream(owner).stages.get(name="Assess the damage")


def stage_names(stage) -> list[str]:
    return list(
        Stage.objects.filter(value_stream=stage.value_stream_id)
        .order_by("position")
        .values_list("name", flat=True)
    )


def stage_added(stage):
    assert stage_names(stage) == [
        "Report the claim",
        "Assess the damage",
        "Pay the claim",
        "Check the policy",
    ]


def stage_renamed(stage):
    assert stage_names(stage) == ["Report the claim", "Assess the car", "Pay the claim"]


def stage_up(stage):
    assert stage_names(stage) == ["Assess the damage", "Report the claim", "Pay the claim"]


def stage_down(stage):
    assert stage_names(stage) == ["Report the claim", "Pay the claim", "Assess the damage"]


STAGE = ViewSpec(
    name="stages",
    make=make_stage,
    url_args=lambda stage: [stage.value_stream.slug, stage.pk],
    owner_role=VALUE_STREAM_OWNER,
    other_roles=(roles.SERVICE_OWNER,),
    actions={
        "add": add(
            "valuestreams:stage_add",
            args=lambda stage: [stage.value_stream.slug],
            needs="change",
            data=lambda stage: stage_data(),
            done=stage_added,
        ),
        "edit": edit(
            "valuestreams:stage_edit",
            data=lambda stage: stage_data(f"stage-{stage.pk}", name="Assess the car"),
            done=stage_renamed,
        ),
        "up": post("valuestreams:stage_up", done=stage_up),
        "down": post("valuestreams:stage_down", done=stage_down),
        "remove": post("valuestreams:stage_remove", done=gone),
    },
)
test_stage_views = view_tests(STAGE)


# --- Processes and their connections ------------------------------------------------------------


def make_process(owner):
    """A process of ``owner``'s stream, carrying out its first stage."""
    stream = make_stream(owner)
    return ProcessFactory(
        name="Settle claims", value_stream=stream, stages=list(stream.stages.all()[:1])
    )


def process_added(process):
    assert Process.objects.filter(name="Pay a claim", value_stream=process.value_stream).exists()


def process_renamed(process):
    assert fresh(process).name == "Settle motor claims"


def twenty_connections(process, owner):
    for _ in range(10):
        ProcessConnectionFactory(process=process, connected_to=ProcessFactory())
        ProcessConnectionFactory(process=ProcessFactory(), connected_to=process)


def twenty_more_processes(process, owner):
    for n in range(20):
        first = ProcessFactory(
            value_stream=process.value_stream, trigger="", activities=[f"Do {n}", "Log"]
        )
        other = ProcessFactory(value_stream=process.value_stream)
        ProcessConnectionFactory(process=first, connected_to=other)


def twenty_purpose_findings_and_one_duplicate(response):
    assert len(response.context["checks"]["purpose"]) == 20
    assert len(response.context["checks"]["duplicates"]) == 1


PROCESS = ViewSpec(
    name="processes",
    make=make_process,
    owner_role=VALUE_STREAM_OWNER,
    other_roles=(roles.SERVICE_OWNER,),
    label=lambda process: process.name,
    actions={
        "list": listing("valuestreams:process_list"),
        "detail": read("valuestreams:process_detail"),
        # A value-stream owner adds processes to their own stream: another stream's owner may
        # open the form, which refuses the stream.
        "add": add(
            "valuestreams:process_add",
            needs="change",
            data=lambda process: {"name": "Pay a claim", "value_stream": process.value_stream_id},
            done=process_added,
            expect={OTHER_OWNER: INVALID},
        ),
        "edit": edit(
            "valuestreams:process_edit",
            data=lambda process: {
                "name": "Settle motor claims",
                "value_stream": process.value_stream_id,
            },
            done=process_renamed,
        ),
        "delete": delete("valuestreams:process_delete"),
    },
    queries={
        "list": Queries(
            bound=15,
            make=lambda owner: ProcessFactory(
                value_stream=make_stream(owner), activities=["Take the call"]
            ),
            populate=twenty_more_processes,
            check_many=twenty_purpose_findings_and_one_duplicate,
        ),
        "detail": Queries(
            bound=15,
            populate=twenty_connections,
            rows=20,
            count=lambda response: len(response.context["connections"]),
        ),
    },
)
test_process_views = view_tests(PROCESS)


def make_connection(owner):
    """A connection of a process of ``owner``'s stream to another stream's process."""
    return ProcessConnectionFactory(
        process=make_process(owner),
        connected_to=ProcessFactory(name="Renew policies", value_stream=ValueStreamFactory()),
    )


CONNECTION = ViewSpec(
    name="process connections",
    make=make_connection,
    url_args=lambda connection: [connection.process_id, connection.pk],
    owner_role=VALUE_STREAM_OWNER,
    actions={"remove": post("valuestreams:connection_remove", done=gone)},
)
test_connection_views = view_tests(CONNECTION)


# --- The improvement log ----------------------------------------------------------------------

IMPROVEMENT_DATA = {
    "title": "Pay by instant transfer",
    "benefit_metric": "Lead time of Pay the claim",
    "benefit_from": "2",
    "benefit_to": "0.1",
    "benefit_unit": "days",
    "effort": "medium",
    "status": "proposed",
}
# Everyone with a role sees value streams, so everyone with a role suggests improvements.
SUGGESTION_GRANTS = {**GRANTS, "add": roles.ROLES}


def make_improvement(owner):
    """A proposed improvement of ``owner``'s stream, suggested by someone else."""
    suggester = UserFactory(username="suggester", role=roles.VIEWER)
    return ImprovementFactory(value_stream=make_stream(owner), suggested_by=suggester)


def improvement_data(improvement) -> dict:
    return {**IMPROVEMENT_DATA, "value_stream": improvement.value_stream_id}


def suggested(improvement, user):
    made = Improvement.objects.get(title=IMPROVEMENT_DATA["title"])
    assert (made.suggested_by, made.status) == (user, "proposed")


def retitled(improvement):
    assert fresh(improvement).title == IMPROVEMENT_DATA["title"]


def accepted(improvement):
    assert fresh(improvement).status == "accepted"


def improvement_of_a_stage(owner):
    stream = make_stream(owner)
    return ImprovementFactory(value_stream=stream, stage=stream.stages.first())


def twenty_more_improvements(improvement, owner):
    for n in range(20):
        ImprovementFactory(
            value_stream=ValueStreamFactory(owner=owner),
            service=ServiceFactory(),
            status=["proposed", "accepted", "in_progress", "rejected"][n % 4],
        )


IMPROVEMENT = ViewSpec(
    name="improvements, by their stream's owner",
    make=make_improvement,
    owner_role=VALUE_STREAM_OWNER,
    grants=SUGGESTION_GRANTS,
    other_roles=(roles.FINANCE,),
    label=lambda improvement: improvement.title,
    actions={
        # The board publicises improvements: anyone signed in reads it, with or without a role.
        "board": listing("valuestreams:improvement_board", without_role=ALLOWED),
        "add": add("valuestreams:improvement_add", data=improvement_data, done=suggested),
        "edit": edit("valuestreams:improvement_edit", data=improvement_data, done=retitled),
        "status": post(
            "valuestreams:improvement_status",
            data=lambda improvement: {"status": "accepted"},
            done=accepted,
        ),
        "delete": delete("valuestreams:improvement_delete"),
    },
    queries={
        "board": Queries(
            bound=12,
            make=improvement_of_a_stage,
            populate=twenty_more_improvements,
            rows=21,
            count=lambda response: sum(len(column.items) for column in response.context["columns"]),
            persona=OWNER,
        ),
    },
)
test_improvement_views = view_tests(IMPROVEMENT)

# Whoever suggested an improvement edits or withdraws it while it is proposed, but does not
# decide it.
PROPOSAL = ViewSpec(
    name="improvements, by whoever suggested them",
    make=lambda owner: ImprovementFactory(suggested_by=owner),
    owner_role=roles.VIEWER,
    grants=SUGGESTION_GRANTS,
    other_roles=(roles.FINANCE,),
    actions={
        "edit": edit("valuestreams:improvement_edit", data=improvement_data, done=retitled),
        "status": post(
            "valuestreams:improvement_status",
            data=lambda improvement: {"status": "accepted"},
            done=accepted,
            expect={OWNER: REFUSED},
        ),
        "delete": delete("valuestreams:improvement_delete"),
    },
)
test_proposal_views = view_tests(PROPOSAL)

# Once accepted, it is no longer the suggester's to edit or withdraw.
ACCEPTED_SUGGESTION = ViewSpec(
    name="accepted improvements, by whoever suggested them",
    make=lambda owner: ImprovementFactory(suggested_by=owner, status="accepted"),
    owner_role=roles.VIEWER,
    owner_may=(),
    grants=SUGGESTION_GRANTS,
    actions={
        "edit": edit("valuestreams:improvement_edit", data=improvement_data, done=retitled),
        "delete": delete("valuestreams:improvement_delete"),
    },
)
test_accepted_suggestion_views = view_tests(ACCEPTED_SUGGESTION)


# --- Service ownership --------------------------------------------------------------------------

OWNERSHIP_REPORT = ViewSpec(
    name="the service ownership report",
    make=lambda owner: None,
    actions={"report": read("valuestreams:ownership_report", args=lambda record: [])},
)
test_ownership_report_views = view_tests(OWNERSHIP_REPORT)


# --- Verb lists: every role reads them, Portfolio managers keep them ---------------------------


def make_verb_list(owner):
    return VerbList.objects.create(name="Claims verbs", language="en", verbs="subrogate adjust")


def verb_list_data(name):
    return lambda verb_list: {
        "name": name,
        "language": "en",
        "verbs": "subrogate adjust indemnify",
        "in_use": "on",
    }


def verb_list_added(verb_list, user, response):
    added = VerbList.objects.get(name="Underwriting verbs")
    assert added.verb_set == {"subrogate", "adjust", "indemnify"}
    assert response.url == added.get_absolute_url()


def verb_list_renamed(verb_list):
    assert fresh(verb_list).name == "Claims handling verbs"
    assert "indemnify" in fresh(verb_list).verb_set


VERB_LIST = ViewSpec(
    name="verb lists",
    make=make_verb_list,
    other_roles=(VALUE_STREAM_OWNER,),
    actions={
        "list": listing("valuestreams:verblist_list"),
        "detail": read("valuestreams:verblist_detail"),
        "add": add(
            "valuestreams:verblist_add",
            data=verb_list_data("Underwriting verbs"),
            done=verb_list_added,
        ),
        "edit": edit(
            "valuestreams:verblist_edit",
            data=verb_list_data("Claims handling verbs"),
            done=verb_list_renamed,
        ),
        "delete": delete("valuestreams:verblist_delete"),
    },
)
test_verb_list_views = view_tests(VERB_LIST)
