"""Text helpers: Salesforce field-length truncation and the call Description format.

The Description of a call Task (R6.7 to R6.9) is, in this order and each line only when it
has a value::

    Wait time: 14 s
    Recording: https://...
    Voicemail: https://...
    Comments:
    First comment
    Second comment
    Tags: billing, vip

It is parsed back so that later events of the same call (R8.2) merge into it instead of
replacing it: comments and tags are only ever added, links replaced by newer ones.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

SUBJECT_MAX = 255
DESCRIPTION_MAX = 32000

_WAIT = "Wait time: "
_RECORDING = "Recording: "
_VOICEMAIL = "Voicemail: "
_COMMENTS = "Comments:"
_TAGS = "Tags: "


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters as Salesforce counts them (UTF-16 code units),
    never splitting a surrogate pair."""
    if len(text) <= limit // 2 or len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def one_line(text: str) -> str:
    """Collapse whitespace, newlines included, so a value fits on one Description line."""
    return " ".join(text.split())


@dataclass(frozen=True)
class CallDescription:
    """The structured content of a call Task's Description."""

    wait_seconds: int | None = None
    recording: str | None = None
    voicemail: str | None = None
    comments: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def render(self) -> str:
        lines = []
        if self.wait_seconds is not None:
            lines.append(f"{_WAIT}{self.wait_seconds} s")
        if self.recording:
            lines.append(f"{_RECORDING}{one_line(self.recording)}")
        if self.voicemail:
            lines.append(f"{_VOICEMAIL}{one_line(self.voicemail)}")
        comments = [one_line(c) for c in self.comments if one_line(c)]
        if comments:
            lines.append(_COMMENTS)
            lines.extend(comments)
        tags = [one_line(t) for t in self.tags if one_line(t)]
        if tags:
            lines.append(_TAGS + ", ".join(tags))
        return truncate("\n".join(lines), DESCRIPTION_MAX)

    @classmethod
    def parse(cls, text: str | None) -> "CallDescription | None":
        """Read a Description written by :meth:`render`; None when it is not in that format
        (edited by hand, or cut at the length limit)."""
        if not text:
            return cls()
        lines = text.replace("\r\n", "\n").split("\n")
        found = cls()
        index = 0
        for prefix in (_WAIT, _RECORDING, _VOICEMAIL):
            if index < len(lines) and lines[index].startswith(prefix):
                value = lines[index][len(prefix):]
                if prefix == _WAIT:
                    if not (value.endswith(" s") and value[:-2].isdigit()):
                        return None
                    found = replace(found, wait_seconds=int(value[:-2]))
                else:
                    found = replace(found, **{"recording" if prefix == _RECORDING else "voicemail": value})
                index += 1
        rest = lines[index:]
        if rest and rest[-1].startswith(_TAGS):
            found = replace(found, tags=tuple(t.strip() for t in rest[-1][len(_TAGS):].split(", ")))
            rest = rest[:-1]
        if rest:
            if rest[0] != _COMMENTS or len(rest) == 1:
                return None
            found = replace(found, comments=tuple(rest[1:]))
        return found if found.render() == text else None

    def merge(self, newer: "CallDescription") -> "CallDescription":
        """This description updated with a later event's: comments and tags are added,
        wait time and links taken from the newer one when it has them."""
        return CallDescription(
            wait_seconds=newer.wait_seconds if newer.wait_seconds is not None else self.wait_seconds,
            recording=newer.recording or self.recording,
            voicemail=newer.voicemail or self.voicemail,
            comments=_union(self.comments, newer.comments),
            tags=_union(self.tags, newer.tags),
        )


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    out = list(first)
    for item in second:
        if item not in out:
            out.append(item)
    return tuple(out)


def merge_description(existing: str | None, newer: CallDescription) -> str:
    """The Description a Task should have once ``newer`` is merged into ``existing``.

    A Description not in the core's format (someone edited it in Salesforce) is kept as it
    is, and only the lines of ``newer`` it lacks are appended.
    """
    parsed = CallDescription.parse(existing)
    if parsed is not None:
        return parsed.merge(newer).render()
    present = set(existing.split("\n"))
    missing = [line for line in newer.render().split("\n") if line and line not in present]
    if not missing:
        return existing
    return truncate(existing.rstrip("\n") + "\n" + "\n".join(missing), DESCRIPTION_MAX)
