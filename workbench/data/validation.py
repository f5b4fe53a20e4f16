"""Argument checks shared by the loaders."""

from __future__ import annotations

from collections.abc import Sequence


def check_choice(argument: str, value: object, choices: Sequence[str]) -> None:
    """Check that the string argument ``argument`` has one of ``choices``.

    Raises
    ------
    TypeError
        If ``value`` is not a string.
    ValueError
        If ``value`` is not one of ``choices``; the message names the argument,
        the value and the valid choices.
    """
    valid = ", ".join(repr(choice) for choice in choices)
    if not isinstance(value, str):
        raise TypeError(
            f"{argument} must be a str, one of {valid}; got {type(value).__name__} {value!r}."
        )
    if value not in choices:
        raise ValueError(f"invalid {argument}={value!r}; valid choices: {valid}.")
