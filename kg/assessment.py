"""One assessment of a model version under a catalog release: its threat candidates (listed and
excluded, explained), the rows rated with their residual risk and folded, the coverage and the
report of each profile. Each is computed once, on first use, from one analysis, and every consumer
(CLI, web pages and API, reports, cross-system questions) reads it.

Its answers are plain JSON-ready data, so that they can be kept (kg.answers) and read back without
the analysis: a model version under a catalog release has exactly one answer to each question."""

import dataclasses
import datetime
import hashlib
import json
from collections.abc import Callable
from functools import cached_property

from kg import progress
from kg.analysis import Analysis
from kg.coverage import IN_PLACE, OPEN_STATES
from kg.coverage import coverage as profile_coverage
from kg.decisions import decisions_until, findings
from kg.folding import folded
from kg.folding import folds as fold_pairs
from kg.profiles import Profile
from kg.risk import add_risk
from kg.threats import candidates


RATED_KEYS = {"risk", "state", "decision"}     # what `rated` adds to a row


def profile_key(profile: Profile) -> str:
    """A profile's identity in kept answers: its id and a digest of everything it states."""
    stated = json.dumps(dataclasses.asdict(profile), sort_keys=True, default=sorted)
    return f"{profile.id}/{hashlib.sha256(stated.encode()).hexdigest()[:12]}"


def _still_true(answers: dict) -> bool:
    """Whether kept answers still hold today: no decision they count on has expired since."""
    until = answers.get("until")
    return until is None or datetime.date.today().isoformat() <= until


class Assessment:
    """The answers about one analysed model. `answers` are those already known (kept earlier); an
    answer missing from them is computed from the analysis, which is made only then."""

    def __init__(self, analysis: Analysis | Callable[[], Analysis], answers: dict | None = None):
        self._analysis = analysis
        self.answers = answers if answers is not None and _still_true(answers) else {}
        self.computed = False        # whether this assessment computed (rather than read) an answer

    @cached_property
    def analysis(self) -> Analysis:
        return self._analysis if isinstance(self._analysis, Analysis) else self._analysis()

    # ------------------------------------------------------------ computed from the analysis
    @cached_property
    def candidates(self) -> list[dict]:
        """Every route-brought (element, threat) candidate, explained; excluded ones carry `excluded_by`."""
        with progress.step("threats and their explanations", self.analysis.model.size):
            return candidates(self.analysis)

    @cached_property
    def rows(self) -> list[dict]:
        """The listed threat rows (kg.threats.threat_rows of the whole model)."""
        if "rated" in self.answers:
            return [{k: v for k, v in r.items() if k not in RATED_KEYS} for r in self.answers["rated"]]
        return [r for r in self.candidates if not r.get("excluded_by")]

    @property
    def excluded(self) -> list[dict]:
        """Candidates an applicability condition excludes."""
        return self._answer("excluded", lambda: [r for r in self.candidates if r.get("excluded_by")])

    @property
    def rated(self) -> list[dict]:
        """Copies of the rows with their residual `risk` (kg.risk), lowered by what is in place, and
        their `state` by what is in place (kg.coverage under IN_PLACE, decisions included), with the
        `decision` that set it if any."""
        return self._answer("rated", self._rate)

    def _rate(self) -> list[dict]:
        in_place = self.coverage(IN_PLACE)
        with progress.step("residual risk", self.analysis.model.size):
            rows = add_risk(self.analysis, [dict(r) for r in self.rows], in_place)
        states = {(c["component"], t): s for c in in_place["components"] for t, s in c["states"].items()}
        for row in rows:
            state = states[(row["component"], row["threat"])]
            row["state"] = state["state"]
            if "decision" in state:
                row["decision"] = state["decision"]
        return rows

    def findings(self) -> list[dict]:
        """The model's stale and expired decisions (kg.decisions.findings), as of today: never kept,
        since a decision expires with time."""
        return findings(self.analysis, self.rows)

    # ------------------------------------------------------------ answers (kept, else computed)
    def _answer(self, key: str, compute: Callable[[], object]):
        if key not in self.answers:
            if not self.answers:
                self.answers["until"] = decisions_until(self.analysis)
            self.answers[key] = compute()
            self.computed = True
        return self.answers[key]

    def threats(self, component: str | None = None) -> list[dict]:
        """The rated rows, each parent with its applicable descendants folded under it (`folded`);
        of one element when `component` is given."""
        folds = self._answer("folds", lambda: fold_pairs(self.analysis.store, self.rated))
        rows = [dict(r) for r in self.rated if component in (None, r["component"])]
        return folded(rows, folds)

    def coverage(self, profile: Profile) -> dict:
        """kg.coverage of the model by the profile."""
        def compute():
            rows = self.rows
            with progress.step(f"coverage by {profile.id}", self.analysis.model.size):
                return profile_coverage(self.analysis, profile, rows)
        return self._answer(f"coverage/{profile_key(profile)}", compute)

    def report(self, profile: Profile) -> dict:
        """kg.report data for the profile."""
        from kg.report import build     # the report and its diagram load only when a report is asked for
        return self._answer(f"report/{profile_key(profile)}",
                            lambda: build(self.analysis, profile, self.rated, self.coverage(profile)))

    def prepare(self) -> "Assessment":
        """Compute (or read) the rows, their exclusions and risk now, so that no reader waits for them."""
        _ = self.excluded, self.rated
        return self

    def status(self, profile: Profile) -> dict:
        """(element, threat id) → its state {state, by, requires} (kg.coverage.state_of) and `open`
        (required or uncovered), for the pairs the profile covers."""
        return {(c["component"], t): {**state, "open": state["state"] in OPEN_STATES}
                for c in self.coverage(profile)["components"] for t, state in c["states"].items()}
