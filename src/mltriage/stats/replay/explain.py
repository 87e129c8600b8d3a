"""An exception raised by a pipeline step, said in plain words next to its own message."""

from __future__ import annotations

import re

# (pattern on "ExceptionType: message", plain words; {0}, {1}... are the pattern's groups)
PLAIN: tuple[tuple[str, str], ...] = (
    (
        r"Cannot use (mean|median) strategy with non-numeric data",
        "a text value reached an imputer that computes a {0}: it needs numbers",
    ),
    (r"could not convert string to float: ?(.*)", "a text value ({0}) reached a step that needs numbers"),
    (
        r"Found unknown categor(?:y|ies) (.*?) in column (\d+) during (?:transform|fit)",
        "category {0} (column {1} of the step) was never seen in training, and the encoder refuses "
        "unknown categories (handle_unknown='error')",
    ),
    (
        r"Input (?:X |y )?contains NaN",
        "a missing value (NaN) reached a step that does not accept missing values",
    ),
    (
        r"Input (?:X |y )?contains infinity|value too large for dtype",
        "an infinite or too large value reached a step that needs finite numbers",
    ),
    (
        r"X has (\d+) features?, but (\w+) is expecting (\d+) features?",
        "the step receives {0} columns where it was fitted on {2}",
    ),
    (r"columns are missing: (.*)", "columns the step needs are missing from the input: {0}"),
    (
        r"pandas dtypes must be int, float or bool",
        "a column holds text (object dtype) where the model expects numbers or a pandas category",
    ),
    (
        r"categorical_feature do not match",
        "the categorical columns do not carry the pandas category dtype (and categories) the model "
        "was trained with",
    ),
    (
        r"DataFrame\.dtypes for data must be int, float, bool or category",
        "a column holds text (object dtype) where the model expects numbers or a pandas category",
    ),
    (
        r"feature names (?:should match|unseen|must be in the same order)",
        "the column names or their order differ from the ones the step was fitted on",
    ),
    (
        r"not supported between instances of '(\w+)' and '(\w+)'",
        "values of mixed types ({0} and {1}) in one column: text where numbers are expected, or the reverse",
    ),
    (r"KeyError: (.*)", "the step looks for a column that the input lacks: {0}"),
)


def raw_message(exc: BaseException, most: int = 300) -> str:
    """ "ExceptionType: message" on one line, cut at `most` characters."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:most]


def plain_words(message: str) -> str:
    """What an exception's "Type: message" means, or "" when the message is not one we know."""
    for pattern, words in PLAIN:
        m = re.search(pattern, message, re.IGNORECASE)
        if m:
            return words.format(*(g.strip() for g in m.groups()))
    return ""


def describe(exc: BaseException) -> str:
    """The plain words (when known), then the exception's own message."""
    raw = raw_message(exc)
    words = plain_words(raw)
    return f"{words} ({raw})" if words else raw
