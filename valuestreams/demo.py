"""Meridian Mutual's value streams: five streams across the three experiences, a future state
of the claims stream, processes on all four CEMM layers and a dozen improvements.

Idempotent: every record is keyed by (source "demo", external id) and created only when
missing; a second run creates and changes nothing. Services, applications and customers of
the portfolio demo are looked up by slug and left out when that demo is not loaded.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from core.demo import SOURCE
from core.demo import RecordLoader
from core.demo import demo_people
from portfolio.models import Application
from portfolio.models import Customer
from portfolio.models import Service
from valuestreams import services
from valuestreams.choices import Effort
from valuestreams.choices import Experience
from valuestreams.choices import ImprovementStatus
from valuestreams.choices import TimeUnit
from valuestreams.choices import ValueClass
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import ProcessConnection
from valuestreams.models import Stage
from valuestreams.models import ValueStream

VA, NVA, WASTE = ValueClass.VALUE_ADDING, ValueClass.NECESSARY, ValueClass.WASTE
MIN, H, D = TimeUnit.MINUTES, TimeUnit.HOURS, TimeUnit.DAYS
CLAIMS, CLAIMS_FUTURE = "settle-a-motor-claim", "settle-a-motor-claim-future"

# slug: (name, owner, experience, customer slug, segment, trigger, result)
STREAMS = {
    CLAIMS: (
        "Settle a motor claim",
        "vera",
        Experience.CUSTOMER,
        "retail-policyholders",
        "Private motor policyholders",
        "A policyholder reports damage to their car.",
        "The car is repaired or the claim paid, and the policyholder knows it.",
    ),
    "buy-a-policy-online": (
        "Buy a policy online",
        "walter",
        Experience.CUSTOMER,
        "retail-policyholders",
        "Private customers buying online",
        "A customer asks for a quote on the website or in the app.",
        "The customer is insured and holds the policy documents.",
    ),
    "renew-a-policy": (
        "Renew a policy",
        "walter",
        Experience.CUSTOMER,
        "retail-policyholders",
        "Policyholders whose policy ends",
        "A policy approaches its end date.",
        "The policyholder stays insured without a gap, at a price they accept.",
    ),
    "onboard-a-broker": (
        "Onboard a broker",
        "vera",
        Experience.USER,
        "broker-network",
        "Independent brokers",
        "A broker applies for an agency with Meridian Mutual.",
        "The broker can quote and sell Meridian policies on the broker portal.",
    ),
    "hire-and-equip-a-claims-adjuster": (
        "Hire and equip a claims adjuster",
        "walter",
        Experience.EMPLOYEE,
        "claims-division",
        "Claims division",
        "The claims division needs another adjuster.",
        "A new adjuster handles claims with everything they need from day one.",
    ),
}

# The future state of the claims stream: (slug, name, current slug)
FUTURE_STATES = ((CLAIMS_FUTURE, "Settle a motor claim (future state)", CLAIMS),)


def T(value: str, unit: str) -> tuple[Decimal, str]:
    return Decimal(value), unit


# stream slug: [(name, responsible party, PT, LT, %C&A, value class, Moment of Truth,
#                services, applications)]
STAGES = {
    CLAIMS: [
        (
            "Report the claim",
            "Policyholder with the contact centre",
            T("20", MIN),
            T("1", H),
            "70",
            VA,
            True,
            ["online-claims", "customer-contact-centre", "mobile-app"],
            ["customer-portal", "contact-centre-suite"],
        ),
        (
            "Register the claim and check cover",
            "Claims handler",
            T("15", MIN),
            T("1", D),
            "85",
            NVA,
            False,
            ["claims-platform", "policy-admin-platform"],
            ["polaris-claims", "polaris-policy"],
        ),
        (
            "Screen the claim for fraud",
            "Fraud team",
            T("10", MIN),
            T("2", D),
            "95",
            NVA,
            False,
            ["fraud-screening"],
            ["fraud-engine"],
        ),
        (
            "Wait for the repairer's estimate",
            "Repairer",
            T("0", MIN),
            T("3", D),
            "100",
            WASTE,
            False,
            ["home-repair-network"],
            [],
        ),
        (
            "Assess the damage",
            "Loss adjuster",
            T("1", H),
            T("2", D),
            "80",
            VA,
            False,
            ["claims-platform", "document-management"],
            ["polaris-claims", "document-archive"],
        ),
        (
            "Approve the settlement",
            "Claims handler",
            T("20", MIN),
            T("1", D),
            "90",
            NVA,
            False,
            ["claims-platform"],
            ["polaris-claims"],
        ),
        (
            "Pay the claim",
            "Finance",
            T("10", MIN),
            T("2", D),
            "98",
            VA,
            True,
            ["billing-and-payments", "payment-gateway"],
            ["paystream-connector"],
        ),
        (
            "Inform the policyholder",
            "Contact centre",
            T("10", MIN),
            T("2", H),
            "95",
            VA,
            True,
            ["document-delivery", "customer-contact-centre", "messaging-gateway"],
            ["notify"],
        ),
    ],
    CLAIMS_FUTURE: [
        (
            "Report the claim with photos",
            "Policyholder, online or in the app",
            T("15", MIN),
            T("30", MIN),
            "90",
            VA,
            True,
            ["online-claims", "mobile-app"],
            ["customer-portal", "meridian-mobile"],
        ),
        (
            "Check cover automatically",
            "Claims platform",
            T("1", MIN),
            T("5", MIN),
            "98",
            NVA,
            False,
            ["claims-platform", "policy-admin-platform"],
            ["polaris-claims"],
        ),
        (
            "Screen for fraud in real time",
            "Fraud engine",
            T("1", MIN),
            T("10", MIN),
            "97",
            NVA,
            False,
            ["fraud-screening"],
            ["fraud-engine"],
        ),
        (
            "Assess the damage from the photos",
            "Loss adjuster",
            T("30", MIN),
            T("4", H),
            "90",
            VA,
            False,
            ["claims-platform"],
            ["polaris-claims"],
        ),
        (
            "Approve and pay the claim",
            "Claims handler",
            T("10", MIN),
            T("1", D),
            "98",
            VA,
            True,
            ["claims-platform", "billing-and-payments", "payment-gateway"],
            ["paystream-connector"],
        ),
        (
            "Inform the policyholder",
            "Claims platform",
            T("5", MIN),
            T("10", MIN),
            "98",
            VA,
            True,
            ["document-delivery", "messaging-gateway"],
            ["notify"],
        ),
    ],
    "buy-a-policy-online": [
        (
            "Request a quote",
            "Customer",
            T("10", MIN),
            T("15", MIN),
            "75",
            VA,
            True,
            ["quote-and-buy", "mobile-app"],
            ["quote-engine", "customer-portal"],
        ),
        (
            "Verify the customer's identity",
            "Customer",
            T("5", MIN),
            T("1", D),
            "90",
            NVA,
            True,
            ["customer-identity"],
            ["meridian-id"],
        ),
        (
            "Calculate the premium",
            "Rating engine",
            T("1", MIN),
            T("5", MIN),
            "97",
            VA,
            False,
            ["quote-and-buy"],
            ["rating-engine"],
        ),
        (
            "Pay the first premium",
            "Customer",
            T("5", MIN),
            T("10", MIN),
            "92",
            VA,
            True,
            ["billing-and-payments", "payment-gateway"],
            ["paystream-connector"],
        ),
        (
            "Issue the policy",
            "Policy administration",
            T("2", MIN),
            T("4", H),
            "96",
            VA,
            False,
            ["policy-admin-platform"],
            ["polaris-policy"],
        ),
        (
            "Send the policy documents",
            "Document services",
            T("1", MIN),
            T("1", D),
            "94",
            VA,
            True,
            ["document-delivery", "messaging-gateway"],
            ["docugen", "notify"],
        ),
    ],
    "renew-a-policy": [
        (
            "Select the policies due for renewal",
            "Policy administration",
            T("5", MIN),
            T("1", D),
            "99",
            NVA,
            False,
            ["policy-renewals", "policy-admin-platform"],
            ["polaris-policy"],
        ),
        (
            "Recalculate the premium",
            "Pricing team",
            T("30", MIN),
            T("2", D),
            "88",
            VA,
            False,
            ["policy-renewals"],
            ["rating-engine"],
        ),
        (
            "Send the renewal offer",
            "Document services",
            T("2", MIN),
            T("1", D),
            "95",
            VA,
            True,
            ["document-delivery", "messaging-gateway"],
            ["docugen", "notify"],
        ),
        (
            "Answer the policyholder's questions",
            "Contact centre",
            T("12", MIN),
            T("3", D),
            "85",
            VA,
            True,
            ["customer-contact-centre"],
            ["contact-centre-suite", "clearview-crm"],
        ),
        (
            "Collect the renewal premium",
            "Finance",
            T("2", MIN),
            T("5", D),
            "97",
            VA,
            True,
            ["billing-and-payments"],
            ["paystream-connector"],
        ),
        (
            "Confirm the renewal",
            "Policy administration",
            T("3", MIN),
            T("1", D),
            "99",
            VA,
            False,
            ["policy-self-service", "policy-renewals"],
            ["customer-portal"],
        ),
    ],
    "onboard-a-broker": [
        (
            "Apply for an agency",
            "Broker",
            T("45", MIN),
            T("1", D),
            "70",
            VA,
            True,
            ["broker-portal"],
            ["broker-extranet"],
        ),
        (
            "Check licences and references",
            "Broker management",
            T("2", H),
            T("5", D),
            "90",
            NVA,
            False,
            ["crm-platform"],
            ["clearview-crm"],
        ),
        (
            "Sign the agency agreement",
            "Broker and broker manager",
            T("30", MIN),
            T("4", D),
            "95",
            VA,
            True,
            ["document-management"],
            ["docugen"],
        ),
        (
            "Set up access to the broker portal",
            "Service desk",
            T("20", MIN),
            T("2", D),
            "85",
            NVA,
            True,
            ["broker-portal", "customer-identity"],
            ["meridian-id"],
        ),
        (
            "Train the broker",
            "Broker manager",
            T("3", H),
            T("5", D),
            "98",
            VA,
            True,
            ["broker-portal"],
            ["broker-extranet"],
        ),
    ],
    "hire-and-equip-a-claims-adjuster": [
        (
            "Approve the vacancy",
            "Head of claims",
            T("30", MIN),
            T("5", D),
            "95",
            NVA,
            False,
            ["hr-payroll"],
            ["ledgerworks-hr"],
        ),
        (
            "Recruit the adjuster",
            "HR",
            T("6", D),
            T("30", D),
            "80",
            VA,
            False,
            ["hr-payroll"],
            ["ledgerworks-hr"],
        ),
        (
            "Sign the employment contract",
            "HR and the new adjuster",
            T("1", H),
            T("5", D),
            "97",
            VA,
            True,
            ["hr-payroll"],
            ["ledgerworks-hr"],
        ),
        (
            "Equip the workplace",
            "Workplace services",
            T("2", H),
            T("10", D),
            "75",
            NVA,
            True,
            ["workplace-services", "procurement"],
            ["procure-to-pay"],
        ),
        (
            "Grant access to the claims systems",
            "Service desk",
            T("30", MIN),
            T("3", D),
            "80",
            NVA,
            True,
            ["service-desk", "claims-platform"],
            ["itsm-tool"],
        ),
        (
            "Train on claims handling",
            "Claims academy",
            T("5", D),
            T("10", D),
            "95",
            VA,
            True,
            ["claims-platform"],
            ["polaris-claims"],
        ),
    ],
}

# key: (name, value stream slug or None, trigger, result, stage names, activities)
PROCESSES = {
    "settle-motor-claims": (
        "Settle motor claims",
        CLAIMS,
        "A policyholder reports damage to their car.",
        "The claim is settled and the policyholder informed.",
        [
            "Report the claim",
            "Register the claim and check cover",
            "Pay the claim",
            "Inform the policyholder",
        ],
        ["Take the claim", "Decide on the claim", "Settle the claim", "Close the claim file"],
    ),
    "register-a-claim": (
        "Register a claim",
        CLAIMS,
        "A policyholder reports a loss.",
        "The policyholder has a claim number and knows what happens next.",
        ["Report the claim", "Register the claim and check cover"],
        [
            "Record the loss details",
            "Verify the customer's identity",
            "Check the policy cover",
            "Open the claim file",
        ],
    ),
    "pay-a-claim": (
        "Pay a claim",
        CLAIMS,
        "A settlement is approved.",
        "The policyholder or the repairer has been paid.",
        ["Pay the claim"],
        ["Approve the payment", "Transfer the settlement"],
    ),
    "assess-vehicle-damage": (
        "Assess vehicle damage",
        CLAIMS,
        "A registered claim needs a damage assessment.",
        "The claim has an assessed amount the policyholder can rely on.",
        ["Assess the damage"],
        ["Review the repairer's estimate", "Inspect the vehicle", "Set the claim reserve"],
    ),
    "screen-claims-for-fraud": (
        "Screen claims for fraud",
        CLAIMS,
        "A claim is registered.",
        "The claim is cleared or referred for investigation.",
        ["Screen the claim for fraud"],
        ["Score the claim", "Refer suspicious claims"],
    ),
    "manage-the-repairer-network": (
        "Manage the repairer network",
        None,
        "",
        "",
        [],
        ["Select repairers", "Agree repair rates", "Review repairer performance"],
    ),
    "maintain-fraud-models": (
        "Maintain fraud models",
        None,
        "Every quarter.",
        "",
        [],
        ["Retrain the models", "Score the claim"],
    ),
    "sell-a-policy-online": (
        "Sell a policy online",
        "buy-a-policy-online",
        "A customer asks for a quote online.",
        "The customer is insured and has the documents.",
        [
            "Request a quote",
            "Verify the customer's identity",
            "Pay the first premium",
            "Send the policy documents",
        ],
        [
            "Quote the premium",
            "Verify the customer's identity",
            "Take the first payment",
            "Issue the policy",
        ],
    ),
    "renew-policies": (
        "Renew policies",
        "renew-a-policy",
        "A policy approaches its end date.",
        "The policy is renewed or ended as the policyholder chose.",
        [
            "Send the renewal offer",
            "Answer the policyholder's questions",
            "Collect the renewal premium",
        ],
        ["Offer the renewal", "Collect the premium", "Confirm the renewal"],
    ),
    "handle-policyholder-questions": (
        "Handle policyholder questions",
        "renew-a-policy",
        "A policyholder asks a question about their renewal.",
        "The policyholder has an answer.",
        ["Answer the policyholder's questions"],
        ["Answer the question", "Log the contact"],
    ),
    "onboard-brokers": (
        "Onboard brokers",
        "onboard-a-broker",
        "A broker applies for an agency.",
        "The broker sells Meridian policies.",
        [
            "Apply for an agency",
            "Sign the agency agreement",
            "Set up access to the broker portal",
            "Train the broker",
        ],
        [
            "Take the application",
            "Check the broker's licences",
            "Sign the agreement",
            "Train the broker",
        ],
    ),
    "hire-claims-adjusters": (
        "Hire claims adjusters",
        "hire-and-equip-a-claims-adjuster",
        "The claims division needs another adjuster.",
        "A new adjuster starts work.",
        ["Sign the employment contract", "Train on claims handling"],
        ["Recruit the candidate", "Offer the contract", "Plan the first weeks"],
    ),
    "provision-workplaces": (
        "Provision workplaces",
        "hire-and-equip-a-claims-adjuster",
        "A new employee is due to start.",
        "The employee's workplace and equipment are ready on day one.",
        [],
        ["Order the equipment", "Set up the desk"],
    ),
}

CONNECTIONS = (
    ("settle-motor-claims", "register-a-claim"),
    ("settle-motor-claims", "pay-a-claim"),
    ("register-a-claim", "assess-vehicle-damage"),
    ("register-a-claim", "screen-claims-for-fraud"),
    ("assess-vehicle-damage", "manage-the-repairer-network"),
    ("renew-policies", "handle-policyholder-questions"),
    ("hire-claims-adjusters", "provision-workplaces"),
)

# key: (stream slug, stage name or None, service slug or None, title, description, suggested by,
#       days ago, metric, from, to, unit, effort, status, measured before, measured after)
IMPROVEMENTS = {
    "claim-photos": (
        CLAIMS,
        "Report the claim",
        "online-claims",
        "Let policyholders upload photos",
        "Photos taken at the scene let the adjuster assess most damage without a visit.",
        "vera",
        75,
        "Lead time of Assess the damage",
        "2",
        "0.5",
        "days",
        Effort.MEDIUM,
        ImprovementStatus.ACCEPTED,
        None,
        None,
    ),
    "automatic-cover-check": (
        CLAIMS,
        "Register the claim and check cover",
        "claims-platform",
        "Check cover automatically at registration",
        "The claims platform can read the policy and confirm cover while the claim is taken.",
        "bob",
        60,
        "Lead time of Register the claim",
        "8",
        "0.1",
        "hours",
        Effort.LARGE,
        ImprovementStatus.IN_PROGRESS,
        None,
        None,
    ),
    "real-time-fraud": (
        CLAIMS,
        "Screen the claim for fraud",
        "fraud-screening",
        "Score fraud in real time",
        "Only the claims the engine flags need the fraud team.",
        "alice",
        20,
        "Lead time of Screen the claim for fraud",
        "2",
        "0.01",
        "days",
        Effort.LARGE,
        ImprovementStatus.PROPOSED,
        None,
        None,
    ),
    "repairer-estimates": (
        CLAIMS,
        "Wait for the repairer's estimate",
        "home-repair-network",
        "Ask repairers for estimates within a day",
        "Agree a one-day turnaround for estimates in the repairer contracts.",
        "victor",
        120,
        "Days waiting for an estimate",
        "3",
        "1",
        "days",
        Effort.SMALL,
        ImprovementStatus.DONE,
        "3.2",
        "1.1",
    ),
    "instant-payment": (
        CLAIMS,
        "Pay the claim",
        "payment-gateway",
        "Pay claims by instant transfer",
        "",
        "alice",
        10,
        "Lead time of Pay the claim",
        "2",
        "0.1",
        "days",
        Effort.MEDIUM,
        ImprovementStatus.PROPOSED,
        None,
        None,
    ),
    "sms-updates": (
        CLAIMS,
        "Inform the policyholder",
        "messaging-gateway",
        "Send claim status updates by text message",
        "Policyholders call less when they are told where their claim stands.",
        "carla",
        150,
        "Calls asking for a claim's status",
        "410",
        "150",
        "calls a week",
        Effort.SMALL,
        ImprovementStatus.DONE,
        "410",
        "170",
    ),
    "prefill-quote": (
        "buy-a-policy-online",
        "Request a quote",
        "quote-and-buy",
        "Pre-fill the quote from the car's registration",
        "Most quote errors are mistyped car details.",
        "walter",
        45,
        "%C&A of Request a quote",
        "75",
        "95",
        "%",
        Effort.MEDIUM,
        ImprovementStatus.ACCEPTED,
        None,
        None,
    ),
    "second-identity-check": (
        "buy-a-policy-online",
        "Verify the customer's identity",
        None,
        "Drop the second identity check",
        "Customers are checked twice: at sign-up and before payment.",
        "bob",
        90,
        "Lead time of Verify the customer's identity",
        "1",
        "0",
        "days",
        Effort.SMALL,
        ImprovementStatus.REJECTED,
        None,
        None,
    ),
    "early-renewal-offers": (
        "renew-a-policy",
        "Send the renewal offer",
        "policy-renewals",
        "Send renewal offers six weeks ahead",
        "Policyholders who get the offer early compare less and renew more.",
        "walter",
        30,
        "Renewal rate",
        "78",
        "84",
        "%",
        Effort.SMALL,
        ImprovementStatus.IN_PROGRESS,
        None,
        None,
    ),
    "renew-in-app": (
        "renew-a-policy",
        None,
        "mobile-app",
        "Let policyholders renew in the app",
        "",
        "carla",
        5,
        "Calls per renewal",
        "0.4",
        "0.1",
        "calls",
        Effort.LARGE,
        ImprovementStatus.PROPOSED,
        None,
        None,
    ),
    "online-licence-check": (
        "onboard-a-broker",
        "Check licences and references",
        "crm-platform",
        "Check licences against the public register online",
        "The regulator's register answers in seconds what letters answer in days.",
        "bob",
        200,
        "Lead time of Check licences and references",
        "5",
        "1",
        "days",
        Effort.MEDIUM,
        ImprovementStatus.DONE,
        "5",
        "1.5",
    ),
    "order-equipment-early": (
        "hire-and-equip-a-claims-adjuster",
        "Equip the workplace",
        "workplace-services",
        "Order equipment when the contract is signed",
        "New adjusters wait for laptops in their first week.",
        "fiona",
        40,
        "Lead time of Equip the workplace",
        "10",
        "2",
        "days",
        Effort.SMALL,
        ImprovementStatus.ACCEPTED,
        None,
        None,
    ),
}


class DemoLoader(RecordLoader):
    def __init__(self, *, today: datetime.date):
        super().__init__()
        self.today = today
        self.users = demo_users()
        self.services = {s.slug: s for s in Service.objects.all()}
        self.applications = {a.slug: a for a in Application.objects.all()}
        self.customers = {c.slug: c for c in Customer.objects.all()}
        self.streams: dict[str, ValueStream] = {}
        self.stages: dict[tuple[str, str], Stage] = {}
        self.processes: dict[str, Process] = {}

    def load(self) -> None:
        for slug, row in STREAMS.items():
            self.streams[slug] = self.ensure(
                ValueStream, f"valuestream:{slug}", self.create_stream, slug, row
            )
        for slug, name, current in FUTURE_STATES:
            self.streams[slug] = self.ensure(
                ValueStream, f"valuestream:{slug}", self.create_future, slug, name, current
            )
        for slug, rows in STAGES.items():
            for position, row in enumerate(rows):
                stage = self.ensure(
                    Stage, f"stage:{slug}:{position}", self.create_stage, slug, position, row
                )
                self.stages[slug, row[0]] = stage
                # Added on every run (a no-op for links already there), so a portfolio demo
                # loaded later still gets linked.
                stage.services.add(*(self.services[s] for s in row[7] if s in self.services))
                stage.applications.add(
                    *(self.applications[a] for a in row[8] if a in self.applications)
                )
        for key, row in PROCESSES.items():
            self.processes[key] = self.ensure(
                Process, f"process:{key}", self.create_process, key, row
            )
        for a, b in CONNECTIONS:
            self.ensure(ProcessConnection, f"connection:{a}:{b}", self.create_connection, a, b)
        for key, row in IMPROVEMENTS.items():
            self.ensure(Improvement, f"improvement:{key}", self.create_improvement, row)
        services.recompute_process_layers()

    def create_stream(self, external_id, slug, row) -> ValueStream:
        name, owner, experience, customer, segment, trigger, result = row
        return services.save_value_stream(
            value_stream=ValueStream(
                source=SOURCE,
                external_id=external_id,
                name=name,
                slug=slug,
                owner=self.users[owner],
                experience=experience,
                customer=self.customers.get(customer),
                segment="" if customer in self.customers else segment,
                trigger=trigger,
                result=result,
            )
        )

    def create_future(self, external_id, slug, name, current_slug) -> ValueStream:
        # Its own stages follow (STAGES): the redesign, not a copy of the current state's.
        future = services.future_state_of(current=self.streams[current_slug], name=name)
        future.source, future.external_id, future.slug = SOURCE, external_id, slug
        future.description = "Photos at first notice, automatic checks and one decision to pay."
        return services.save_value_stream(value_stream=future)

    def create_stage(self, external_id, slug, position, row) -> Stage:
        name, party, (pt, pt_unit), (lt, lt_unit), ca, value_class, moment = row[:7]
        stage = Stage(
            source=SOURCE,
            external_id=external_id,
            value_stream=self.streams[slug],
            position=position,
            name=name,
            responsible_party=party,
            process_time_minutes=services.normalise_duration(value=pt, unit=pt_unit),
            process_time_unit=pt_unit,
            lead_time_minutes=services.normalise_duration(value=lt, unit=lt_unit),
            lead_time_unit=lt_unit,
            complete_accurate=Decimal(ca),
            value_class=value_class,
            moment_of_truth=moment,
            # Measured in a walk of the stream a month ago.
            measured_on=self.today - datetime.timedelta(days=30),
        )
        stage.full_clean()
        stage.save()
        return stage

    def create_process(self, external_id, key, row) -> Process:
        name, stream_slug, trigger, result, stage_names, activities = row
        process = Process(
            source=SOURCE,
            external_id=external_id,
            name=name,
            value_stream=self.streams.get(stream_slug) if stream_slug else None,
            trigger=trigger,
            result=result,
            activities=activities,
        )
        process.full_clean()
        process.save()
        process.stages.set([self.stages[stream_slug, n] for n in stage_names])
        return process

    def create_connection(self, external_id, a, b) -> ProcessConnection:
        return ProcessConnection.objects.create(
            source=SOURCE,
            external_id=external_id,
            process=self.processes[a],
            connected_to=self.processes[b],
        )

    def create_improvement(self, external_id, row) -> Improvement:
        (
            stream,
            stage,
            service,
            title,
            description,
            suggested_by,
            days_ago,
            metric,
            benefit_from,
            benefit_to,
            unit,
            effort,
            status,
            before,
            after,
        ) = row
        return services.save_improvement(
            improvement=Improvement(
                source=SOURCE,
                external_id=external_id,
                value_stream=self.streams[stream],
                stage=self.stages[stream, stage] if stage else None,
                service=self.services.get(service) if service else None,
                title=title,
                description=description,
                suggested_by=self.users[suggested_by],
                suggested_on=self.today - datetime.timedelta(days=days_ago),
                benefit_metric=metric,
                benefit_from=Decimal(benefit_from),
                benefit_to=Decimal(benefit_to),
                benefit_unit=unit,
                effort=effort,
                status=status,
                measured_before=Decimal(before) if before else None,
                measured_after=Decimal(after) if after else None,
            )
        )


def demo_users() -> dict:
    names = {row[1] for row in STREAMS.values()} | {row[5] for row in IMPROVEMENTS.values()}
    return demo_people(names)


def load(*, stdout) -> None:
    loader = DemoLoader(today=timezone.localdate())
    loader.load()
    stdout.write(loader.summary("Demo value streams"))
