"""A Hypothesis strategy for the text a person types into a spreadsheet cell."""

from __future__ import annotations

from hypothesis import strategies as st


def cell_text(max_size: int, banned_first: str, banned: str = "") -> st.SearchStrategy[str]:
    """Any letters, digits, punctuation and inner spaces, up to ``max_size`` characters;
    no surrounding spaces (the loader trims them), no first character from
    ``banned_first`` (text that exports escape as a would-be formula, say) and no
    character from ``banned`` (a delimiter the test's CSV writer does not quote)."""
    return (
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
            min_size=1,
            max_size=max_size,
        )
        .map(str.strip)
        .filter(lambda s: bool(s) and s[0] not in banned_first and not set(banned) & set(s))
    )
