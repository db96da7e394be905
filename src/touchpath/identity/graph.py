"""The identity graph in memory: the part of it a batch touches, and the walk of one
message's identifiers through it, as Segment Unify does: find the profiles of the message's
identifiers; if joining them (and adding the new identifiers) would break a limit, drop the
message's lowest-priority identifier and try again. A merge keeps the older profile's id and is
recorded with the message that caused it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from touchpath.identity.extract import SEP, Ident, profile_id_for
from touchpath.identity.rules import IdentityRules

__all__ = ["Graph", "Resolution", "final", "ident_of"]


@dataclass
class Resolution:
    """What one `resolve` call changed."""

    first: int
    last: int
    messages: int = 0
    walked: int = 0
    new_identifiers: int = 0
    new_profiles: int = 0
    merges: int = 0
    drops: int = 0
    merged: dict[str, str] = field(default_factory=dict)
    """Profiles merged away in this call -> the profile they live on in."""


@dataclass
class Graph:
    """The part of the graph a batch touches, in memory."""

    rules: IdentityRules
    profile_of: dict[Ident, str] = field(default_factory=dict)
    members: dict[str, list[Ident]] = field(default_factory=dict)
    linked_at: dict[Ident, int] = field(default_factory=dict)
    created_seq: dict[str, int] = field(default_factory=dict)
    new_idents: dict[Ident, tuple[int, int]] = field(default_factory=dict)
    new_profiles: dict[str, tuple[int, int]] = field(default_factory=dict)
    merged_into: dict[str, str] = field(default_factory=dict)
    merges: list[tuple[int, int, str, str, str]] = field(default_factory=list)
    drops: list[tuple[int, int, str, str, str]] = field(default_factory=list)

    limits: dict[str, tuple[int, float | None]] = field(default_factory=dict)
    """kind -> (max, window in microseconds or None), looked up once per kind."""

    def _limit(self, kind: str) -> tuple[int, float | None]:
        lim = self.limits.get(kind)
        if lim is None:
            rule = self.rules.limit(kind)
            window = None if rule.within is None else rule.within * 1_000_000
            lim = self.limits[kind] = (rule.max, window)
        return lim

    def _violations(self, pids: set[str], new: list[Ident], ts: int) -> list[str]:
        """Kinds whose limit the union of `pids` plus `new` would break at time `ts`."""
        counts: dict[str, int] = {}
        for kind, _ in new:
            counts[kind] = counts.get(kind, 0) + 1
        linked_at, limit = self.linked_at, self._limit
        for pid in pids:
            for ident in self.members[pid]:
                kind = ident[0]
                window = limit(kind)[1]
                if window is not None and linked_at[ident] < ts - window:
                    continue
                counts[kind] = counts.get(kind, 0) + 1
        return [k for k, n in counts.items() if n > limit(k)[0]]

    def walk(self, combo: list[Ident], seq: int, ts: int) -> bool:
        """Resolve one message's identifiers (most trusted first). True if nothing can change
        when the same combination comes again (every later repeat is then a no-op)."""
        ids = list(combo)
        settled = True
        while True:
            pids = {p for i in ids if (p := self.profile_of.get(i)) is not None}
            new = [i for i in ids if i not in self.profile_of]
            bad = self._violations(pids, new, ts) if (len(pids) > 1 or new) else []
            if not bad:
                break
            if any(self._limit(k)[1] is not None for k in bad):
                settled = False
            dropped = ids.pop()
            why = "would give the profile more " + " and ".join(
                f"{k} than {self._limit(k)[0]}" for k in sorted(bad)
            )
            self.drops.append((seq, ts, dropped[0], dropped[1], why))
            if dropped not in self.profile_of:
                self._create([dropped], seq, ts)
        if not ids:
            return settled
        if not pids:
            self._create(new, seq, ts)
            return settled
        keep = min(pids, key=lambda p: (self.created_seq[p], p))
        for other in sorted(pids - {keep}):
            self._merge(keep, other, seq, ts, combo)
        self._attach(keep, new, seq, ts)
        return settled

    def _create(self, idents: list[Ident], seq: int, ts: int) -> None:
        pid = profile_id_for(*idents[0])
        self.members[pid] = []
        self.created_seq[pid] = seq
        self.new_profiles[pid] = (seq, ts)
        self._attach(pid, idents, seq, ts)

    def _attach(self, pid: str, idents: list[Ident], seq: int, ts: int) -> None:
        members = self.members[pid]
        for ident in idents:
            self.profile_of[ident] = pid
            self.linked_at[ident] = ts
            self.new_idents[ident] = (seq, ts)
            members.append(ident)

    def _merge(self, keep: str, other: str, seq: int, ts: int, combo: list[Ident]) -> None:
        moved = self.members.pop(other)
        for ident in moved:
            self.profile_of[ident] = keep
        self.members[keep].extend(moved)
        del self.created_seq[other]
        self.new_profiles.pop(other, None)
        self.merged_into[other] = keep
        why = json.dumps([list(i) for i in combo])
        self.merges.append((seq, ts, keep, other, why))


def ident_of(part: str) -> Ident:
    kind, _, value = part.partition(SEP)
    return (kind, value)


def final(merged_into: dict[str, str], pid: str) -> str:
    while pid in merged_into:
        pid = merged_into[pid]
    return pid
