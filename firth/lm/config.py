"""``LMConfig``: every option of a language model and its training, each default in one place.

The CLI builds its options from these fields (``firth lm train --help`` shows the same
defaults), the saved model stores ``to_dict()``, and :meth:`LMConfig.from_dict` validates a
stored one before anything is built from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from firth.errors import FirthError

__all__ = ["LMConfig", "CELLS", "OPTIMIZERS"]

CELLS = ("lstm", "gru", "srnn", "slstm", "mlstm")
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class LMConfig:
    """A word-level RNN language model (Zaremba et al. 2014 style) and how it is trained.

    Model: embedding (``emb``) → ``layers`` recurrent layers of ``hidden`` units (``cell``) →
    softmax over the vocabulary (full, or adaptive with ``adaptive_softmax`` cutoffs).
    ``dropout`` on the embedding output, between layers and before the softmax (never on
    the recurrent connections). ``tied``: the softmax reuses the input embedding matrix
    (Press & Wolf 2017; needs ``emb == hidden``). ``heads``: for the xLSTM cells.

    Training: truncated BPTT over ``bptt`` steps on ``batch`` parallel streams, the state
    carried (detached) from one chunk to the next; gradients clipped to norm ``clip``;
    ``optimizer`` sgd (the PTB recipe) or adam at ``lr``; the learning rate divided by
    ``lr_decay`` whenever validation perplexity does not improve (checked every
    ``valid_every`` training tokens, 0 = once per epoch); ``epochs`` passes or
    ``time_budget`` minutes or ``token_budget`` training tokens, whichever ends first.
    """

    cell: str = "lstm"
    layers: int = 2
    hidden: int = 200
    emb: int = 200
    dropout: float = 0.2
    tied: bool = False
    heads: int = 4
    adaptive_softmax: tuple = ()
    bptt: int = 35
    batch: int = 20
    epochs: int = 6
    # The PTB recipe (SGD at 20, clip 0.25, ÷4 on a plateau) for lstm/gru/srnn; the xLSTM
    # cells' exponential gates diverge at that rate, pass --optimizer adam --lr 2e-3 for them.
    optimizer: str = "sgd"
    lr: float = 20.0
    clip: float = 0.25
    lr_decay: float = 4.0
    valid_every: int = 0
    time_budget: float = 0.0
    token_budget: int = 0
    eval_batch: int = 10
    seed: int = 1
    workers: int = 1

    def __post_init__(self):
        object.__setattr__(self, "adaptive_softmax", tuple(self.adaptive_softmax))
        self.validate()

    def validate(self) -> None:
        def need(ok, msg):
            if not ok:
                raise FirthError(msg)

        need(self.cell in CELLS, f"--cell {self.cell!r}: use one of {', '.join(CELLS)}")
        need(self.optimizer in OPTIMIZERS, f"--optimizer {self.optimizer!r}: use sgd or adam")
        for name in ("layers", "hidden", "emb", "heads", "bptt", "batch", "epochs", "eval_batch", "workers"):
            v = getattr(self, name)
            need(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1_000_000,
                 f"--{name.replace('_', '-')} {v!r}: must be a whole number ≥ 1")
        need(0.0 <= self.dropout < 1.0, f"--dropout {self.dropout}: must be in [0, 1)")
        need(self.lr > 0 and self.clip > 0, f"--lr {self.lr} / --clip {self.clip}: must be positive")
        need(self.lr_decay >= 1.0, f"--lr-decay {self.lr_decay}: must be ≥ 1 (1: never decay)")
        need(isinstance(self.valid_every, int) and self.valid_every >= 0, f"--valid-every {self.valid_every}: must be ≥ 0")
        need(self.time_budget >= 0, f"--time-budget {self.time_budget}: must be ≥ 0 minutes (0: no limit)")
        need(isinstance(self.token_budget, int) and not isinstance(self.token_budget, bool) and self.token_budget >= 0,
             f"--token-budget {self.token_budget!r}: must be a whole number ≥ 0 (0: no limit)")
        need(isinstance(self.seed, int), f"--seed {self.seed!r}: must be a whole number")
        if self.tied:
            need(self.emb == self.hidden, f"--tied: the embedding size ({self.emb}) must equal --hidden ({self.hidden})")
            need(not self.adaptive_softmax, "--tied cannot be combined with --adaptive-softmax; drop one")
        if self.cell in ("slstm", "mlstm"):
            need(self.hidden % self.heads == 0, f"--heads {self.heads}: must divide --hidden {self.hidden}")
        cut = self.adaptive_softmax
        need(all(isinstance(c, int) and c > 0 for c in cut) and list(cut) == sorted(set(cut)),
             f"--adaptive-softmax {','.join(map(str, cut))}: cutoffs must be increasing positive integers")

    def replace(self, **changes) -> "LMConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["adaptive_softmax"] = list(self.adaptive_softmax)
        return d

    @classmethod
    def from_dict(cls, d, where: str = "config") -> "LMConfig":
        if not isinstance(d, dict):
            raise FirthError(f"{where}: the language-model config must be a JSON object")
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(d) - set(names)
        if unknown:
            raise FirthError(f"{where}: unknown language-model option(s) {sorted(unknown)}; saved by another firth?")
        for k, v in d.items():
            want = type(getattr(cls, k)) if k != "adaptive_softmax" else (list, tuple)
            if want is float and isinstance(v, int) and not isinstance(v, bool):
                continue
            if not isinstance(v, want) or (want is int and isinstance(v, bool)):
                raise FirthError(f"{where}: option {k!r} has the wrong type ({type(v).__name__}); the model is damaged")
        try:
            return cls(**d)
        except FirthError as e:
            raise FirthError(f"{where}: {e}") from None


# the CLI's help strings, next to the fields they describe
HELP = dict(
    cell="recurrent cell", layers="stacked recurrent layers", hidden="units per layer",
    emb="word embedding size (with --vectors: must equal their dimension)",
    dropout="dropout on embeddings, between layers and before the softmax (Zaremba et al. 2014)",
    tied="tie input and output embeddings (needs --emb == --hidden)",
    heads="heads of the xLSTM cells (block-diagonal sLSTM recurrence, one mLSTM memory each)",
    adaptive_softmax="adaptive softmax cutoffs, e.g. 2000,10000 (Grave et al. 2017; empty: full softmax)",
    bptt="truncated back-propagation length (tokens per chunk)", batch="parallel training streams",
    epochs="maximum passes over the training text", optimizer="sgd or adam",
    lr="initial learning rate", clip="gradient norm clipping",
    lr_decay="divide the learning rate by this when validation perplexity does not improve",
    valid_every="validate every this many training tokens (0: once per epoch)",
    time_budget="stop training after this many minutes (0: no limit); the best model so far is kept",
    token_budget="stop training after this many training tokens (0: no limit); the best model so far is kept",
    eval_batch="parallel streams when evaluating", seed="random seed (initialisation, dropout, sampling)",
    workers="torch threads",
)
