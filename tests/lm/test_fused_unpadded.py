"""The fused runner's unpacked path (a batch without padding, as every LM chunk is) against the
plain reference loop and against the packed path, values and gradients, in float64."""

import pytest
import torch

from firth.rnn.runner import RNN


@pytest.mark.parametrize("cell", ["lstm", "gru", "srnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_unpadded_fused_equals_plain_and_packed(cell, bidirectional):
    torch.manual_seed(0)
    rnn = RNN(cell, 5, 7, num_layers=2, bidirectional=bidirectional).double()
    B, T = 3, 6
    x = torch.randn(B, T, 5, dtype=torch.double, requires_grad=True)
    s0 = torch.randn(len(rnn.cells), B, rnn.state_size, dtype=torch.double)
    results = {}
    for path in ("plain", "fused"):
        rnn.zero_grad()
        x.grad = None
        y, s_n = rnn(x, s0=s0, path=path)  # no lengths: every sequence is T long, nothing packed
        (y.square().sum() + s_n.sin().sum()).backward()
        results[path] = (y.detach(), s_n.detach(), x.grad.clone(), [p.grad.clone() for p in rnn.parameters()])
    for a, b in zip(results["plain"][:3], results["fused"][:3]):
        assert torch.allclose(a, b, atol=1e-12, rtol=0)
    for ga, gb in zip(results["plain"][3], results["fused"][3]):
        assert torch.allclose(ga, gb, atol=1e-12, rtol=0)
    # the packed path: one more, shorter sequence in the batch forces packing; the first B agree
    x2 = torch.cat([x.detach(), torch.randn(1, T, 5, dtype=torch.double)])
    s02 = torch.cat([s0, torch.randn(len(rnn.cells), 1, rnn.state_size, dtype=torch.double)], dim=1)
    with torch.no_grad():
        y2, s2 = rnn(x2, torch.tensor([T] * B + [2]), s0=s02, path="fused")
    assert torch.allclose(y2[:B], results["fused"][0], atol=1e-12, rtol=0)
    assert torch.allclose(s2[:, :B], results["fused"][1], atol=1e-12, rtol=0)
