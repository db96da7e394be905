"""Personalisation: decisions answered in milliseconds from a read model of profiles.

A decision maps audiences, traits, computed traits and the request's context to a JSON
variant, with a default and an optional holdout and splits (`spec`); it is saved in versions
and published per source (`decisions`). A page asks `POST /v1/decide` with its source's write
key and gets only that source's published decisions; a server reads whole profiles with a
token. Answers come from `ReadModel`, kept current by a commit listener (`Personalizer`, the
`personalize` component of `touchpath.system`), and each is recorded as an `Experiment
Viewed` event (`exposures`) that the experiments engine reads (`results`). docs/personalize.md.
"""

from __future__ import annotations

from touchpath.personalize.decisions import (
    DecisionInfo,
    Publication,
    SavedDecision,
    delete_decision,
    get_decision,
    list_decisions,
    list_versions,
    publications,
    publish,
    save_decision,
    unpublish,
)
from touchpath.personalize.evaluate import Outcome, bucket, choose
from touchpath.personalize.exposures import SOURCE, exposure_message
from touchpath.personalize.preview import preview_for, profile_for
from touchpath.personalize.read import (
    Identifier,
    PreviewResult,
    ProfileRead,
    parse_identifier,
    read_profile,
)
from touchpath.personalize.readmodel import ProfileView, ReadModel
from touchpath.personalize.results import ArmNumbers, DecisionNumbers, decision_numbers
from touchpath.personalize.service import Personalizer
from touchpath.personalize.spec import Decision, Rule, parse_decision

__all__ = [
    "SOURCE",
    "ArmNumbers",
    "Decision",
    "DecisionInfo",
    "DecisionNumbers",
    "Identifier",
    "Outcome",
    "Personalizer",
    "PreviewResult",
    "ProfileRead",
    "ProfileView",
    "Publication",
    "ReadModel",
    "Rule",
    "SavedDecision",
    "bucket",
    "choose",
    "decision_numbers",
    "delete_decision",
    "exposure_message",
    "get_decision",
    "list_decisions",
    "list_versions",
    "parse_decision",
    "parse_identifier",
    "preview_for",
    "profile_for",
    "publications",
    "publish",
    "read_profile",
    "save_decision",
    "unpublish",
]
