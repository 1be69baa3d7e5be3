import numpy as np

import graphc
import graphc.tensor as T
from conftest import assert_close


def test_logistic_regression_graph_matches_numpy(backend, rng):
    x = T.matrix("x")
    y = T.ivector("y")
    w = graphc.shared(rng.normal(size=(5, 3)).astype("float32"), name="w")
    b = graphc.shared(np.zeros(3, dtype="float32"), name="b")
    p = T.nnet.softmax(T.dot(x, w) + b)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    f = graphc.function([x, y], [cost, T.argmax(p, axis=1)], backend=backend)
    xv = rng.normal(size=(4, 5)).astype("float32")
    yv = np.array([0, 1, 2, 1], dtype="int32")
    c, pred = f(xv, yv)
    logits = xv.astype("float64") @ w.get_value().astype("float64")
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert_close(c, -logp[np.arange(4), yv].mean(), "float32")
    np.testing.assert_array_equal(pred, logits.argmax(1))


def test_subpackages_are_attributes_of_graphc():
    # graphc.datasets.load_digits(...) after a plain `import graphc`, as API.md spells it
    # (imported at first use); an unknown attribute is still an AttributeError.
    import subprocess
    import sys
    code = ("import graphc, sys; assert 'graphc.nn' not in sys.modules; "
            "print(graphc.datasets.iterate_minibatches.__name__, graphc.nn.layers.InputLayer"
            ".__name__, graphc.sandbox.__name__); graphc.no_such_thing")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["iterate_minibatches", "InputLayer", "graphc.sandbox"]
    assert "AttributeError: module 'graphc' has no attribute 'no_such_thing'" in out.stderr
