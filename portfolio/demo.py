"""The service portfolio of the demo insurer, Meridian Mutual.

Thirty services with their four-quadrant specifications, the end-to-end dependencies between
them, eight customers with their subscriptions and Successful Customer Outcomes, ten suppliers
with fourteen contracts, and twenty-five applications.

Every record has source "demo" and a stable external id, and is created only when no record
with that key exists, through the portfolio's services functions, so the app's rules apply. A
second load therefore creates nothing and changes nothing (and so writes no change records),
and a demo record someone has edited keeps the edit.

Four services are deliberately not fully specified (travel-assistance, home-repair-network,
procurement, management-information) so the completeness checks have something to show.
Contract renewal dates are set relative to the day of the first load, so that three contracts
reach their notice deadline within 90 days of it.
"""

import datetime
from collections import Counter
from decimal import Decimal

from django.utils import timezone

from core.demo import SOURCE
from core.demo import RecordLoader
from core.demo import demo_people
from portfolio.choices import ApplicationLifecycle
from portfolio.choices import Aspect
from portfolio.choices import Comparator
from portfolio.choices import Criticality
from portfolio.choices import CustomerKind
from portfolio.choices import Dimension
from portfolio.choices import MeasurementWindow
from portfolio.choices import OutcomeAgreement
from portfolio.choices import ServiceKind
from portfolio.choices import ServiceLifecycle
from portfolio.choices import TimeDisposition
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from portfolio.models import Contract
from portfolio.models import ContractCoverage
from portfolio.models import Customer
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.models import Subscription
from portfolio.models import Supplier
from portfolio.services import add_specification_item
from portfolio.services import save_application
from portfolio.services import save_application_support
from portfolio.services import save_contract
from portfolio.services import save_coverage
from portfolio.services import save_customer
from portfolio.services import save_dependency
from portfolio.services import save_outcome
from portfolio.services import save_service
from portfolio.services import save_subscription
from portfolio.services import save_supplier

CURRENCY = "EUR"

CF, SUP, INT = ServiceKind.CUSTOMER_FACING, ServiceKind.SUPPORTING, ServiceKind.INTERNAL
LIVE, PIPELINE, RETIRED = ServiceLifecycle.LIVE, ServiceLifecycle.PIPELINE, ServiceLifecycle.RETIRED
LOW, MEDIUM, HIGH, CRITICAL = (
    Criticality.LOW,
    Criticality.MEDIUM,
    Criticality.HIGH,
    Criticality.CRITICAL,
)
HOUR, DAY, MONTH, QUARTER, YEAR = (
    MeasurementWindow.HOUR,
    MeasurementWindow.DAY,
    MeasurementWindow.MONTH,
    MeasurementWindow.QUARTER,
    MeasurementWindow.YEAR,
)
AT_LEAST, AT_MOST = Comparator.AT_LEAST, Comparator.AT_MOST
D = datetime.date
# The day printed document delivery (and what underpinned only it) was switched off.
RETIRED_ON = D(2024, 6, 30)

# fmt: off
# --- Services ---------------------------------------------------------------------------------
# slug: (name, kind, owner, lifecycle, criticality, lifecycle dates, summary)
# Lifecycle dates: live_on for live services, pipeline_on for the pipeline, and
# (live_on, retired_on) for the retired one.
SERVICES = {
    # Customer-facing: where the value lands with the customer, owned by value-stream owners
    # or the service owners accountable for the whole journey.
    "online-claims": (
        "Online Claims", CF, "vera", LIVE, CRITICAL, D(2019, 4, 1),
        "Policyholders report and follow motor, home and travel claims online, around the "
        "clock, with photos and documents, and see every step until payment.",
    ),
    "policy-self-service": (
        "Policy Self-Service", CF, "walter", LIVE, HIGH, D(2018, 10, 15),
        "Policyholders view their policies and documents and change their cover, address, "
        "vehicle or payment details themselves, without calling us.",
    ),
    "quote-and-buy": (
        "Quote and Buy", CF, "walter", LIVE, HIGH, D(2020, 3, 2),
        "Prospects get a motor, home or travel quote in minutes and buy the policy online, "
        "with cover starting the same day.",
    ),
    "customer-contact-centre": (
        "Customer Contact Centre", CF, "alice", LIVE, CRITICAL, D(2015, 1, 5),
        "Phone, chat and e-mail contact for policyholders and prospects: questions, changes, "
        "first notice of loss and complaints.",
    ),
    "broker-portal": (
        "Broker Portal", CF, "bob", LIVE, HIGH, D(2017, 6, 1),
        "Independent brokers quote, place and service Meridian policies for their clients and "
        "see their commission statements.",
    ),
    "billing-and-payments": (
        "Billing and Payments", CF, "alice", LIVE, CRITICAL, D(2016, 2, 1),
        "Premium collection by direct debit, card and bank transfer; instalment plans, refunds "
        "and payment reminders.",
    ),
    "mobile-app": (
        "Meridian Mobile App", CF, "carla", LIVE, HIGH, D(2021, 5, 17),
        "The app for policyholders: digital insurance card, claims with photos, roadside help "
        "at a tap, and notifications about payments, renewals and claims.",
    ),
    "roadside-assistance": (
        "Roadside Assistance", CF, "vera", LIVE, CRITICAL, D(2014, 9, 1),
        "Breakdown help around the clock for motor policyholders across Europe: repair on the "
        "spot, towing, a replacement car and onward travel.",
    ),
    "document-delivery": (
        "Printed Document Delivery", CF, "carla", RETIRED, LOW, (D(2012, 1, 2), RETIRED_ON),
        "Policy schedules, renewal notices and letters printed and posted. Retired: documents "
        "now reach customers digitally through self-service, the app and e-mail.",
    ),
    "policy-renewals": (
        "Policy Renewals", CF, "walter", LIVE, HIGH, D(2016, 9, 1),
        "Renewal offers sent in good time with a clear explanation of price changes, easy "
        "acceptance or change of cover, and automatic continuation.",
    ),
    "home-repair-network": (
        "Home Repair Network", CF, "vera", PIPELINE, MEDIUM, D(2025, 2, 3),
        "Vetted contractors repair storm, water and fire damage at policyholders' homes, "
        "booked with the claim and paid directly by Meridian.",
    ),
    "travel-assistance": (
        "Travel Assistance", CF, "bob", PIPELINE, MEDIUM, D(2025, 4, 1),
        "Medical and travel emergency help abroad for travel policyholders: a 24/7 emergency "
        "line, hospital payment guarantees and repatriation.",
    ),
    # Supporting: the technical services that underpin the customer-facing ones.
    "customer-identity": (
        "Customer Identity and Login", SUP, "alice", LIVE, CRITICAL, D(2019, 1, 14),
        "One login for policyholders and brokers across web and app: registration, "
        "multi-factor authentication, password reset and consent records.",
    ),
    "payment-gateway": (
        "Payment Gateway", SUP, "alice", LIVE, CRITICAL, D(2016, 2, 1),
        "Card, SEPA direct debit and payout processing for every channel, with PCI DSS "
        "compliant card tokenisation.",
    ),
    "document-management": (
        "Document Management", SUP, "carla", LIVE, HIGH, D(2013, 5, 6),
        "Generates, stores and retrieves policy documents, claim evidence and correspondence, "
        "and applies the retention schedule.",
    ),
    "policy-admin-platform": (
        "Policy Administration Platform", SUP, "bob", LIVE, CRITICAL, D(2012, 1, 2),
        "The system of record for products, policies, cover changes, premiums and renewals of "
        "all lines of business.",
    ),
    "claims-platform": (
        "Claims Platform", SUP, "bob", LIVE, CRITICAL, D(2018, 3, 1),
        "Claim registration, assessment, reserving, settlement and recovery for motor, home "
        "and travel claims.",
    ),
    "crm-platform": (
        "CRM Platform", SUP, "alice", LIVE, HIGH, D(2017, 1, 9),
        "Customer and broker records, contact history, cases and campaigns, shared by every "
        "channel.",
    ),
    "data-warehouse": (
        "Data Warehouse", SUP, "carla", LIVE, MEDIUM, D(2015, 6, 1),
        "Consolidated history from policy, claims, billing and CRM for reporting, pricing and "
        "actuarial analysis.",
    ),
    "integration-hub": (
        "Integration Hub", SUP, "bob", LIVE, CRITICAL, D(2017, 1, 9),
        "APIs, events and file transfers between internal systems, brokers and partners.",
    ),
    "messaging-gateway": (
        "Messaging Gateway", SUP, "carla", LIVE, HIGH, D(2019, 9, 2),
        "Outbound e-mail, SMS and push notifications with templates, delivery tracking and "
        "opt-out handling.",
    ),
    "hosting-platform": (
        "Hosting Platform", SUP, "bob", LIVE, CRITICAL, D(2016, 1, 4),
        "Private and public cloud compute, storage, databases and backup on which Meridian's "
        "applications run.",
    ),
    "network-services": (
        "Network Services", SUP, "bob", LIVE, CRITICAL, D(2010, 1, 4),
        "Office and data-centre networks, internet access, firewalls, VPN and DDoS protection.",
    ),
    "service-desk": (
        "IT Service Desk", SUP, "alice", LIVE, HIGH, D(2011, 3, 1),
        "The single point of contact for employees' IT incidents and requests, by phone, chat "
        "and portal.",
    ),
    "workplace-services": (
        "Workplace Services", SUP, "carla", LIVE, MEDIUM, D(2014, 4, 1),
        "Laptops, phones, office and collaboration software, and contact-centre telephony for "
        "employees.",
    ),
    "fraud-screening": (
        "Fraud Screening", SUP, "vera", LIVE, HIGH, D(2020, 11, 2),
        "Scores claims and new business for fraud risk in real time and routes suspicious "
        "cases to investigators.",
    ),
    # Internal: services to Meridian's own organisation.
    "hr-payroll": (
        "HR and Payroll", INT, "alice", LIVE, MEDIUM, D(2013, 1, 2),
        "Employee records, absence, performance reviews and the monthly payroll for 2,400 "
        "employees.",
    ),
    "finance-ledger": (
        "Finance Ledger", INT, "carla", LIVE, HIGH, D(2014, 1, 2),
        "General ledger, accounts payable and receivable, and the monthly and annual close.",
    ),
    "procurement": (
        "Procurement", INT, "bob", LIVE, MEDIUM, D(2019, 7, 1),
        "Purchase requests, approvals, purchase orders and the onboarding of new suppliers.",
    ),
    "management-information": (
        "Management Information", INT, "carla", LIVE, MEDIUM, D(2018, 2, 1),
        "Dashboards and monthly reports on sales, claims, customer satisfaction and cost for "
        "management and the board.",
    ),
}

# Delegates: people who may change a service besides its owner (often the IT service manager
# of a customer-facing service).
DELEGATES = {
    "online-claims": ("bob",),
    "roadside-assistance": ("walter",),
    "mobile-app": ("alice",),
    "hosting-platform": ("carla",),
    "customer-contact-centre": ("carla",),
}


# --- Specifications ---------------------------------------------------------------------------


def F(title: str, description: str = "") -> dict:
    """A functionality statement."""
    return {"title": title, "description": description}


def M(title, metric, comparator, target, unit, window, actual=None, *, on=None) -> dict:
    """A functioning measure; ``actual`` is the value achieved in the last full month before
    the load (``on``: its last day, when the figure is older). performance.demo builds each
    measured item's twelve monthly figures ending with it."""
    return {
        "title": title,
        "metric": metric,
        "comparator": comparator,
        "target": Decimal(str(target)),
        "unit": unit,
        "window": window,
        "actual": None if actual is None else Decimal(str(actual)),
        "actual_on": on,
    }


def it_support(request_types: str, *, on_call: bool = True) -> list[dict]:
    """Support functionality of a technical service: through the IT Service Desk."""
    hours = "Incidents and requests by portal, phone and chat on working days 07:30–18:00"
    hours += "; priority-1 incidents around the clock by the on-call team." if on_call else "."
    return [F("Support through the IT Service Desk", hours), F("Request types", request_types)]


def it_support_measures(
    restore_hours, restore_actual, request_days, request_actual, satisfaction=None
) -> list[dict]:
    measures = [
        M(
            "Priority-1 incidents restored quickly",
            "Time to restore after a priority-1 incident",
            AT_MOST, restore_hours, "hours", MONTH, restore_actual,
        ),
        M(
            "Standard requests fulfilled on time",
            "Request fulfilment time",
            AT_MOST, request_days, "working days", MONTH, request_actual,
        ),
    ]
    if satisfaction is not None:
        measures.append(
            M("Users satisfied with support", "Satisfaction score", AT_LEAST, 8, "of 10",
              QUARTER, satisfaction)
        )
    return measures


# slug: (facility functionality, facility functioning, support functionality,
#        support functioning)
SPECIFICATIONS = {
    "online-claims": (
        [
            F("Report a claim online", "Motor, home and travel claims in a guided form, with "
              "photos, videos and documents."),
            F("Follow the claim", "Status, handler and expected payment date at every step."),
            F("Choose repair or cash settlement", "Pick a partner garage or contractor, or "
              "accept a cash offer."),
        ],
        [
            M("Available around the clock", "Availability", AT_LEAST, 99.9, "%", MONTH, 99.95),
            M("Quick claim registration", "Time to register a claim", AT_MOST, 10, "minutes",
              MONTH, 8.5),
            M("Fast payment of simple claims", "Days from approval to payment", AT_MOST, 5,
              "days", MONTH, 6.2),
        ],
        [
            F("Help while claiming", "Chat and phone help from claims handlers 07:00–22:00 "
              "every day; emergency line around the clock."),
            F("Request types", "Question about a claim, extra evidence, complaint about a "
              "claim decision."),
        ],
        [
            M("Chat answered quickly", "Chat response time", AT_MOST, 2, "minutes", MONTH, 1.6),
            M("Complaints resolved in time", "Claim complaints resolved within", AT_MOST, 10,
              "working days", MONTH, 12),
            M("Customers satisfied with claims", "Claim satisfaction score", AT_LEAST, 8,
              "of 10", QUARTER, 8.1),
        ],
    ),
    "policy-self-service": (
        [
            F("View policies and documents", "All motor, home and travel policies with cover, "
              "premium and documents in one place."),
            F("Change details", "Address, vehicle, drivers, bank account and payment "
              "frequency; the new schedule is issued at once."),
            F("Add or remove optional cover", "Legal assistance, glass cover, contents "
              "extensions."),
        ],
        [
            M("Available around the clock", "Availability", AT_LEAST, 99.9, "%", MONTH, 99.93),
            M("Changes processed straight through", "Changes completed without manual "
              "handling", AT_LEAST, 85, "%", MONTH, 81),
            M("Pages load quickly", "95th percentile page load time", AT_MOST, 2, "seconds",
              MONTH, 1.7),
        ],
        [
            F("Help with self-service", "Chat and phone 08:00–20:00 on working days, "
              "09:00–17:00 on Saturdays."),
            F("Request types", "Question about cover, help with logging in, a change that "
              "cannot be made online."),
        ],
        [
            M("Chat answered quickly", "Chat response time", AT_MOST, 2, "minutes", MONTH, 1.9),
            M("Customers satisfied", "Satisfaction score", AT_LEAST, 8, "of 10", QUARTER, 8.3),
        ],
    ),
    "quote-and-buy": (
        [
            F("Quote motor, home and travel insurance", "A price from a few questions, "
              "prefilled from the vehicle and address registers."),
            F("Buy and pay online", "Accept the quote, sign digitally and pay the first "
              "premium by card or direct debit."),
            F("Save and resume a quote", "A quote stays valid for 30 days and can be resumed "
              "on any device."),
        ],
        [
            M("Quote in minutes", "Time from start to quote", AT_MOST, 5, "minutes", MONTH, 3.8),
            M("Available around the clock", "Availability", AT_LEAST, 99.9, "%", MONTH, 99.97),
            M("Cover starts the same day", "Policies in force on the day of purchase",
              AT_LEAST, 98, "%", MONTH, 99.1),
        ],
        [
            F("Help while buying", "Chat with a sales adviser 08:00–21:00 every day; "
              "call-back on request."),
            F("Request types", "Question about cover, a quote that needs an underwriter, a "
              "call-back."),
        ],
        [
            M("Call-backs in time", "Call-backs made within the agreed slot", AT_LEAST, 95, "%",
              MONTH, 92.5),
            M("Customers satisfied after purchase", "Satisfaction score after purchase",
              AT_LEAST, 8, "of 10", QUARTER, 8.6),
        ],
    ),
    "customer-contact-centre": (
        [
            F("Answer questions by phone, chat and e-mail", "About policies, claims, payments "
              "and documents, for policyholders and prospects."),
            F("Take first notice of loss", "Register a claim during the call and arrange "
              "emergency help."),
            F("Handle complaints", "Register, investigate and answer complaints, with "
              "escalation to the ombudsman procedure."),
        ],
        [
            M("Phone lines available", "Telephony availability", AT_LEAST, 99.95, "%", MONTH,
              99.97),
            M("Resolved at first contact", "First-contact resolution", AT_LEAST, 75, "%",
              MONTH, 71),
            M("Case records complete", "Contacts with a complete case record", AT_LEAST, 98,
              "%", MONTH, 98.6),
        ],
        [
            F("Opening hours", "Phone and chat 08:00–20:00 Monday to Friday, 09:00–17:00 "
              "Saturday; claims emergency line around the clock."),
            F("Channels", "Phone, chat, e-mail, secure message in self-service, WhatsApp."),
        ],
        [
            M("Calls answered quickly", "Calls answered within 60 seconds", AT_LEAST, 80, "%",
              MONTH, 76.4),
            M("E-mails answered", "E-mails answered within one working day", AT_LEAST, 90, "%",
              MONTH, 93),
            M("Customers satisfied after contact", "Satisfaction score after contact",
              AT_LEAST, 8, "of 10", MONTH, 7.8),
        ],
    ),
    "broker-portal": (
        [
            F("Quote and place policies", "Brokers quote, adjust and bind motor, home and "
              "commercial policies for their clients."),
            F("Service the book", "Mid-term changes, renewals and cancellations across the "
              "broker's portfolio."),
            F("Commission statements", "Monthly commission statements and payment history."),
        ],
        [
            M("Available in extended business hours", "Availability 07:00–23:00", AT_LEAST,
              99.8, "%", MONTH, 99.9),
            M("Quote and bind in one session", "Quote-to-bind time", AT_MOST, 15, "minutes",
              MONTH, 12),
            M("Straight-through placement", "Policies bound without underwriter referral",
              AT_LEAST, 70, "%", QUARTER, 66),
        ],
        [
            F("Broker desk", "A dedicated broker desk by phone and e-mail 08:30–17:30 on "
              "working days."),
            F("Request types", "Underwriting referral, portal access for a new employee, "
              "commission query."),
        ],
        [
            M("Referrals decided the same day", "Referrals decided on the working day "
              "received", AT_LEAST, 90, "%", MONTH, 88),
            M("Brokers satisfied", "Broker satisfaction score", AT_LEAST, 8, "of 10", YEAR, 8.2),
        ],
    ),
    "billing-and-payments": (
        [
            F("Collect premiums", "Monthly, quarterly or annual collection by SEPA direct "
              "debit, card or bank transfer."),
            F("Instalment plans", "The annual premium spread over 12 instalments at no extra "
              "charge."),
            F("Refunds and payouts", "Overpaid premiums refunded and settled claims paid to "
              "the customer's account."),
        ],
        [
            M("Collections on time", "Direct debits collected on the due date", AT_LEAST, 99.5,
              "%", MONTH, 99.7),
            M("Refunds paid quickly", "Refunds paid within", AT_MOST, 5, "working days", MONTH,
              4),
            M("Invoices right first time", "Invoices corrected after issue", AT_MOST, 0.5, "%",
              MONTH, 0.3),
        ],
        [
            F("Help with payments", "Billing questions by phone, chat and e-mail in "
              "contact-centre hours; payment arrangements for customers in difficulty."),
            F("Request types", "Change of bank account, payment arrangement, disputed direct "
              "debit, refund."),
        ],
        [
            M("Payment arrangements agreed quickly", "Payment arrangement requests settled "
              "within", AT_MOST, 3, "working days", MONTH, 2.5),
            M("Few billing complaints", "Billing complaints per 10,000 policies", AT_MOST, 2,
              "complaints", MONTH, 2.4),
        ],
    ),
    "mobile-app": (
        [
            F("Digital insurance card", "Green card and policy details, available offline."),
            F("Claim with photos", "Report damage with photos and location, and follow the "
              "claim."),
            F("Roadside help at a tap", "Call for breakdown help with the location sent "
              "automatically."),
            F("Notifications", "Payment, renewal and claim updates as push messages."),
        ],
        [
            M("App services available", "Availability of app services", AT_LEAST, 99.5, "%",
              MONTH, 99.8),
            M("App starts quickly", "Cold start time on a mid-range phone", AT_MOST, 3,
              "seconds", QUARTER, 2.6),
            M("Stable app", "Crash-free sessions", AT_LEAST, 99.5, "%", MONTH, 99.2),
        ],
        [
            F("In-app help", "Help articles and chat inside the app; chat 08:00–20:00 on "
              "working days."),
            F("Store reviews answered", "Replies to App Store and Google Play reviews."),
        ],
        [
            M("Well rated", "Average store rating", AT_LEAST, 4.3, "stars", QUARTER, 4.5),
            M("Chat answered quickly", "Chat response time", AT_MOST, 2, "minutes", MONTH, 1.7),
        ],
    ),
    "roadside-assistance": (
        [
            F("Breakdown help across Europe", "Repair on the spot or towing to the nearest "
              "partner garage, in 40 countries."),
            F("Replacement car", "A replacement car for up to 7 days when the vehicle cannot "
              "be repaired the same day."),
            F("Onward travel", "Train, taxi or hotel when the journey cannot continue."),
        ],
        [
            M("Help on site within the hour", "Average time to arrival on site", AT_MOST, 60,
              "minutes", MONTH, 48),
            M("Fixed on the spot", "Breakdowns repaired on the spot", AT_LEAST, 70, "%", MONTH,
              73.5),
            M("Mobile again the same day", "Vehicles mobile again within 24 hours", AT_LEAST,
              90, "%", MONTH, 87),
        ],
        [
            F("Assistance line", "A 24/7 phone line in 12 languages, and help requested "
              "through the app."),
            F("Request types", "Breakdown, accident, flat battery, lost keys, wrong fuel."),
        ],
        [
            M("Calls answered at once", "Calls answered within 20 seconds", AT_LEAST, 90, "%",
              MONTH, 94.2),
            M("Customers satisfied after assistance", "Satisfaction score", AT_LEAST, 8.5,
              "of 10", MONTH, 8.9),
        ],
    ),
    "document-delivery": (
        [
            F("Print and post policy documents", "Policy schedules, green cards, renewal "
              "notices and letters printed and posted."),
            F("Returned mail", "Undeliverable mail registered and the address flagged for "
              "follow-up."),
        ],
        [
            M("Posted on time", "Documents posted the next working day", AT_LEAST, 98, "%",
              MONTH, 97.1, on=D(2024, 5, 31)),
            M("Few print errors", "Documents reprinted because of errors", AT_MOST, 0.2, "%",
              MONTH, 0.1, on=D(2024, 5, 31)),
        ],
        [F("Reprint requests", "Reprints ordered by the contact centre on working days.")],
        [
            M("Reprints posted quickly", "Reprints posted within", AT_MOST, 2, "working days",
              MONTH, 1.5, on=D(2024, 5, 31)),
        ],
    ),
    "policy-renewals": (
        [
            F("Renewal offers", "A renewal offer with the new premium and any change in cover, "
              "30 days before the renewal date."),
            F("Accept, change or switch", "Accept, adjust cover or cancel online, by phone or "
              "through the broker."),
            F("Automatic continuation", "Policies continue without action unless the customer "
              "declines."),
        ],
        [
            M("Renewal notices in time", "Renewal notices sent at least 30 days ahead",
              AT_LEAST, 98, "%", MONTH, 98.7),
            M("Customers stay", "Retention rate", AT_LEAST, 85, "%", QUARTER, 83.5),
        ],
        [
            F("Renewal questions", "Questions about the renewal price by phone, chat and "
              "e-mail in contact-centre hours."),
            F("Request types", "Explanation of a price change, change of cover at renewal, "
              "cancellation at renewal."),
        ],
        [
            M("Renewal questions answered", "Renewal queries answered within one working day",
              AT_LEAST, 90, "%", MONTH, 91),
            M("Clear renewal letters", "Customers rating the renewal letter clear", AT_LEAST,
              80, "%", YEAR),
        ],
    ),
    # Pipeline, not fully specified yet: no support functioning.
    "home-repair-network": (
        [
            F("Repair by vetted contractors", "Storm, water and fire damage repaired by "
              "contractors Meridian has vetted and pays directly."),
            F("Book a repair", "The policyholder picks a time slot when reporting the claim."),
        ],
        [
            M("Emergency repair quickly", "Time to emergency repair on site", AT_MOST, 4,
              "hours", MONTH),
            M("Repairs that last", "Repairs needing rework within 12 months", AT_MOST, 3, "%",
              YEAR),
        ],
        [F("Repair helpline", "Questions about a planned repair, 08:00–20:00 every day.")],
        [],
    ),
    # Pipeline, not fully specified yet: functionality only.
    "travel-assistance": (
        [
            F("Medical help abroad", "Hospital referral and payment guarantees for travel "
              "policyholders abroad."),
            F("Repatriation", "Transport home when medically needed, with a companion."),
        ],
        [],
        [F("Emergency line", "A 24/7 emergency line in English, German, French, Dutch and "
           "Spanish.")],
        [],
    ),
    "customer-identity": (
        [
            F("One login for customers and brokers", "Registration, login and single sign-on "
              "across the web portal, the app and the broker portal."),
            F("Multi-factor authentication", "App or SMS codes, with step-up for sensitive "
              "changes."),
            F("Consent records", "Marketing and data-sharing consents recorded with time and "
              "channel."),
        ],
        [
            M("Available around the clock", "Availability", AT_LEAST, 99.95, "%", MONTH, 99.98),
            M("Fast login", "95th percentile login time", AT_MOST, 1, "seconds", MONTH, 0.8),
            M("No account takeovers", "Confirmed account takeovers", AT_MOST, 0, "incidents",
              QUARTER, 0),
        ],
        it_support("New client application, change to the login flow, access review."),
        it_support_measures(2, 1.5, 5, 4),
    ),
    "payment-gateway": (
        [
            F("Card and direct-debit payments", "Visa, Mastercard, iDEAL and SEPA direct "
              "debit for all channels."),
            F("Payouts", "Claim settlements and refunds paid to any SEPA account, instantly "
              "where the bank supports it."),
            F("Tokenised card storage", "Cards stored as tokens, so no channel handles card "
              "numbers."),
        ],
        [
            M("Available around the clock", "Availability", AT_LEAST, 99.95, "%", MONTH, 99.96),
            M("Payments authorised", "Authorisation success rate for valid cards", AT_LEAST,
              99, "%", MONTH, 99.4),
            M("PCI DSS compliant", "Open PCI DSS findings", AT_MOST, 0, "findings", YEAR, 0),
        ],
        it_support("New payment method, merchant account change, refund investigation."),
        it_support_measures(2, 1.2, 5, 3.5),
    ),
    "document-management": (
        [
            F("Generate documents", "Policy schedules, letters and certificates composed from "
              "templates in five languages."),
            F("Store and retrieve", "Documents and claim evidence stored with metadata and "
              "found in seconds."),
            F("Retention", "Documents kept and destroyed according to the retention schedule."),
        ],
        [
            M("Available in business hours", "Availability 06:00–22:00", AT_LEAST, 99.8, "%",
              MONTH, 99.85),
            M("Documents found fast", "Retrieval time", AT_MOST, 3, "seconds", MONTH, 2.1),
            M("Documents generated in time", "Documents generated within 15 minutes of the "
              "trigger", AT_LEAST, 99, "%", MONTH, 98.2),
        ],
        it_support("New template, template change, retrieval of archived documents."),
        it_support_measures(4, 3, 10, 12),
    ),
    "policy-admin-platform": (
        [
            F("Policy records", "Products, policies, cover, premiums and changes for motor, "
              "home, travel and commercial lines."),
            F("Product configuration", "Products, rates and rules configured by underwriting "
              "without code changes."),
            F("Renewal and lapse processing", "Nightly renewal, lapse and reinstatement runs."),
        ],
        [
            M("Available for business", "Availability 06:00–23:00", AT_LEAST, 99.9, "%", MONTH,
              99.92),
            M("Nightly batch on time", "Batch completed by 06:00", AT_LEAST, 99, "%", MONTH, 97),
            M("Fast transactions", "95th percentile transaction time", AT_MOST, 1.5, "seconds",
              MONTH, 1.1),
        ],
        it_support("Product change, new rating factor, data correction, report request."),
        it_support_measures(2, 2.5, 20, 18, satisfaction=7.6),
    ),
    "claims-platform": (
        [
            F("Claim handling", "Registration, coverage check, assessment, reserving and "
              "settlement in one case file."),
            F("Assessor and repairer assignment", "Claims routed to in-house assessors or "
              "partner repairers by rules."),
            F("Recovery", "Recoveries from third parties and their insurers."),
        ],
        [
            M("Available for handlers", "Availability 07:00–22:00", AT_LEAST, 99.9, "%", MONTH,
              99.95),
            M("Claims registered straight through", "Online claims registered without manual "
              "handling", AT_LEAST, 80, "%", MONTH, 84),
            M("Fast screens", "95th percentile screen response time", AT_MOST, 1.5, "seconds",
              MONTH, 1.3),
        ],
        it_support("New claim type, rule change, user access, data correction."),
        it_support_measures(2, 1.8, 10, 8, satisfaction=8.1),
    ),
    "crm-platform": (
        [
            F("Single customer view", "Customer and broker records, policies and contact "
              "history shared by all channels."),
            F("Cases", "Questions, complaints and requests tracked as cases with deadlines."),
            F("Campaigns", "Segments and campaigns for sales and retention."),
        ],
        [
            M("Available in contact hours", "Availability 07:00–22:00", AT_LEAST, 99.9, "%",
              MONTH, 99.7),
            M("Customer view opens fast", "Time to open the customer view", AT_MOST, 2,
              "seconds", MONTH, 1.6),
            M("Few duplicate customers", "Duplicate customer records", AT_MOST, 1, "%",
              QUARTER, 1.4),
        ],
        it_support("New user, new case type, campaign set-up, data export."),
        it_support_measures(4, 3, 5, 4.5),
    ),
    "data-warehouse": (
        [
            F("Integrated history", "Policy, claims, billing and CRM data integrated with ten "
              "years of history."),
            F("Self-service analysis", "Analysts query curated data sets with SQL and BI "
              "tools."),
            F("Regulatory reporting data", "Solvency II and IFRS 17 data sets, reconciled to "
              "the ledger."),
        ],
        [
            M("Data ready in the morning", "Nightly load completed by 07:00", AT_LEAST, 98, "%",
              MONTH, 98.5),
            M("Data reconciles", "Reconciliation differences with source systems", AT_MOST,
              0.1, "%", MONTH, 0.05),
        ],
        it_support("New data set, access to a data set, data quality issue.", on_call=False),
        it_support_measures(8, 6, 15, 16),
    ),
    "integration-hub": (
        [
            F("APIs for channels and partners", "Managed APIs for the web portal, the app, "
              "brokers and partners, with keys and rate limits."),
            F("Events between systems", "Policy, claim and payment events published once and "
              "consumed by any system."),
            F("File transfers", "Scheduled secure file exchange with banks, brokers and "
              "authorities."),
        ],
        [
            M("Available around the clock", "Availability", AT_LEAST, 99.95, "%", MONTH, 99.9),
            M("Low latency", "95th percentile gateway overhead", AT_MOST, 100, "milliseconds",
              MONTH, 65),
            M("No lost messages", "Messages lost", AT_MOST, 0, "messages", MONTH, 0),
        ],
        it_support("New API consumer, new interface, certificate renewal."),
        it_support_measures(1, 0.8, 10, 9),
    ),
    "messaging-gateway": (
        [
            F("E-mail, SMS and push", "Transactional and campaign messages through one gateway, "
              "with templates."),
            F("Delivery tracking", "Delivery, open and bounce status of every message, visible "
              "in CRM."),
            F("Opt-out handling", "Unsubscribes and channel preferences respected for every "
              "message."),
        ],
        [
            M("Messages reach the inbox", "Inbox placement rate", AT_LEAST, 95, "%", MONTH,
              96.2),
            M("Messages sent promptly", "Transactional messages sent within 1 minute",
              AT_LEAST, 99, "%", MONTH, 99.6),
        ],
        it_support("New template, new sender domain, campaign volume increase."),
        it_support_measures(2, 1, 5, 3),
    ),
    "hosting-platform": (
        [
            F("Compute and storage", "Virtual machines, containers and managed databases in "
              "two data centres and the public cloud."),
            F("Backup and restore", "Daily backups kept 35 days, restored on request."),
            F("Disaster recovery", "Fail-over of critical systems to the second site."),
        ],
        [
            M("Platform available", "Availability", AT_LEAST, 99.95, "%", MONTH, 99.97),
            M("Little data lost in a disaster", "Recovery point objective", AT_MOST, 15,
              "minutes", YEAR, 10),
            M("Quick recovery from a disaster", "Recovery time of critical systems", AT_MOST,
              4, "hours", YEAR, 5),
        ],
        it_support("New server or database, capacity increase, restore, firewall change."),
        it_support_measures(1, 0.9, 3, 2.5, satisfaction=8.4),
    ),
    "network-services": (
        [
            F("Office and data-centre networks", "Wired and wireless networks in 14 offices "
              "and two data centres."),
            F("Internet and remote access", "Internet access, VPN for employees and partners, "
              "DDoS protection."),
        ],
        [
            M("Core network available", "Core network availability", AT_LEAST, 99.99, "%",
              MONTH, 99.995),
            M("Internet available", "Internet access availability", AT_LEAST, 99.95, "%", MONTH,
              99.9),
        ],
        it_support("New connection, VPN access, firewall rule, Wi-Fi in a meeting room."),
        it_support_measures(1, 0.5, 5, 4),
    ),
    "service-desk": (
        [
            F("Single point of contact", "Employees report incidents and ask for help and "
              "access through one desk."),
            F("Self-service portal", "Requests, knowledge articles and password resets."),
            F("Desk-side support", "On-site help in the head office and two regional offices."),
        ],
        [
            M("Portal available", "Self-service portal availability", AT_LEAST, 99.5, "%",
              MONTH, 99.8),
        ],
        [
            F("Channels and hours", "Portal around the clock; phone and chat 07:30–18:00 on "
              "working days; on-call for priority-1 incidents."),
            F("Request types", "Incident, access request, new equipment, software "
              "installation, question."),
        ],
        [
            M("Calls answered quickly", "Calls answered within 30 seconds", AT_LEAST, 85, "%",
              MONTH, 88),
            M("Fixed at first contact", "First-contact resolution", AT_LEAST, 70, "%", MONTH,
              68),
            M("Employees satisfied", "Satisfaction score", AT_LEAST, 8, "of 10", MONTH, 8.4),
        ],
    ),
    "workplace-services": (
        [
            F("Laptop and phone", "A managed laptop and smartphone for every employee, "
              "replaced every four years."),
            F("Collaboration tools", "E-mail, calendar, chat, video meetings and document "
              "sharing."),
            F("Contact-centre workstations", "Headsets and softphones for the contact centre."),
        ],
        [
            M("Collaboration tools available", "Availability", AT_LEAST, 99.9, "%", MONTH,
              99.95),
            M("New starters equipped", "New starters equipped on their first day", AT_LEAST, 95,
              "%", MONTH, 91),
        ],
        it_support("New starter, leaver, replacement device, software request.", on_call=False),
        it_support_measures(4, 3.5, 5, 4.5, satisfaction=7.9),
    ),
    "fraud-screening": (
        [
            F("Real-time fraud scores", "Every claim and new policy scored for fraud risk as "
              "it arrives."),
            F("Investigation workflow", "Suspicious cases routed to investigators with the "
              "evidence that triggered them."),
            F("Network analysis", "Links between people, vehicles, addresses and repairers "
              "shown as a network."),
        ],
        [
            M("Scores in real time", "Score returned within", AT_MOST, 500, "milliseconds",
              MONTH, 320),
            M("Flagged claims reviewed before payment", "Flagged claims reviewed before "
              "payment", AT_LEAST, 99, "%", MONTH, 99.6),
            M("Few false alarms", "False-positive rate", AT_MOST, 25, "%", QUARTER, 28),
        ],
        it_support("New rule, rule tuning, investigator access."),
        it_support_measures(4, 2, 10, 7),
    ),
    "hr-payroll": (
        [
            F("Employee records", "Contracts, positions, absence and leave for 2,400 "
              "employees."),
            F("Monthly payroll", "Salaries, pension contributions and tax filings each month."),
            F("Performance reviews", "Goals and annual reviews."),
        ],
        [
            M("Salaries paid on time", "Salaries paid on the 25th", AT_LEAST, 100, "%", MONTH,
              100),
            M("Payroll right first time", "Payslips corrected after payment", AT_MOST, 0.5, "%",
              MONTH, 0.4),
        ],
        [
            F("HR helpdesk", "By portal and phone 09:00–17:00 on working days."),
            F("Request types", "Contract change, leave question, payslip question, employment "
              "certificate."),
        ],
        [
            M("Questions answered", "HR questions answered within", AT_MOST, 2, "working days",
              MONTH, 1.5),
            M("Employees satisfied", "Satisfaction score", AT_LEAST, 7.5, "of 10", YEAR, 7.7),
        ],
    ),
    "finance-ledger": (
        [
            F("General ledger", "Chart of accounts, journals, and the monthly and annual "
              "close."),
            F("Payables and receivables", "Supplier invoices and payments; receivables from "
              "brokers and reinsurers."),
            F("Cost allocation", "Cost centres and allocation keys for management reporting."),
        ],
        [
            M("Monthly close on time", "Close completed by working day", AT_MOST, 5,
              "working days", MONTH, 6),
            M("Suppliers paid on time", "Supplier invoices paid by the due date", AT_LEAST, 95,
              "%", MONTH, 96.5),
        ],
        [
            F("Finance helpdesk", "Questions from budget holders by portal and e-mail on "
              "working days."),
            F("Request types", "New cost centre, journal correction, supplier set-up."),
        ],
        [
            M("Requests handled", "Finance requests handled within", AT_MOST, 3, "working days",
              MONTH, 2),
        ],
    ),
    # Not fully specified: no support quadrants.
    "procurement": (
        [
            F("Purchase requests", "Employees request goods and services from catalogues or "
              "in free text."),
            F("Approvals", "Approval routes by amount and budget holder."),
            F("Purchase orders and supplier onboarding", "Orders sent to suppliers; new "
              "suppliers checked and registered."),
        ],
        [
            M("Orders placed quickly", "Time from approved request to order", AT_MOST, 2,
              "working days", MONTH, 2.5),
        ],
        [],
        [],
    ),
    # Not fully specified: no facility functioning.
    "management-information": (
        [
            F("Management dashboards", "Sales, claims, customer satisfaction and cost, "
              "refreshed daily."),
            F("Monthly report pack", "The board's monthly report pack with commentary."),
        ],
        [],
        [F("Report requests", "New reports and changes requested through the IT Service Desk; "
           "analysts available on working days.")],
        [
            M("Report changes delivered", "Report changes delivered within", AT_MOST, 10,
              "working days", QUARTER, 12),
        ],
    ),
}

QUADRANT_CODES = (
    ("ff", Aspect.FACILITY, Dimension.FUNCTIONALITY),
    ("fm", Aspect.FACILITY, Dimension.FUNCTIONING),
    ("sf", Aspect.SUPPORT, Dimension.FUNCTIONALITY),
    ("sm", Aspect.SUPPORT, Dimension.FUNCTIONING),
)

# --- End-to-end dependencies ------------------------------------------------------------------
# consumer: ((provider, weight, note), ...). integration-hub and crm-platform depend on each
# other: a cycle the app shows as a warning.
DEPENDENCIES = {
    "online-claims": (
        ("claims-platform", "3", "Claim registration and status"),
        ("customer-identity", "1", "Policyholder login"),
        ("document-management", "1", "Photos and evidence"),
        ("fraud-screening", "1", "Score at registration"),
        ("payment-gateway", "1", "Claim payouts"),
    ),
    "policy-self-service": (
        ("policy-admin-platform", "3", "Policies and changes"),
        ("customer-identity", "1", "Policyholder login"),
        ("document-management", "1", "Policy documents"),
        ("crm-platform", "1", "Contact history"),
    ),
    "quote-and-buy": (
        ("policy-admin-platform", "2", "Rating and policy issue"),
        ("payment-gateway", "1", "First premium"),
        ("customer-identity", "1", "Account creation"),
        ("fraud-screening", "0.5", "New-business screening"),
    ),
    "customer-contact-centre": (
        ("crm-platform", "3", "Customer view and cases"),
        ("workplace-services", "2", "Telephony and workstations"),
        ("claims-platform", "1", "First notice of loss"),
    ),
    "broker-portal": (
        ("policy-admin-platform", "2", "Quotes and policies"),
        ("customer-identity", "1", "Broker login"),
        ("integration-hub", "1", "Broker software APIs"),
    ),
    "billing-and-payments": (
        ("payment-gateway", "3", "Collections and refunds"),
        ("policy-admin-platform", "1", "Premium schedules"),
        ("messaging-gateway", "1", "Payment reminders"),
    ),
    "mobile-app": (
        ("customer-identity", "1", "Login"),
        ("integration-hub", "2", "App APIs"),
        ("messaging-gateway", "1", "Push notifications"),
    ),
    "roadside-assistance": (
        ("claims-platform", "1", "Assistance cases"),
        ("messaging-gateway", "0.5", "Arrival updates by SMS"),
        ("integration-hub", "1", "Dispatch partner interface"),
    ),
    "document-delivery": (("document-management", "2", "Print files"),),
    "policy-renewals": (
        ("policy-admin-platform", "2", "Renewal runs"),
        ("messaging-gateway", "1", "Renewal e-mails"),
        ("document-management", "1", "Renewal notices"),
    ),
    "home-repair-network": (
        ("claims-platform", "1", "Repair orders"),
        ("integration-hub", "1", "Contractor interface"),
    ),
    "travel-assistance": (("claims-platform", "1", "Assistance cases"),),
    "customer-identity": (
        ("hosting-platform", "1", ""),
        ("network-services", "1", "DDoS protection"),
    ),
    "payment-gateway": (
        ("hosting-platform", "1", ""),
        ("network-services", "1", "Private link to the acquirer"),
    ),
    "document-management": (("hosting-platform", "2", "Document storage"),),
    "policy-admin-platform": (
        ("hosting-platform", "3", ""),
        ("integration-hub", "1", "Policy events"),
    ),
    "claims-platform": (
        ("hosting-platform", "2", ""),
        ("integration-hub", "1", "Claim events"),
        ("document-management", "1", "Claim files"),
    ),
    "crm-platform": (
        ("hosting-platform", "1", ""),
        ("integration-hub", "1", "Policy and claim events"),
    ),
    "integration-hub": (
        ("hosting-platform", "1", ""),
        ("crm-platform", "0.5", "Customer master data for routing"),
    ),
    "data-warehouse": (
        ("hosting-platform", "2", ""),
        ("integration-hub", "1", "Nightly extracts"),
    ),
    "messaging-gateway": (("hosting-platform", "0.5", ""),),
    "hosting-platform": (("network-services", "2", "Data-centre network"),),
    "service-desk": (("workplace-services", "1", "Remote support tools"),),
    "workplace-services": (("network-services", "1", "Office networks"),),
    "fraud-screening": (
        ("data-warehouse", "1", "Historic claims"),
        ("hosting-platform", "1", ""),
    ),
    "hr-payroll": (("hosting-platform", "0.5", ""),),
    "finance-ledger": (
        ("hosting-platform", "1", ""),
        ("integration-hub", "0.5", "Bank statements and payment files"),
    ),
    "procurement": (("finance-ledger", "1", "Commitments and invoices"),),
    "management-information": (("data-warehouse", "2", "Reporting data"),),
}

# --- Customers, subscriptions and outcomes ----------------------------------------------------
# slug: (name, kind, segment, relationship manager)
CUSTOMERS = {
    "retail-policyholders": (
        "Retail Policyholders", CustomerKind.EXTERNAL,
        "Private individuals: motor, home and travel", "walter",
    ),
    "fleet-operators": (
        "Fleet Operators", CustomerKind.EXTERNAL, "Companies insuring 10 or more vehicles",
        "vera",
    ),
    "broker-network": (
        "Broker Network", CustomerKind.EXTERNAL, "Independent insurance intermediaries", "bob",
    ),
    "corporate-clients": (
        "Corporate Clients", CustomerKind.EXTERNAL, "Group policies for mid-size companies",
        "demo",
    ),
    "affinity-partners": (
        "Affinity Partners", CustomerKind.EXTERNAL,
        "Associations and retailers offering Meridian cover to their members", "walter",
    ),
    "claims-division": (
        "Claims Division", CustomerKind.INTERNAL, "Claims handling and assessment", "vera",
    ),
    "underwriting-division": (
        "Underwriting Division", CustomerKind.INTERNAL, "Underwriting, pricing and products",
        "carla",
    ),
    "sales-and-marketing": (
        "Sales and Marketing", CustomerKind.INTERNAL, "Direct sales, campaigns and retention",
        "alice",
    ),
}

# (customer, service, units, unit name, monthly price per unit, annual charge, start)
# Prices per unit are monthly; an agreed annual sum goes in the annual charge instead.
SUBSCRIPTIONS = (
    ("retail-policyholders", "online-claims", 412000, "policy", "0.18", None, D(2019, 4, 1)),
    ("retail-policyholders", "policy-self-service", 412000, "policy", "0.12", None,
     D(2018, 10, 15)),
    ("retail-policyholders", "quote-and-buy", 38000, "policy sold", None, "650000",
     D(2020, 3, 2)),
    ("retail-policyholders", "customer-contact-centre", 412000, "policy", "0.55", None,
     D(2015, 1, 5)),
    ("retail-policyholders", "billing-and-payments", 412000, "policy", "0.09", None,
     D(2016, 2, 1)),
    ("retail-policyholders", "mobile-app", 156000, "app user", "0.05", None, D(2021, 5, 17)),
    ("retail-policyholders", "roadside-assistance", 238000, "vehicle", "1.10", None,
     D(2014, 9, 1)),
    ("retail-policyholders", "policy-renewals", 412000, "policy", "0.04", None, D(2016, 9, 1)),
    ("fleet-operators", "roadside-assistance", 18500, "vehicle", "1.45", None, D(2015, 1, 1)),
    ("fleet-operators", "online-claims", 18500, "vehicle", "0.30", None, D(2019, 4, 1)),
    ("fleet-operators", "billing-and-payments", 640, "fleet account", None, "42000",
     D(2016, 2, 1)),
    ("fleet-operators", "customer-contact-centre", 640, "fleet account", None, "96000",
     D(2015, 1, 5)),
    ("broker-network", "broker-portal", 1150, "broker office", "95", None, D(2017, 6, 1)),
    ("broker-network", "billing-and-payments", 1150, "broker office", None, "120000",
     D(2017, 6, 1)),
    ("broker-network", "customer-contact-centre", 1150, "broker office", None, "180000",
     D(2017, 6, 1)),
    ("corporate-clients", "online-claims", 2300, "group policy", "4.50", None, D(2019, 4, 1)),
    ("corporate-clients", "policy-self-service", 2300, "group policy", None, "60000",
     D(2019, 1, 1)),
    ("corporate-clients", "roadside-assistance", 6200, "vehicle", "1.35", None, D(2016, 1, 1)),
    ("affinity-partners", "quote-and-buy", 12, "partner", None, "240000", D(2021, 1, 1)),
    ("affinity-partners", "policy-self-service", 12, "partner", None, "75000", D(2021, 1, 1)),
    ("affinity-partners", "online-claims", 12, "partner", None, "180000", D(2021, 1, 1)),
    ("claims-division", "claims-platform", 850, "user", "65", None, D(2018, 3, 1)),
    ("claims-division", "fraud-screening", 210000, "screened claim", None, "310000",
     D(2020, 11, 2)),
    ("claims-division", "document-management", 850, "user", "12", None, D(2013, 5, 6)),
    ("claims-division", "workplace-services", 850, "employee", "48", None, D(2014, 4, 1)),
    ("underwriting-division", "policy-admin-platform", 420, "user", "85", None,
     D(2012, 1, 2)),
    ("underwriting-division", "data-warehouse", 60, "analyst", "140", None, D(2015, 6, 1)),
    ("underwriting-division", "management-information", 35, "manager", "30", None,
     D(2018, 2, 1)),
    ("sales-and-marketing", "crm-platform", 380, "user", "55", None, D(2017, 1, 9)),
    ("sales-and-marketing", "messaging-gateway", 400000, "message", "0.012", None,
     D(2019, 9, 2)),
    ("sales-and-marketing", "management-information", 25, "manager", "30", None,
     D(2018, 2, 1)),
)

# An outcome's figure meets its target at most (time, complaints, corrections) or at least.
LESS_IS_BETTER_UNITS = {"minutes", "days", "working days", "complaints"}
LESS_IS_BETTER_METRICS = {"Fleet invoices queried", "Commission statements corrected"}


def outcome_comparator(metric: str, unit: str) -> str:
    if not metric:
        return ""
    return AT_MOST if unit in LESS_IS_BETTER_UNITS or metric in LESS_IS_BETTER_METRICS else AT_LEAST


# (customer, service, statement in the customer's words, metric, target, unit,
#  specification item title of the subscribed service or "" (the item it relies on),
#  agreement); how each stands follows from the figures of performance.demo.
# An outcome without a metric is not yet measurable: it is still being worked out with the
# customer.
OUTCOMES = (
    ("retail-policyholders", "online-claims",
     "When something happens I can report it from my phone in a few minutes, without waiting "
     "on hold.",
     "Time to register a claim", "10", "minutes", "Quick claim registration",
     OutcomeAgreement.AGREED),
    ("retail-policyholders", "online-claims",
     "Once my claim is approved, the money is in my account within a week.",
     "Days from approval to payment", "5", "days", "Fast payment of simple claims",
     OutcomeAgreement.AGREED),
    ("retail-policyholders", "online-claims",
     "I always know where my claim stands without having to chase anyone.",
     "Claims with a status update within 2 working days", "95", "%", "",
     OutcomeAgreement.AGREED),
    ("retail-policyholders", "policy-self-service",
     "I can change my address or my car myself at any hour, and it is done straight away.",
     "Changes completed without contact", "90", "%", "Changes processed straight through",
     OutcomeAgreement.AGREED),
    ("retail-policyholders", "quote-and-buy",
     "I get a clear price in under five minutes and I am covered the same day.",
     "Time from start to quote", "5", "minutes", "Quote in minutes", OutcomeAgreement.AGREED),
    ("retail-policyholders", "customer-contact-centre",
     "When I call, someone who can actually help me picks up quickly.",
     "Calls answered within 60 seconds", "80", "%", "Calls answered quickly",
     OutcomeAgreement.AGREED),
    ("retail-policyholders", "customer-contact-centre",
     "I only have to explain my situation once.",
     "", None, "", "", OutcomeAgreement.PROPOSED),
    ("retail-policyholders", "billing-and-payments",
     "I can pay in instalments that fit my budget and I never get a surprise charge.",
     "Billing complaints per 10,000 policies", "2", "complaints", "Few billing complaints",
     OutcomeAgreement.AGREED),
    ("retail-policyholders", "mobile-app",
     "My insurance card is on my phone whenever the police or a garage ask for it.",
     "App availability", "99.5", "%", "App services available", OutcomeAgreement.AGREED),
    ("retail-policyholders", "roadside-assistance",
     "If my car breaks down, help reaches me within the hour, wherever I am in Europe.",
     "Time to arrival on site", "60", "minutes", "Help on site within the hour",
     OutcomeAgreement.AGREED),
    ("retail-policyholders", "policy-renewals",
     "I hear my new price a month ahead and I can see why it changed.",
     "Renewal notices sent at least 30 days ahead", "98", "%", "Renewal notices in time",
     OutcomeAgreement.AGREED),
    ("fleet-operators", "roadside-assistance",
     "Our drivers and their cargo are moving again the same day.",
     "Vehicles mobile again within 24 hours", "90", "%", "Mobile again the same day",
     OutcomeAgreement.AGREED),
    ("fleet-operators", "roadside-assistance",
     "Our vans are off the road as briefly as possible.",
     "", None, "", "", OutcomeAgreement.PROPOSED),
    ("fleet-operators", "online-claims",
     "Our fleet manager reports damage to any of our vehicles in one go, with one claim "
     "number per incident.",
     "Fleet claims registered online", "75", "%", "", OutcomeAgreement.PROPOSED),
    ("fleet-operators", "billing-and-payments",
     "One invoice a month for the whole fleet, which our finance team books without queries.",
     "Fleet invoices queried", "2", "%", "Invoices right first time", OutcomeAgreement.AGREED),
    ("broker-network", "broker-portal",
     "I can quote and place a policy for my client during the same meeting.",
     "Quote-to-bind time", "15", "minutes", "Quote and bind in one session",
     OutcomeAgreement.AGREED),
    ("broker-network", "broker-portal",
     "My commission statement is right the first time.",
     "Commission statements corrected", "1", "%", "", OutcomeAgreement.AGREED),
    ("broker-network", "customer-contact-centre",
     "When I need an underwriter's decision, I get it the same working day.",
     "Referrals decided the same working day", "90", "%", "", OutcomeAgreement.AGREED),
    ("corporate-clients", "online-claims",
     "Our risk manager sees all claims of our group in one overview, with their reserves.",
     "Monthly claims overview delivered by working day", "3", "working days", "",
     OutcomeAgreement.AGREED),
    ("corporate-clients", "roadside-assistance",
     "Our people on business trips are never left stranded.",
     "", None, "", "", OutcomeAgreement.PROPOSED),
    ("affinity-partners", "quote-and-buy",
     "Our members buy Meridian cover on our own website without being sent elsewhere.",
     "Partner quote availability", "99.9", "%", "Available around the clock",
     OutcomeAgreement.AGREED),
    ("claims-division", "claims-platform",
     "Our handlers settle a simple claim in one sitting without switching systems.",
     "Simple claims settled at first touch", "60", "%", "", OutcomeAgreement.AGREED),
    ("claims-division", "fraud-screening",
     "Suspicious claims reach an investigator before any money is paid.",
     "Flagged claims reviewed before payment", "99", "%",
     "Flagged claims reviewed before payment", OutcomeAgreement.AGREED),
    ("underwriting-division", "policy-admin-platform",
     "A product change we agree on Monday is live for new business within a month.",
     "Lead time for a product change", "30", "days", "", OutcomeAgreement.AGREED),
    ("underwriting-division", "data-warehouse",
     "Yesterday's policy and claims data is ready for pricing analysis when we start work.",
     "Nightly load completed by 07:00", "98", "%", "Data ready in the morning",
     OutcomeAgreement.AGREED),
    ("sales-and-marketing", "crm-platform",
     "Every salesperson sees the customer's whole history before they call.",
     "", None, "", "", OutcomeAgreement.PROPOSED),
    ("sales-and-marketing", "messaging-gateway",
     "Our campaign e-mails land in inboxes, not in spam folders.",
     "Inbox placement rate", "95", "%", "Messages reach the inbox", OutcomeAgreement.AGREED),
)

# --- Suppliers and contracts ------------------------------------------------------------------
# slug: (name, website, owner)
SUPPLIERS = {
    "nimbus-cloud": ("Nimbus Cloud Services", "https://nimbus-cloud.example", "bob"),
    "carrierone": ("CarrierOne Networks", "https://carrierone.example", "bob"),
    "polaris-software": ("Polaris Insurance Software", "https://polaris-software.example", "bob"),
    "clearview-crm": ("Clearview CRM", "https://clearview-crm.example", "alice"),
    "paystream": ("PayStream Payments", "https://paystream.example", "alice"),
    "eurohelp": ("EuroHelp Assistance", "https://eurohelp.example", "vera"),
    "printpost": ("PrintPost Document Services", "https://printpost.example", "carla"),
    "sentinel-analytics": ("Sentinel Risk Analytics", "https://sentinel-risk.example", "vera"),
    "voxline": ("Voxline Contact Solutions", "https://voxline.example", "alice"),
    "ledgerworks": ("LedgerWorks", "https://ledgerworks.example", "carla"),
}

# (supplier, reference, title, owner, term in years, notice days, auto renewal,
#  days from the load to the notice deadline, annual value)
# The renewal date is the notice deadline plus the notice period; three deadlines fall within
# 90 days of the load, the others well after it.
CONTRACTS = (
    ("nimbus-cloud", "NCS-MSA-2019-044", "Managed cloud hosting", "bob", 3, 90, True, 25,
     "1450000"),
    ("nimbus-cloud", "NCS-BDR-2021-112", "Backup and disaster recovery", "bob", 3, 60, True, 240,
     "185000"),
    ("carrierone", "C1-WAN-7781", "WAN, internet access and DDoS protection", "bob", 5, 180,
     True, 60, "410000"),
    ("polaris-software", "POL-LIC-2012-003", "Policy administration licence and maintenance",
     "bob", 5, 180, True, 330, "980000"),
    ("polaris-software", "POL-CLM-2018-017", "Claims platform subscription", "bob", 5, 120,
     True, 410, "720000"),
    ("clearview-crm", "CV-ENT-55120", "CRM enterprise subscription, 900 seats", "alice", 3, 90,
     True, 70, "396000"),
    ("paystream", "PS-2016-MM-01", "Payment processing (estimated transaction fees)", "alice",
     2, 90, True, 150, "520000"),
    ("eurohelp", "EH-RA-2014-22", "Roadside assistance network", "vera", 5, 180, True, 500,
     "3200000"),
    ("sentinel-analytics", "SRA-FS-2020-09", "Fraud screening service", "vera", 3, 90, True, 200,
     "275000"),
    ("voxline", "VOX-CC-2019-31", "Contact-centre telephony and chat", "alice", 3, 90, True,
     280, "310000"),
    ("voxline", "VOX-MSG-2019-32", "SMS and push messaging", "carla", 2, 60, True, 130, "68000"),
    ("ledgerworks", "LW-ERP-2014-7", "Finance and HR cloud suite", "carla", 5, 120, True, 360,
     "265000"),
)
# A fixed-term pilot that ends without renewal: (supplier, reference, title, owner, days from
# the load to the end, notice days, annual value).
FIXED_TERM_CONTRACTS = (
    ("eurohelp", "EH-TA-2025-05", "Travel assistance pilot", "vera", 300, 30, "150000"),
)
# The ended print-and-post contract, retired with the service it underpinned.
ENDED_CONTRACTS = (
    ("printpost", "PP-2012-118", "Print and mail of customer documents", "carla",
     D(2012, 1, 2), RETIRED_ON, 90, "240000"),
)

# (contract reference, "service" or "application", slug, weight)
COVERAGES = (
    ("NCS-MSA-2019-044", "service", "hosting-platform", "3"),
    ("NCS-MSA-2019-044", "service", "workplace-services", "1"),
    ("NCS-BDR-2021-112", "service", "hosting-platform", "1"),
    ("C1-WAN-7781", "service", "network-services", "1"),
    ("POL-LIC-2012-003", "application", "polaris-policy", "1"),
    ("POL-CLM-2018-017", "application", "polaris-claims", "1"),
    ("CV-ENT-55120", "application", "clearview-crm", "1"),
    ("PS-2016-MM-01", "service", "payment-gateway", "1"),
    ("EH-RA-2014-22", "service", "roadside-assistance", "1"),
    ("EH-RA-2014-22", "application", "assist-dispatch", "0.1"),
    ("EH-TA-2025-05", "service", "travel-assistance", "1"),
    ("SRA-FS-2020-09", "application", "fraud-engine", "1"),
    ("VOX-CC-2019-31", "service", "customer-contact-centre", "3"),
    ("VOX-CC-2019-31", "service", "service-desk", "1"),
    ("VOX-MSG-2019-32", "application", "notify", "1"),
    ("LW-ERP-2014-7", "application", "ledgerworks-finance", "2"),
    ("LW-ERP-2014-7", "application", "ledgerworks-hr", "1"),
    ("PP-2012-118", "service", "document-delivery", "1"),
)

# --- Applications -----------------------------------------------------------------------------
A_PLAN, A_ACTIVE, A_PHASE_OUT, A_RETIRED = (
    ApplicationLifecycle.PLAN,
    ApplicationLifecycle.ACTIVE,
    ApplicationLifecycle.PHASE_OUT,
    ApplicationLifecycle.RETIRED,
)
TOLERATE, INVEST, MIGRATE, ELIMINATE = (
    TimeDisposition.TOLERATE,
    TimeDisposition.INVEST,
    TimeDisposition.MIGRATE,
    TimeDisposition.ELIMINATE,
)
# slug: (name, owner, lifecycle, TIME disposition, criticality, vendor or None, description)
APPLICATIONS = {
    "polaris-policy": ("Polaris Policy Suite", "bob", A_ACTIVE, TOLERATE, CRITICAL,
                       "polaris-software", "Policy administration for all lines."),
    "polaris-claims": ("Polaris Claims", "bob", A_ACTIVE, INVEST, CRITICAL, "polaris-software",
                       "Claims handling case management."),
    "motor-mainframe": ("Motor Policy System (mainframe)", "bob", A_PHASE_OUT, MIGRATE, HIGH,
                        None, "Legacy motor policies, being migrated to Polaris Policy Suite."),
    "clearview-crm": ("Clearview CRM", "alice", A_ACTIVE, TOLERATE, HIGH, "clearview-crm",
                      "Customer relationship management, cases and campaigns."),
    "customer-portal": ("Customer Portal", "walter", A_ACTIVE, INVEST, HIGH, None,
                        "The public website and logged-in customer area."),
    "meridian-mobile": ("Meridian Mobile", "carla", A_ACTIVE, INVEST, HIGH, None,
                        "iOS and Android app."),
    "quote-engine": ("Quote Engine", "walter", A_ACTIVE, INVEST, HIGH, None,
                     "Quote journeys for the web, the app, brokers and partners."),
    "rating-engine": ("Rating Engine", "bob", A_ACTIVE, TOLERATE, CRITICAL, None,
                      "Premium calculation for every product."),
    "broker-extranet": ("Broker Extranet", "bob", A_ACTIVE, MIGRATE, MEDIUM, None,
                        "The brokers' web application, to be rebuilt on the portal stack."),
    "meridian-id": ("Meridian ID", "alice", A_ACTIVE, INVEST, CRITICAL, None,
                    "Identity provider for customers and brokers."),
    "paystream-connector": ("PayStream Connector", "alice", A_ACTIVE, TOLERATE, CRITICAL,
                            "paystream", "Payment service provider integration."),
    "docugen": ("DocuGen Composer", "carla", A_ACTIVE, TOLERATE, MEDIUM, None,
                "Document composition from templates."),
    "document-archive": ("Document Archive", "carla", A_ACTIVE, MIGRATE, MEDIUM, None,
                         "On-premises archive of documents and claim evidence."),
    "service-bus": ("Enterprise Service Bus", "bob", A_PHASE_OUT, MIGRATE, HIGH, None,
                    "Point-to-point integrations, being replaced by the API gateway and "
                    "events."),
    "api-gateway": ("API Gateway", "bob", A_ACTIVE, INVEST, CRITICAL, "nimbus-cloud",
                    "Managed API gateway and event broker."),
    "enterprise-dwh": ("Enterprise Data Warehouse", "carla", A_ACTIVE, TOLERATE, MEDIUM, None,
                       "Data warehouse and reporting marts."),
    "notify": ("Notify", "carla", A_ACTIVE, INVEST, HIGH, "voxline",
               "E-mail, SMS and push messaging platform."),
    "contact-centre-suite": ("Voxline Contact Centre", "alice", A_ACTIVE, TOLERATE, CRITICAL,
                             "voxline", "Telephony, chat and routing for the contact centre."),
    "itsm-tool": ("ITSM Tool", "alice", A_ACTIVE, TOLERATE, MEDIUM, None,
                  "Incident, request and change management."),
    "fraud-engine": ("Sentinel Fraud Engine", "vera", A_ACTIVE, INVEST, HIGH,
                     "sentinel-analytics", "Fraud scoring and investigation."),
    "ledgerworks-finance": ("LedgerWorks Finance", "carla", A_ACTIVE, TOLERATE, HIGH,
                            "ledgerworks", "General ledger, payables and receivables."),
    "ledgerworks-hr": ("LedgerWorks HR and Payroll", "alice", A_ACTIVE, TOLERATE, MEDIUM,
                       "ledgerworks", "HR records and payroll."),
    "printstream": ("PrintStream Output Manager", "carla", A_RETIRED, ELIMINATE, LOW,
                    "printpost", "Print output management, switched off with printed "
                    "document delivery."),
    "assist-dispatch": ("Assistance Dispatch", "vera", A_ACTIVE, TOLERATE, HIGH, "eurohelp",
                        "Dispatch of breakdown and travel assistance."),
    "procure-to-pay": ("Procure-to-Pay", "bob", A_PLAN, INVEST, MEDIUM, "ledgerworks",
                       "Purchase requests, approvals and orders (being introduced)."),
}

# (application, service, weight): the application supports the service.
APPLICATION_SUPPORTS = (
    ("polaris-policy", "policy-admin-platform", "1"),
    ("polaris-claims", "claims-platform", "1"),
    ("motor-mainframe", "policy-admin-platform", "1"),
    ("clearview-crm", "crm-platform", "3"),
    ("clearview-crm", "customer-contact-centre", "1"),
    ("customer-portal", "policy-self-service", "2"),
    ("customer-portal", "online-claims", "2"),
    ("customer-portal", "quote-and-buy", "1"),
    ("meridian-mobile", "mobile-app", "1"),
    ("quote-engine", "quote-and-buy", "2"),
    ("quote-engine", "broker-portal", "1"),
    ("rating-engine", "quote-and-buy", "1"),
    ("rating-engine", "policy-renewals", "1"),
    ("rating-engine", "broker-portal", "1"),
    ("rating-engine", "policy-admin-platform", "1"),
    ("broker-extranet", "broker-portal", "1"),
    ("meridian-id", "customer-identity", "1"),
    ("paystream-connector", "payment-gateway", "2"),
    ("paystream-connector", "billing-and-payments", "1"),
    ("docugen", "document-management", "2"),
    ("docugen", "policy-renewals", "1"),
    ("document-archive", "document-management", "1"),
    ("service-bus", "integration-hub", "1"),
    ("api-gateway", "integration-hub", "2"),
    ("api-gateway", "mobile-app", "1"),
    ("enterprise-dwh", "data-warehouse", "3"),
    ("enterprise-dwh", "management-information", "1"),
    ("notify", "messaging-gateway", "1"),
    ("contact-centre-suite", "customer-contact-centre", "3"),
    ("contact-centre-suite", "service-desk", "1"),
    ("itsm-tool", "service-desk", "1"),
    ("fraud-engine", "fraud-screening", "1"),
    ("ledgerworks-finance", "finance-ledger", "2"),
    ("ledgerworks-finance", "billing-and-payments", "0.5"),
    ("ledgerworks-hr", "hr-payroll", "1"),
    ("printstream", "document-delivery", "1"),
    ("assist-dispatch", "roadside-assistance", "2"),
    ("assist-dispatch", "travel-assistance", "1"),
    ("procure-to-pay", "procurement", "1"),
)
# fmt: on


# --- Loading ----------------------------------------------------------------------------------


class DemoLoader(RecordLoader):
    def __init__(self, *, today: datetime.date):
        super().__init__()
        self.today = today
        self.users = demo_users()
        self.services: dict[str, Service] = {}
        self.items: dict[tuple[str, str], SpecificationItem] = {}
        self.customers: dict[str, Customer] = {}
        self.subscriptions: dict[tuple[str, str], Subscription] = {}
        self.suppliers: dict[str, Supplier] = {}
        self.applications: dict[str, Application] = {}
        self.contracts: dict[str, Contract] = {}

    def load(self) -> None:
        """Each part in the order they refer to each other."""
        for slug, row in SERVICES.items():
            self.services[slug] = self.ensure(
                Service, f"service:{slug}", self.create_service, slug, row
            )
        for slug, quadrants in SPECIFICATIONS.items():
            for (code, aspect, dimension), entries in zip(QUADRANT_CODES, quadrants, strict=True):
                for number, entry in enumerate(entries, start=1):
                    self.items[slug, entry["title"]] = self.ensure(
                        SpecificationItem,
                        f"item:{slug}:{code}:{number}",
                        self.create_item,
                        slug,
                        aspect,
                        dimension,
                        entry,
                    )
        for consumer, links in DEPENDENCIES.items():
            for provider, weight, note in links:
                self.ensure(
                    ServiceDependency,
                    f"dependency:{consumer}:{provider}",
                    self.create_dependency,
                    consumer,
                    provider,
                    weight,
                    note,
                )
        for slug, row in CUSTOMERS.items():
            self.customers[slug] = self.ensure(
                Customer, f"customer:{slug}", self.create_customer, slug, row
            )
        for row in SUBSCRIPTIONS:
            customer, service = row[:2]
            self.subscriptions[customer, service] = self.ensure(
                Subscription, f"subscription:{customer}:{service}", self.create_subscription, row
            )
        numbers: Counter = Counter()
        for row in OUTCOMES:
            customer, service = row[:2]
            numbers[customer, service] += 1
            self.ensure(
                Outcome,
                f"outcome:{customer}:{service}:{numbers[customer, service]}",
                self.create_outcome,
                row,
            )
        for slug, row in SUPPLIERS.items():
            self.suppliers[slug] = self.ensure(
                Supplier, f"supplier:{slug}", self.create_supplier, slug, row
            )
        for slug, row in APPLICATIONS.items():
            self.applications[slug] = self.ensure(
                Application, f"application:{slug}", self.create_application, slug, row
            )
        for application, service, weight in APPLICATION_SUPPORTS:
            self.ensure(
                ApplicationSupport,
                f"support:{application}:{service}",
                self.create_application_support,
                application,
                service,
                weight,
            )
        for terms in self.contract_terms():
            reference = terms["reference"]
            self.contracts[reference] = self.ensure(
                Contract, f"contract:{reference}", self.create_contract, terms
            )
        for reference, target_kind, slug, weight in COVERAGES:
            self.ensure(
                ContractCoverage,
                f"coverage:{reference}:{target_kind}:{slug}",
                self.create_coverage,
                reference,
                target_kind,
                slug,
                weight,
            )

    # --- creating one record each, through its services function ---------------------------

    def create_service(self, external_id, slug, row) -> Service:
        name, kind, owner, lifecycle, criticality, dates, summary = row
        service = Service(
            source=SOURCE,
            external_id=external_id,
            name=name,
            slug=slug,
            summary=summary,
            kind=kind,
            lifecycle=lifecycle,
            criticality=criticality,
            owner=self.users[owner],
        )
        if lifecycle == PIPELINE:
            service.pipeline_on = dates
        elif lifecycle == RETIRED:
            service.live_on, service.retired_on = dates
        else:
            service.live_on = dates
        delegates = [self.users[name] for name in DELEGATES.get(slug, ())]
        return save_service(service=service, delegates=delegates)

    def create_item(self, external_id, slug, aspect, dimension, entry) -> SpecificationItem:
        fields = {k: v for k, v in entry.items() if k not in ("actual", "actual_on")}
        item = SpecificationItem(
            source=SOURCE,
            external_id=external_id,
            service=self.services[slug],
            aspect=aspect,
            dimension=dimension,
            **fields,
        )
        return add_specification_item(item=item)

    def create_dependency(self, external_id, consumer, provider, weight, note):
        dependency = ServiceDependency(
            source=SOURCE,
            external_id=external_id,
            consumer=self.services[consumer],
            provider=self.services[provider],
            weight=Decimal(weight),
            note=note,
        )
        return save_dependency(dependency=dependency)

    def create_customer(self, external_id, slug, row) -> Customer:
        name, kind, segment, manager = row
        return save_customer(
            customer=Customer(
                source=SOURCE,
                external_id=external_id,
                name=name,
                slug=slug,
                kind=kind,
                segment=segment,
                relationship_manager=self.users[manager],
            )
        )

    def create_subscription(self, external_id, row) -> Subscription:
        customer, service, units, unit_name, price, annual, start = row
        return save_subscription(
            subscription=Subscription(
                source=SOURCE,
                external_id=external_id,
                customer=self.customers[customer],
                service=self.services[service],
                units=Decimal(units),
                unit_name=unit_name,
                price_per_unit=None if price is None else Decimal(price),
                annual_charge=None if annual is None else Decimal(annual),
                currency=CURRENCY,
                start_date=start,
            )
        )

    def create_outcome(self, external_id, row) -> Outcome:
        customer, service, statement, metric, target, unit, item_title, agreement = row
        return save_outcome(
            outcome=Outcome(
                source=SOURCE,
                external_id=external_id,
                subscription=self.subscriptions[customer, service],
                statement=statement,
                metric=metric,
                target=None if target is None else Decimal(target),
                unit=unit,
                comparator=outcome_comparator(metric, unit),
                window=MONTH if metric else "",
                specification_item=self.items[service, item_title] if item_title else None,
                agreement=agreement,
            )
        )

    def create_supplier(self, external_id, slug, row) -> Supplier:
        name, website, owner = row
        return save_supplier(
            supplier=Supplier(
                source=SOURCE,
                external_id=external_id,
                name=name,
                slug=slug,
                website=website,
                owner=self.users[owner],
            )
        )

    def create_application(self, external_id, slug, row) -> Application:
        name, owner, lifecycle, disposition, criticality, vendor, description = row
        return save_application(
            application=Application(
                source=SOURCE,
                external_id=external_id,
                name=name,
                slug=slug,
                description=description,
                owner=self.users[owner],
                lifecycle=lifecycle,
                disposition=disposition,
                criticality=criticality,
                vendor=self.suppliers[vendor] if vendor else None,
                retired_at=end_of_day(RETIRED_ON) if lifecycle == A_RETIRED else None,
            )
        )

    def create_application_support(self, external_id, application, service, weight):
        return save_application_support(
            support=ApplicationSupport(
                source=SOURCE,
                external_id=external_id,
                application=self.applications[application],
                service=self.services[service],
                weight=Decimal(weight),
            )
        )

    def contract_terms(self):
        """The fields of every demo contract, with dates relative to today."""
        for row in CONTRACTS:
            supplier, reference, title, owner, years, notice, auto_renewal, to_deadline, value = row
            renewal = self.today + datetime.timedelta(days=to_deadline + notice)
            yield {
                "supplier": supplier,
                "reference": reference,
                "title": title,
                "owner": owner,
                "annual_value": value,
                "start_date": years_before(renewal, years),
                "renewal_date": renewal,
                "notice_period_days": notice,
                "auto_renewal": auto_renewal,
            }
        for supplier, reference, title, owner, to_end, notice, value in FIXED_TERM_CONTRACTS:
            end = self.today + datetime.timedelta(days=to_end)
            yield {
                "supplier": supplier,
                "reference": reference,
                "title": title,
                "owner": owner,
                "annual_value": value,
                "start_date": years_before(end, 1),
                "end_date": end,
                "notice_period_days": notice,
            }
        for supplier, reference, title, owner, start, end, notice, value in ENDED_CONTRACTS:
            yield {
                "supplier": supplier,
                "reference": reference,
                "title": title,
                "owner": owner,
                "annual_value": value,
                "start_date": start,
                "end_date": end,
                "notice_period_days": notice,
                "retired_at": end_of_day(end),
            }

    def create_contract(self, external_id, terms) -> Contract:
        fields = dict(terms)
        fields["supplier"] = self.suppliers[fields["supplier"]]
        fields["owner"] = self.users[fields["owner"]]
        fields["annual_value"] = Decimal(fields["annual_value"])
        contract = Contract(source=SOURCE, external_id=external_id, currency=CURRENCY, **fields)
        return save_contract(contract=contract)

    def create_coverage(self, external_id, reference, target_kind, slug, weight):
        target = (self.services if target_kind == "service" else self.applications)[slug]
        return save_coverage(
            coverage=ContractCoverage(
                source=SOURCE,
                external_id=external_id,
                contract=self.contracts[reference],
                weight=Decimal(weight),
                **{target_kind: target},
            )
        )


def demo_users() -> dict:
    """The demo people this part refers to, by username (core.demo creates them)."""
    names = {row[2] for row in SERVICES.values()}
    names |= {row[3] for row in CUSTOMERS.values()}
    names |= {row[2] for row in SUPPLIERS.values()}
    names |= {row[1] for row in APPLICATIONS.values()}
    names |= {row[3] for row in (*CONTRACTS, *FIXED_TERM_CONTRACTS, *ENDED_CONTRACTS)}
    names |= {name for delegates in DELEGATES.values() for name in delegates}
    return demo_people(names)


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def end_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(23, 59), tzinfo=datetime.UTC)


def load(*, stdout) -> None:
    loader = DemoLoader(today=timezone.localdate())
    loader.load()
    stdout.write(loader.summary("Demo portfolio"))
