"""Typed errors of scoring and the model file (re-exported by typology.scoring)."""

from __future__ import annotations

from collections.abc import Sequence


class ModelError(ValueError):
    """The model file is invalid or does not fit the questionnaire."""


class AnswerError(ValueError):
    """Answers that cannot be scored; never guessed around."""


class IncompleteAnswers(AnswerError):
    """One or more scored items are unanswered."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        super().__init__(f"unanswered items: {', '.join(self.missing)}")


class UnknownItem(AnswerError):
    """An answer refers to an item the questionnaire does not have."""

    def __init__(self, item: str) -> None:
        self.item = item
        super().__init__(f"unknown item {item!r}")


class UnknownOption(AnswerError):
    """An answer uses an option the item does not offer."""

    def __init__(self, item: str, option: str) -> None:
        self.item, self.option = item, option
        super().__init__(f"item {item!r} has no option {option!r}")


class VersionMismatch(AnswerError):
    """Answers were given to another questionnaire version."""

    def __init__(self, expected: str, got: str) -> None:
        self.expected, self.got = expected, got
        super().__init__(f"answers are for questionnaire version {got!r}, expected {expected!r}")
