"""One exception type for problems the user can fix.

The CLI prints a FirthError as a single line (``firth: error: ...``) and exits non-zero,
without a traceback (``--debug`` shows one). Messages name the file / word / option at
fault and say what to do.
"""


class FirthError(Exception):
    """A problem with the user's input or options, reported as one clear line."""


class UnknownWordError(FirthError, KeyError):
    """A word is not in the vocabulary. Subclasses KeyError so ``dict``-style code works."""

    def __init__(self, word, suggestions=()):
        self.word = word
        self.suggestions = list(suggestions)
        msg = f"word {word!r} is not in the vocabulary"
        if self.suggestions:
            msg += "; did you mean: " + ", ".join(self.suggestions) + "?"
        super().__init__(msg)

    def __str__(self):  # KeyError would repr() the message
        return self.args[0]


def check(condition, message):
    """Raise FirthError(message) unless condition holds (for option validation)."""
    if not condition:
        raise FirthError(message)


def check_version(where, version, newest: int, corrupt: str) -> int:
    """A saved file's format version: an int (``corrupt`` says what it means when it is not)
    no newer than ``newest``, the version this firth writes; newer files ask for an upgrade."""
    if not isinstance(version, int) or isinstance(version, bool):
        raise FirthError(f"{where}: format version {version!r} is not a number; {corrupt}")
    if version > newest:
        raise FirthError(f"{where}: written by a newer firth (format version {version}); upgrade firth")
    return version
