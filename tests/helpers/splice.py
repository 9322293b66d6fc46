"""Byte-preservation checks shared by the yamledit and generator tests."""

from __future__ import annotations


def splice(before, after) -> tuple[int, int]:
    """(start, end) of the block of ``after`` that is not in ``before``: common prefix/suffix.

    ``after[:start] + after[end:] == before`` holds exactly when the edit inserted one block.
    Works on str and bytes.
    """
    n = 0
    while n < min(len(before), len(after)) and before[n] == after[n]:
        n += 1
    m = 0
    while m < min(len(before), len(after)) - n and before[-1 - m] == after[-1 - m]:
        m += 1
    return n, len(after) - m
