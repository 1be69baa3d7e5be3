# %% [markdown]
# # Logistic regression on handwritten digits
#
# The classic Theano tutorial, ported by changing the imports: we declare
# symbolic inputs, write the model and its cost as expressions, let graphc derive
# the gradient, and compile one training function whose `updates` move the
# parameters. Run it as a script (`python tutorials/logistic_regression.py`) or
# open it as a notebook (cells are marked with `# %%`).

# %%
import time

import numpy as np

import graphc as theano
import graphc.tensor as T
from graphc.datasets import iterate_minibatches, load_digits

# %% [markdown]
# ## Data
# 1797 digits of 8x8 pixels in [0, 1], split 60/20/20 into train, valid and test.

# %%
(X_train, y_train), (X_valid, y_valid), (X_test, y_test) = load_digits()
n_in, n_out = X_train.shape[1], 10
print(f"train {X_train.shape}, valid {X_valid.shape}, test {X_test.shape}")

# %% [markdown]
# ## Model
# `p(y | x) = softmax(x W + b)`. The parameters are shared variables: their values
# live between calls of the compiled functions.

# %%
x = T.matrix("x")
y = T.ivector("y")
W = theano.shared(np.zeros((n_in, n_out), dtype="float32"), name="W")
b = theano.shared(np.zeros(n_out, dtype="float32"), name="b")

p_y_given_x = T.nnet.softmax(T.dot(x, W) + b)
y_pred = T.argmax(p_y_given_x, axis=1)

# The negative log-likelihood, written as in the Theano tutorial. graphc
# recognises log(softmax(...))[arange(n), y] and computes it (and its gradient)
# with a stable fused softmax cross-entropy.
nll = -T.mean(T.log(p_y_given_x)[T.arange(y.shape[0]), y])
l2 = (W ** 2).sum()
cost = nll + 1e-4 * l2
errors = T.mean(T.neq(y_pred, y))

# %% [markdown]
# ## Gradient and training function
# `T.grad` builds the gradient graph; `updates` write the new parameter values
# after each call, all together.

# %%
g_W, g_b = T.grad(cost, [W, b])
learning_rate = 0.5
start = time.perf_counter()
train = theano.function([x, y], cost,
                        updates=[(W, W - learning_rate * g_W), (b, b - learning_rate * g_b)])
evaluate = theano.function([x, y], errors)
print(f"compiled in {time.perf_counter() - start:.2f} s")

# %% [markdown]
# ## Training

# %%
rng = np.random.default_rng(0)
for epoch in range(1, 31):
    losses = [train(xb, yb) for xb, yb in iterate_minibatches(X_train, y_train, 50, rng=rng)]
    if epoch % 5 == 0 or epoch == 1:
        valid_error = evaluate(X_valid, y_valid)
        print(f"epoch {epoch:2d}  train loss {np.mean(losses):.4f}  "
              f"valid error {100 * valid_error:.2f}%")

test_accuracy = 1.0 - evaluate(X_test, y_test)
print(f"final test accuracy: {100 * test_accuracy:.2f}%")

# %% [markdown]
# ## Looking at what was compiled
# `theano.debugprint(train)` prints the optimized graph, with the rewrite that
# made each node.
