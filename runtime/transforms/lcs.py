"""Longest common subsequence of two word lists and the keep/remove/add diff built from it.

Tie-breaking follows the predecessor exactly: backtracking from the end, a match is taken
diagonally, otherwise the move goes up when ``dp[i-1][j] > dp[i][j-1]`` and left on ties.
The common suffix and prefix are stripped before the quadratic table is built; see
:func:`compute_lcs` for why that gives the same answer as the full table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class LcsResult:
    """The common tokens and where they sit in each input (ascending indices)."""

    tokens: list[str]
    a_indices: list[int]
    b_indices: list[int]


@dataclass(frozen=True, slots=True)
class DiffOp:
    """One step of a word diff; ``original_index``/``patched_index`` are None where they do not apply."""

    op: Literal["keep", "remove", "add"]
    word: str
    original_index: int | None
    patched_index: int | None


def compute_lcs(a: Sequence[str], b: Sequence[str]) -> LcsResult:
    """Longest common subsequence of ``a`` and ``b`` under exact string equality.

    Equivalent to the predecessor's full O(m·n) table, but only the part between the common
    prefix and suffix is tabulated:

    * the backtrack starts at (m, n) and takes a matching last pair at once, so a common suffix
      is always matched pairwise;
    * inside the common prefix (length p), ``dp[i][j] = min(i, j)``, so once the backtrack leaves
      the middle block it matches equal pairs and otherwise moves along the longer side — the
      same walk the full table would make, done here without the table.
    """
    end_a, end_b = len(a), len(b)
    pairs: list[tuple[int, int]] = []
    while end_a > 0 and end_b > 0 and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
        pairs.append((end_a, end_b))
    prefix = 0
    while prefix < end_a and prefix < end_b and a[prefix] == b[prefix]:
        prefix += 1
    i, j = _backtrack_middle(a, b, prefix, end_a, end_b, pairs)
    _backtrack_prefix(a, b, i, j, pairs)
    pairs.reverse()
    return LcsResult(
        tokens=[a[ia] for ia, _ in pairs],
        a_indices=[ia for ia, _ in pairs],
        b_indices=[ib for _, ib in pairs],
    )


def _backtrack_middle(
    a: Sequence[str], b: Sequence[str], prefix: int, end_a: int, end_b: int, pairs: list[tuple[int, int]]
) -> tuple[int, int]:
    """Tabulate ``a[prefix:end_a]`` against ``b[prefix:end_b]``, backtrack, return where the walk left it."""
    mid_a, mid_b = a[prefix:end_a], b[prefix:end_b]
    rows, cols = len(mid_a), len(mid_b)
    if rows == 0 or cols == 0:
        return prefix + rows, prefix + cols
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for r in range(1, rows + 1):
        token, above, row = mid_a[r - 1], table[r - 1], table[r]
        for c in range(1, cols + 1):
            if token == mid_b[c - 1]:
                row[c] = above[c - 1] + 1
            else:
                left = row[c - 1]
                row[c] = above[c] if above[c] > left else left
    r, c = rows, cols
    while r > 0 and c > 0:
        if mid_a[r - 1] == mid_b[c - 1]:
            r -= 1
            c -= 1
            pairs.append((prefix + r, prefix + c))
        elif table[r - 1][c] > table[r][c - 1]:
            r -= 1
        else:
            c -= 1
    return prefix + r, prefix + c


def _backtrack_prefix(a: Sequence[str], b: Sequence[str], i: int, j: int, pairs: list[tuple[int, int]]) -> None:
    """Continue the backtrack into the common prefix, where ``dp[i][j] == min(i, j)``."""
    while i > 0 and j > 0:
        if a[i - 1] == b[j - 1]:
            i -= 1
            j -= 1
            pairs.append((i, j))
        elif i > j:  # dp[i-1][j] == j > j-1 == dp[i][j-1]: move up
            i -= 1
        else:  # dp[i-1][j] == i-1 < i == dp[i][j-1] (or a tie never arises): move left
            j -= 1


def compute_diff(original: Sequence[str], patched: Sequence[str]) -> list[DiffOp]:
    """Keep/remove/add operations turning ``original`` into ``patched``.

    Within a changed region every ``remove`` comes before every ``add`` (a substitution is a
    remove followed by an add), as in the predecessor.
    """
    lcs = compute_lcs(original, patched)
    ops: list[DiffOp] = []
    i = j = k = 0
    matches = len(lcs.a_indices)
    while i < len(original) or j < len(patched):
        if k < matches and i == lcs.a_indices[k] and j == lcs.b_indices[k]:
            ops.append(DiffOp("keep", original[i], i, j))
            i, j, k = i + 1, j + 1, k + 1
        elif i < len(original) and (k >= matches or i != lcs.a_indices[k]):
            ops.append(DiffOp("remove", original[i], i, None))
            i += 1
        elif j < len(patched) and (k >= matches or j != lcs.b_indices[k]):
            ops.append(DiffOp("add", patched[j], None, j))
            j += 1
        elif i < len(original):  # unreachable with a consistent LCS; kept as the predecessor's safety net
            i += 1
        else:
            j += 1
    return ops
