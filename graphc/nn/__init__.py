"""``import graphc.nn as lasagne``: a Lasagne-compatible front end.

Layers, initializers, nonlinearities, objectives, regularizers and update rules
with Lasagne's names, arguments and formulas, built on the public graphc API
only (``graphc``, ``graphc.tensor``), so Lasagne code ports by changing its
imports.

Examples
--------
>>> import numpy as np
>>> import graphc as theano
>>> import graphc.tensor as T
>>> import graphc.nn as lasagne
>>> l_in = lasagne.layers.InputLayer((None, 4))
>>> l_out = lasagne.layers.DenseLayer(l_in, 3, nonlinearity=lasagne.nonlinearities.softmax)
>>> y = T.ivector("y")
>>> prediction = lasagne.layers.get_output(l_out)
>>> loss = lasagne.objectives.categorical_crossentropy(prediction, y).mean()
>>> params = lasagne.layers.get_all_params(l_out, trainable=True)
>>> updates = lasagne.updates.sgd(loss, params, learning_rate=0.1)
>>> train = theano.function([l_in.input_var, y], loss, updates=updates, backend="python")
>>> float(train(np.zeros((2, 4), "float32"), np.array([0, 1], "int32"))) > 0
True
"""
from graphc.nn import random  # noqa: F401  (before init and layers, which use it)
from graphc.nn import utils
from graphc.nn import nonlinearities
from graphc.nn import init
from graphc.nn import layers
from graphc.nn import objectives
from graphc.nn import regularization
from graphc.nn import updates

__all__ = ["layers", "nonlinearities", "init", "objectives", "regularization", "updates",
           "random", "utils"]
