"""A stage or a process is named as an activity: its name starts with a verb.

The verbs come from the site-wide verb lists in use (valuestreams.models.VerbList: English,
Dutch, French and German are shipped; Portfolio managers extend them and choose which are in
use). The rule, kept simple enough to explain in one error message: the first word of the name
(the part after a hyphen for words such as "Re-submit") must be

- a verb of a list in use ("Register the claim"), also with "re" in front ("Recalculate the
  premium"), or
- with a list whose language names activities verb last (Dutch, German) in use, the last word
  may be its verb instead ("Schade melden", "Antrag prüfen"), or
- with English in use, any word in the -ing form ("Adjudicating the claim"), which lets a verb
  missing from the list through, except the few everyday nouns that end in -ing ("Something",
  "Morning").

English articles, determiners and pronouns ("The", "A", "Our") are refused with their own
message, since they are the usual sign of a noun phrase ("The claim form"). Words that are both
noun and verb ("Quote", "Order", "Review") pass: read as the imperative, they name an activity.
With no list in use there is no vocabulary to judge by, and every name passes.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ENGLISH = "en"

# The English list as shipped (the verb lists' data migration holds its own copy); the rule
# reads the lists stored in the database, this one only serves validate_activity_name.
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

WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


@dataclass(frozen=True)
class Vocabulary:
    """The verbs of the lists in use: ``verbs`` may start a name, ``verbs_last`` end one;
    ``english``: an English list is in use (the -ing form and the article message apply)."""

    verbs: frozenset[str] = frozenset()
    verbs_last: frozenset[str] = frozenset()
    english: bool = False

    @property
    def empty(self) -> bool:
        return not self.verbs


ENGLISH_VOCABULARY = Vocabulary(verbs=PROCESS_VERBS, english=True)


def first_word(name: str) -> str:
    match = WORD.match(name.strip())
    return match.group(0) if match else ""


def last_word(name: str) -> str:
    found = WORD.findall(name)
    return found[-1] if found else ""


def is_verb(word: str, verbs: frozenset[str]) -> bool:
    """``word`` (any case) is one of ``verbs``, also after a hyphen or with "re" in front."""
    word = word.lower()
    if word in verbs:
        return True
    word = word.rsplit("-", 1)[-1]  # "re-submit", "pre-approve"
    return word in verbs or (word.startswith("re") and word[2:] in verbs)


def starts_with_verb(name: str, vocabulary: Vocabulary = ENGLISH_VOCABULARY) -> bool:
    word = first_word(name)
    if not word:
        return False
    if is_verb(word, vocabulary.verbs):
        return True
    if vocabulary.verbs_last and is_verb(last_word(name), vocabulary.verbs_last):
        return True
    ending = word.lower().rsplit("-", 1)[-1]
    return (
        vocabulary.english
        and len(ending) >= 5
        and ending.endswith("ing")
        and ending not in ING_NOUNS
    )


def activity_name_error(name: str, vocabulary: Vocabulary) -> ValidationError | None:
    """Why ``name`` is no activity, saying how to fix it, or None."""
    if vocabulary.empty:
        return None
    word = first_word(name)
    if not word:
        return ValidationError(
            "Start the name with a verb, as an activity: for example “Register the claim”.",
            code="not_an_activity",
        )
    if starts_with_verb(name, vocabulary):
        return None
    if vocabulary.english and word.lower() in NOT_ACTIVITIES:
        return ValidationError(
            "Name the activity, not a thing: start with a verb instead of “%(word)s” "
            "(for example “Register the claim”, not “The claim registration”).",
            code="not_an_activity",
            params={"word": word},
        )
    return ValidationError(
        "Start the name with a verb, as an activity: “%(word)s” is not one of the process "
        "verbs of the verb lists in use. Use the imperative (“Register the claim”)"
        + (
            " or, for a verb not in the list, the -ing form (“Adjudicating the claim”)"
            if vocabulary.english
            else ""
        )
        + ", or ask a Portfolio manager to add the verb to a verb list.",
        code="not_an_activity",
        params={"word": word},
    )


def validate_activity_name(name: str) -> None:
    """The verb rule on the English list as shipped, for code without the stored lists (the
    first migrations name it as the fields' validator); the write rules read the lists in use
    (valuestreams.services)."""
    error = activity_name_error(name, ENGLISH_VOCABULARY)
    if error is not None:
        raise error


MAX_VERBS = 5000


def validate_verbs(text: str) -> None:
    """A verb list: words separated by spaces or new lines, at most MAX_VERBS of them."""
    found = text.split()
    if not found:
        raise ValidationError("Give at least one verb.", code="no_verbs")
    odd = [verb for verb in found if not WORD.fullmatch(verb)]
    if odd:
        raise ValidationError(
            "Give single words separated by spaces or new lines: “%(word)s” is not one.",
            code="not_a_word",
            params={"word": odd[0]},
        )
    if len(found) > MAX_VERBS:
        raise ValidationError(
            "A verb list holds at most %(max)s verbs.", code="too_many", params={"max": MAX_VERBS}
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
