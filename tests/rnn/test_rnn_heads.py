"""Heads and losses: padding cannot change pooled encodings, logits of real tokens, or losses."""

import pytest
import torch
import torch.nn.functional as F

from firth.errors import FirthError
from firth.rnn import RNN, AcceptorHead, RNNAcceptor, RNNTransducer, pool, sequence_loss, transducer_loss

LENGTHS = torch.tensor([5, 2, 4])


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def test_pool_mean_and_max_over_real_tokens():
    y = torch.randn(3, 5, 4, dtype=torch.float64)
    y_garbage = y.clone()
    for b, n in enumerate(LENGTHS.tolist()):
        y_garbage[b, n:] = 1e6
    for b, n in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(pool(y_garbage, LENGTHS, "mean")[b], y[b, :n].mean(0))
        torch.testing.assert_close(pool(y_garbage, LENGTHS, "max")[b], y[b, :n].max(0).values)
    with pytest.raises(FirthError, match="pooling 'sum'"):
        pool(y, LENGTHS, "sum")


def test_transducer_loss_ignores_padding_by_construction():
    logits = torch.randn(3, 5, 4, dtype=torch.float64)
    targets = torch.randint(0, 4, (3, 5))
    loss = transducer_loss(logits, targets, LENGTHS, reduction="sum")
    expected = sum(F.cross_entropy(logits[b, :n], targets[b, :n], reduction="sum") for b, n in enumerate(LENGTHS.tolist()))
    torch.testing.assert_close(loss, expected)
    mean = transducer_loss(logits, targets, LENGTHS)
    torch.testing.assert_close(mean, expected / LENGTHS.sum())
    # change logits and targets at padded positions (targets even out of range): same loss
    logits2, targets2 = logits.clone(), targets.clone()
    for b, n in enumerate(LENGTHS.tolist()):
        logits2[b, n:] = torch.randn_like(logits2[b, n:]) * 50
        targets2[b, n:] = -100 if b % 2 else 999
    torch.testing.assert_close(transducer_loss(logits2, targets2, LENGTHS, reduction="sum"), loss)


@pytest.mark.parametrize("pooling", ["final", "mean", "max"])
def test_acceptor_padding_changes_do_not_change_loss(pooling):
    rnn = RNN("lstm", 3, 4, num_layers=2, bidirectional=True).double()
    model = RNNAcceptor(rnn, num_classes=3, hidden=5, pooling=pooling).double().eval()
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    labels = torch.tensor([0, 2, 1])
    loss = sequence_loss(model(x, LENGTHS), labels)
    x2 = x.clone()
    for b, n in enumerate(LENGTHS.tolist()):
        x2[b, n:] = torch.randn_like(x2[b, n:]) * 10
    torch.testing.assert_close(sequence_loss(model(x2, LENGTHS), labels), loss)
    # and it equals classifying each sequence alone, unpadded
    alone = torch.cat([model(x[b : b + 1, :n]) for b, n in enumerate(LENGTHS.tolist())])
    torch.testing.assert_close(model(x, LENGTHS), alone)


def test_acceptor_final_is_both_directions_final_states():
    rnn = RNN("gru", 3, 4, bidirectional=True).double()
    model = RNNAcceptor(rnn, num_classes=2).double()
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    y, s_n = rnn(x, LENGTHS)
    enc = torch.stack([torch.cat([y[b, n - 1, :4], y[b, 0, 4:]]) for b, n in enumerate(LENGTHS.tolist())])
    torch.testing.assert_close(model(x, LENGTHS), model.head.mlp(enc))


def test_transducer_padding_changes_do_not_change_loss():
    rnn = RNN("lstm", 3, 4, num_layers=2, bidirectional=True).double()
    model = RNNTransducer(rnn, num_classes=4, hidden=6).double()
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    tags = torch.randint(0, 4, (3, 5))
    logits = model(x, LENGTHS)
    assert logits.shape == (3, 5, 4)
    loss = transducer_loss(logits, tags, LENGTHS)
    x2, tags2 = x.clone(), tags.clone()
    for b, n in enumerate(LENGTHS.tolist()):
        x2[b, n:] = 7.0
        tags2[b, n:] = 3
    torch.testing.assert_close(transducer_loss(model(x2, LENGTHS), tags2, LENGTHS), loss)
    # gradient reaches nothing through padded inputs
    x3 = x.clone().requires_grad_(True)
    transducer_loss(model(x3, LENGTHS), tags, LENGTHS).backward()
    for b, n in enumerate(LENGTHS.tolist()):
        assert float(x3.grad[b, n:].abs().sum()) == 0.0
        assert float(x3.grad[b, :n].abs().sum()) > 0.0


def test_loss_shape_errors():
    with pytest.raises(FirthError, match="transducer_loss"):
        transducer_loss(torch.randn(3, 5, 4), torch.zeros(3, 4, dtype=torch.long), LENGTHS)
    with pytest.raises(FirthError, match="sequence_loss"):
        sequence_loss(torch.randn(3, 4), torch.zeros(2, dtype=torch.long))
    with pytest.raises(FirthError, match="final output"):
        AcceptorHead(4, 2)(torch.randn(3, 5, 4), LENGTHS)
