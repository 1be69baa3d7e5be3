# %% [markdown]
# # A convolutional network on handwritten digits, Lasagne style
#
# Lasagne code ports to graphc by changing three imports. We stack layers
# (convolution, pooling, dense, dropout), ask the network for its symbolic
# output, write the loss with `lasagne.objectives`, get Adam's updates from
# `lasagne.updates`, and compile a training function and an evaluation
# function. Run it as a script (`python tutorials/convnet.py`) or open it as a
# notebook (cells are marked with `# %%`).

# %%
import time

import numpy as np

import graphc as theano
import graphc.tensor as T
import graphc.nn as lasagne
from graphc.datasets import iterate_minibatches, load_digits

# %% [markdown]
# ## Data
# The 1797 scikit-learn digits, resampled to 16x16 and kept as images of shape
# (N, 1, 16, 16): one channel, as a convolution expects (batch, channels, rows,
# cols). The split is 60/20/20 into train, valid and test.

# %%
IMAGE_SIZE = 16
(X_train, y_train), (X_valid, y_valid), (X_test, y_test) = load_digits(
    image_size=IMAGE_SIZE, flatten=False)
print(f"train {X_train.shape}, valid {X_valid.shape}, test {X_test.shape}")

# %% [markdown]
# ## The network
# Each layer takes the layer below it. Shapes are propagated as the network is
# built, so every layer knows its output shape before anything is compiled
# (`None` is the batch size, known only when called). The parameters are
# shared variables initialised by `lasagne.init` (Glorot uniform by default);
# seeding `lasagne.random` makes the initialisation and the dropout masks
# reproducible.

# %%
lasagne.random.set_rng(np.random.RandomState(0))

network = lasagne.layers.InputLayer((None, 1, IMAGE_SIZE, IMAGE_SIZE))
network = lasagne.layers.Conv2DLayer(network, num_filters=16, filter_size=3, pad="same")
network = lasagne.layers.MaxPool2DLayer(network, pool_size=2)
network = lasagne.layers.Conv2DLayer(network, num_filters=32, filter_size=3, pad="same")
network = lasagne.layers.MaxPool2DLayer(network, pool_size=2)
network = lasagne.layers.DenseLayer(lasagne.layers.dropout(network, p=0.25), num_units=64)
network = lasagne.layers.DenseLayer(lasagne.layers.dropout(network, p=0.5), num_units=10,
                                    nonlinearity=lasagne.nonlinearities.softmax)

for layer in lasagne.layers.get_all_layers(network):
    print(f"{type(layer).__name__:15s} {layer.output_shape}")
print(f"{lasagne.layers.count_params(network)} parameters")

# %% [markdown]
# ## Loss, updates and compiled functions
# `get_output` builds the expression of the whole network. The training output
# applies dropout; the deterministic one (for evaluation) does not. The loss is
# the mean cross-entropy plus a small L2 penalty on the weights (the
# regularizable parameters: not the biases). `adam` returns an ordered dict of
# updates, one for each parameter and for each of its moment estimates.

# %%
input_var = lasagne.layers.get_all_layers(network)[0].input_var
target_var = T.ivector("targets")

prediction = lasagne.layers.get_output(network)
loss = lasagne.objectives.categorical_crossentropy(prediction, target_var).mean()
loss = loss + 1e-4 * lasagne.regularization.regularize_network_params(
    network, lasagne.regularization.l2)
params = lasagne.layers.get_all_params(network, trainable=True)
updates = lasagne.updates.adam(loss, params, learning_rate=0.003)

test_prediction = lasagne.layers.get_output(network, deterministic=True)
test_loss = lasagne.objectives.categorical_crossentropy(test_prediction, target_var).mean()
test_acc = lasagne.objectives.categorical_accuracy(test_prediction, target_var).mean()

start = time.perf_counter()
train_fn = theano.function([input_var, target_var], loss, updates=updates)
val_fn = theano.function([input_var, target_var], [test_loss, test_acc])
print(f"compiled in {time.perf_counter() - start:.2f} s")

# %% [markdown]
# ## Training
# Minibatches of 32 in a fresh order every epoch; the validation split tells us
# how training goes without touching the test split.

# %%
rng = np.random.default_rng(0)
start = time.perf_counter()
for epoch in range(1, 16):
    losses = [train_fn(xb, yb) for xb, yb in iterate_minibatches(X_train, y_train, 32,
                                                                 rng=rng)]
    if epoch % 3 == 0 or epoch == 1:
        valid_loss, valid_acc = val_fn(X_valid, y_valid)
        print(f"epoch {epoch:2d}  train loss {np.mean(losses):.4f}  "
              f"valid loss {valid_loss:.4f}  valid accuracy {100 * valid_acc:.2f}%  "
              f"({time.perf_counter() - start:.1f} s)")

test_loss_value, test_accuracy = val_fn(X_test, y_test)
print(f"final test accuracy: {100 * test_accuracy:.2f}%")

# %% [markdown]
# ## Saving and restoring the parameters
# `get_all_param_values` gives the parameters as NumPy arrays (in a fixed
# order) that can be saved with `np.savez`; `set_all_param_values` puts them
# back into a network of the same architecture.

# %%
values = lasagne.layers.get_all_param_values(network)
lasagne.layers.set_all_param_values(network, values)
print(f"{len(values)} parameter arrays, shapes {[v.shape for v in values]}")
