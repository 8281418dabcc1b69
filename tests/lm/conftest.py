"""One torch thread for the rnn tests: the tensors are tiny, and on a shared 2-core machine
torch's default of one thread per core makes OpenMP spin against other jobs (10x slower)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
