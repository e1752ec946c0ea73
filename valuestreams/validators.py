"""A stage or a process is named as an activity: its name starts with a verb.

The rule, kept simple enough to explain in one error message: the first word of the name
(the part after a hyphen for words such as "Re-submit") must be

- a verb in the imperative from the list of common process verbs below ("Register the claim"),
  also with "re" in front ("Recalculate the premium"), or
- any word in the -ing form ("Adjudicating the claim"), which lets a verb missing from the list
  through, except the few everyday nouns that end in -ing ("Something", "Morning").

Articles, determiners and pronouns ("The", "A", "Our") are refused with their own message, since
they are the usual sign of a noun phrase ("The claim form"). Words that are both noun and verb
("Quote", "Order", "Review") pass: read as the imperative, they name an activity.
"""

import re

from django.core.exceptions import ValidationError


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PROCESS_VERBS = words(
    """
    accept acknowledge acquire act activate add adjust administer advise agree align allocate
    amend analyse analyze answer apply appoint approve archive arrange ask assemble assess
    assign assist attach attend audit authenticate authorise authorize automate balance bill
    book brief build buy calculate call cancel capture categorise categorize certify change
    charge chase check choose claim classify clean clear close code collect combine commission
    communicate compare compensate compile complete comply compute conclude conduct configure
    confirm connect consider consolidate consult contact continue contract control convert
    coordinate copy correct cost create credit cross-check deactivate debit decide declare
    decline define delegate delete deliver deploy describe design despatch detect determine
    develop diagnose discover discuss dispatch distribute document download draft drive edit
    educate email enable encrypt end enrol enroll ensure enter equip escalate establish
    estimate evaluate examine exchange execute expedite explain export extract fetch file fill
    finalise finalize find finish fix follow forecast forward fulfil fulfill gather generate
    get give grade grant greet guide hand handle help hire hold identify implement import
    improve include inform initiate input inspect install instruct insure integrate interview
    introduce investigate invite invoice issue join judge keep label launch learn lend link
    list load locate lodge log maintain make manage map mark match measure meet merge migrate
    monitor move negotiate notify obtain offer onboard open operate order organise organize
    pack package pass pay perform pick place plan post prepare present price print prioritise
    prioritize process procure produce promote propose protect provide provision publish
    purchase qualify query queue quote raise rate reach read reassess rebook receive recommend
    reconcile record recover recruit rectify redirect reduce refer refund register reject
    release remind remove renew reopen repair replace reply report request reserve reset
    resolve respond restore resubmit retrieve return review revise route run save scan schedule
    score screen search secure select sell send serve service set settle share ship sign sort
    source specify split staff start steer stock store submit subscribe summarise summarize
    supply support survey suspend switch take talk terminate test tow track trade train
    transfer translate transport triage troubleshoot update upgrade upload use validate value
    verify visit wait walk welcome withdraw write
    """
)

NOT_ACTIVITIES = words(
    """
    a an the this that these those my our your their his her its some any every each no i we
    you he she it they all both either neither
    """
)

ING_NOUNS = words(
    """
    thing something nothing anything everything morning evening ceiling string king ring spring
    wing sibling pudding building wedding darling duckling earring
    """
)

FIRST_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def first_word(name: str) -> str:
    match = FIRST_WORD.match(name.strip())
    return match.group(0) if match else ""


def starts_with_verb(name: str) -> bool:
    word = first_word(name).lower()
    if not word:
        return False
    if word in PROCESS_VERBS:
        return True
    word = word.rsplit("-", 1)[-1]  # "re-submit", "pre-approve"
    if word in PROCESS_VERBS or (word.startswith("re") and word[2:] in PROCESS_VERBS):
        return True
    return len(word) >= 5 and word.endswith("ing") and word not in ING_NOUNS


def validate_activity_name(name: str) -> None:
    """Refuse a name that does not start with a verb, saying why and how to fix it."""
    word = first_word(name)
    if not word:
        raise ValidationError(
            "Start the name with a verb, as an activity: for example “Register the claim”.",
            code="not_an_activity",
        )
    if word.lower() in NOT_ACTIVITIES:
        raise ValidationError(
            "Name the activity, not a thing: start with a verb instead of “%(word)s” "
            "(for example “Register the claim”, not “The claim registration”).",
            code="not_an_activity",
            params={"word": word},
        )
    if not starts_with_verb(name):
        raise ValidationError(
            "Start the name with a verb, as an activity: “%(word)s” is not one of the process "
            "verbs Portico knows. Use the imperative (“Register the claim”) or, for a verb not "
            "in the list, the -ing form (“Adjudicating the claim”).",
            code="not_an_activity",
            params={"word": word},
        )


ACTIVITY_MAX_LENGTH = 500


def validate_activities(value) -> None:
    """A process's activities: a list of texts, in order (one activity each)."""
    if not isinstance(value, list):
        raise ValidationError(
            "Give the activities as a list of texts, in order.", code="not_a_list"
        )
    for index, activity in enumerate(value):
        if not isinstance(activity, str):
            raise ValidationError(
                "Activity %(index)s is not a text: give each activity as a string.",
                code="not_a_text",
                params={"index": index},
            )
        if len(activity) > ACTIVITY_MAX_LENGTH:
            raise ValidationError(
                "Activity %(index)s is longer than %(max)s characters.",
                code="too_long",
                params={"index": index, "max": ACTIVITY_MAX_LENGTH},
            )
