"""firth: word embeddings and recurrent networks.

"You shall know a word by the company it keeps" (J. R. Firth, 1957).

Importing ``firth`` is cheap: it never imports torch. Heavy submodules are imported
where they are used.
"""

__version__ = "0.1.0"


def __getattr__(name):  # lazy top-level API, so `import firth` stays light
    if name == "KeyedVectors":
        from firth.vectors import KeyedVectors

        return KeyedVectors
    if name == "load_vectors":
        from firth.vectors import load_vectors

        return load_vectors
    raise AttributeError(f"module 'firth' has no attribute {name!r}")
