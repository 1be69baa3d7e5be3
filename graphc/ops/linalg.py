"""Products: dot (1-D and 2-D, Theano/NumPy semantics), matmul, outer, tensordot,
batched_dot, and Gemm (``beta * z + alpha * dot(x, y)``, made by the specialize pass);
and the matrix functions of Theano's ``nlinalg``: MatrixInverse, Det, MatrixPinv.
"""
import numpy as np

from graphc.config import config
from graphc.errors import GraphcTypeError, GraphcValueError, ShapeError
from graphc.graph import Node, Op, TensorType
from graphc.ops import basic
from graphc.ops import elemwise as ew
from graphc.ops import reduction
from graphc.ops import shape as shape_ops


def _shape_text(var):
    return str(tuple("?" if s is None else s for s in var.type.shape))


def _check_inner(name, x, y, kx, ky):
    a, b = x.type.shape[kx], y.type.shape[ky]
    if a is not None and b is not None and a != b:
        raise ShapeError(f"{name}: shapes {_shape_text(x)} and {_shape_text(y)} are not "
                         f"aligned ({a} != {b})")


def _run_product(name, fn, x, y, dtype):
    """``fn(x, y)`` computed in ``dtype``; misaligned shapes raise a ShapeError."""
    try:
        product = fn(x.astype(dtype, copy=False), y.astype(dtype, copy=False))
    except ValueError:
        raise ShapeError(f"{name}: shapes {x.shape} and {y.shape} are not aligned") from None
    return np.asarray(product, dtype=dtype)


class Dot(Op):
    """``np.dot`` for operands of ndim 1 or 2 (vector-vector gives a scalar)."""

    def make_node(self, x, y):
        x, y = basic.as_operands(x, y)
        if not (1 <= x.ndim <= 2 and 1 <= y.ndim <= 2):
            raise GraphcTypeError(f"Dot takes 1-d or 2-d operands, got {x.type} and {y.type}")
        _check_inner("dot", x, y, x.ndim - 1, 0)
        shape = x.type.shape[:-1] + y.type.shape[1:]
        dtype = np.result_type(x.dtype, y.dtype).name
        return Node(self, [x, y], [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        x, y = inputs
        return [_run_product("dot", np.dot, x, y, node.outputs[0].dtype)]

    def infer_shape(self, node, input_shapes):
        x_shape, y_shape = input_shapes
        return [tuple(x_shape[:-1]) + tuple(y_shape[1:])]

    def grad(self, inputs, outputs, output_grads):
        (x, y), (gz,) = inputs, output_grads
        if x.ndim == 1 and y.ndim == 1:
            gx, gy = ew.mul(gz, y), ew.mul(gz, x)
        elif x.ndim == 1:          # (k,) . (k, n) -> (n,)
            gx, gy = dot(y, gz), outer(x, gz)
        elif y.ndim == 1:          # (m, k) . (k,) -> (m,)
            gx, gy = outer(gz, y), dot(transpose(x), gz)
        else:                      # (m, k) . (k, n) -> (m, n)
            gx, gy = dot(gz, transpose(y)), dot(transpose(x), gz)
        return [_float_grad(gx, x), _float_grad(gy, y)]


def _float_grad(g, x):
    if np.dtype(x.dtype).kind != "f":
        return None
    return ew.cast(g, x.dtype)


def transpose(x, axes=None):
    """NumPy's transpose: ``axes`` a permutation of the axes (negative ones count
    from the end), reversed by default."""
    x = basic.as_variable(x)
    if axes is None:
        return shape_ops.dimshuffle(x, list(reversed(range(x.ndim))))
    axes = [int(a) + x.ndim if int(a) < 0 else int(a) for a in axes]
    if sorted(axes) != list(range(x.ndim)):
        raise GraphcValueError(f"transpose: axes {axes} are not a permutation of the "
                               f"{x.ndim} axes of {x.type}")
    return shape_ops.dimshuffle(x, axes)


class Matmul(Op):
    """``np.matmul`` for operands of ndim >= 2 with equal ndim (batch axes broadcast)."""

    def make_node(self, x, y):
        x, y = basic.as_operands(x, y)
        if x.ndim < 2 or x.ndim != y.ndim:
            raise GraphcTypeError(f"Matmul takes operands of equal ndim >= 2, got {x.type} "
                                  f"and {y.type} (use graphc.tensor.matmul)")
        _check_inner("matmul", x, y, -1, -2)
        batch = ew.broadcast_static([x.type.shape[:-2], y.type.shape[:-2]], "matmul")
        shape = batch + (x.type.shape[-2], y.type.shape[-1])
        dtype = np.result_type(x.dtype, y.dtype).name
        return Node(self, [x, y], [TensorType(dtype, shape)])

    def perform(self, node, inputs):
        x, y = inputs
        return [_run_product("matmul", np.matmul, x, y, node.outputs[0].dtype)]

    def grad(self, inputs, outputs, output_grads):
        (x, y), (gz,) = inputs, output_grads
        swap = list(range(x.ndim - 2)) + [x.ndim - 1, x.ndim - 2]
        gx = Matmul()(gz, shape_ops.dimshuffle(y, swap))
        gy = Matmul()(shape_ops.dimshuffle(x, swap), gz)
        gx = reduction.sum_to_shape_of(gx, x)
        gy = reduction.sum_to_shape_of(gy, y)
        return [_float_grad(gx, x), _float_grad(gy, y)]


def dot(x, y):
    """Theano's ``dot``: matrix/vector products; N-d operands as ``np.dot``."""
    x, y = basic.as_operands(x, y)
    if x.ndim == 0 or y.ndim == 0:
        return ew.mul(x, y)
    if x.ndim <= 2 and y.ndim <= 2:
        return Dot()(x, y)
    return tensordot(x, y, [[x.ndim - 1], [max(y.ndim - 2, 0)]])


def matmul(x, y):
    """``np.matmul`` semantics, 1-d operands included."""
    x, y = basic.as_operands(x, y)
    if x.ndim == 0 or y.ndim == 0:
        raise GraphcTypeError("matmul: scalar operands are not allowed (use *)")
    if x.ndim <= 2 and y.ndim <= 2:
        return Dot()(x, y)
    x2 = shape_ops.dimshuffle(x, ["x", 0]) if x.ndim == 1 else x
    y2 = shape_ops.dimshuffle(y, [0, "x"]) if y.ndim == 1 else y
    ndim = max(x2.ndim, y2.ndim)
    x3, y3 = (shape_ops.dimshuffle(v, ["x"] * (ndim - v.ndim) + list(range(v.ndim)))
              for v in (x2, y2))
    result = Matmul()(x3, y3)
    if x.ndim == 1:
        result = shape_ops.dimshuffle(result, list(range(ndim - 2)) + [ndim - 1])
    if y.ndim == 1:
        result = shape_ops.dimshuffle(result, list(range(result.ndim - 1)))
    return result


def outer(x, y):
    x, y = basic.as_operands(x, y)
    return ew.mul(shape_ops.dimshuffle(shape_ops.flatten(x), [0, "x"]),
                  shape_ops.dimshuffle(shape_ops.flatten(y), ["x", 0]))


def tensordot(a, b, axes=2):
    """``np.tensordot``: contract ``axes`` of ``a`` with ``axes`` of ``b``."""
    a, b = basic.as_operands(a, b)
    if isinstance(axes, (int, np.integer)):
        a_axes = list(range(a.ndim - axes, a.ndim))
        b_axes = list(range(axes))
    else:
        a_axes, b_axes = ([axes_i] if isinstance(axes_i, (int, np.integer)) else list(axes_i)
                          for axes_i in axes)
    if isinstance(axes, (int, np.integer)) and not 0 <= axes <= min(a.ndim, b.ndim):
        raise GraphcValueError(f"tensordot: cannot contract {axes} axes of tensors of "
                               f"{a.ndim} and {b.ndim} axes")
    a_axes = [basic.axis_index(x, a.ndim, "tensordot") for x in a_axes]
    b_axes = [basic.axis_index(x, b.ndim, "tensordot") for x in b_axes]
    if len(set(a_axes)) != len(a_axes) or len(set(b_axes)) != len(b_axes):
        raise GraphcValueError(f"tensordot: an axis is repeated in {a_axes} or {b_axes}")
    if len(a_axes) != len(b_axes):
        raise GraphcTypeError(f"tensordot: axes {a_axes} and {b_axes} differ in length")
    for i, j in zip(a_axes, b_axes):
        _check_inner("tensordot", a, b, i, j)
    a_free = [i for i in range(a.ndim) if i not in a_axes]
    b_free = [i for i in range(b.ndim) if i not in b_axes]
    a_dims, b_dims = shape_ops.shape_list(a), shape_ops.shape_list(b)
    # Move contracted axes together and flatten to one matrix product.
    a2 = shape_ops.reshape(shape_ops.dimshuffle(a, a_free + a_axes), [_prod(a_dims, a_free),
                                                                      _prod(a_dims, a_axes)])
    b2 = shape_ops.reshape(shape_ops.dimshuffle(b, b_axes + b_free), [_prod(b_dims, b_axes),
                                                                      _prod(b_dims, b_free)])
    out = Dot()(a2, b2)
    return shape_ops.reshape(out, [a_dims[i] for i in a_free] + [b_dims[i] for i in b_free])


def _prod(dims, axes):
    return shape_ops.product([dims[i] for i in axes])


def batched_dot(x, y):
    """Per-row product: ``z[i] = dot(x[i], y[i])`` for 2-d and 3-d operands."""
    x, y = basic.as_operands(x, y)
    if x.ndim == 2 and y.ndim == 2:
        return reduction.sum(ew.mul(x, y), axis=1)
    x3 = shape_ops.dimshuffle(x, [0, "x", 1]) if x.ndim == 2 else x
    y3 = shape_ops.dimshuffle(y, [0, 1, "x"]) if y.ndim == 2 else y
    result = Matmul()(x3, y3)
    if x.ndim == 2:
        result = shape_ops.dimshuffle(result, [0, 2])
    if y.ndim == 2:
        result = shape_ops.dimshuffle(result, list(range(result.ndim - 1)))
    return result


class Gemm(Op):
    """``beta * z + alpha * dot(x, y)`` for matrices (made by the specialize pass)."""

    __props__ = ("alpha", "beta")

    def __init__(self, alpha=1.0, beta=1.0):
        self.alpha = float(alpha)
        self.beta = float(beta)

    def make_node(self, z, x, y):
        dot_type = Dot().make_node(x, y).outputs[0].type
        shape = ew.broadcast_static([z.type.shape, dot_type.shape], "gemm")
        dtype = np.result_type(z.dtype, dot_type.dtype).name
        return Node(self, [z, x, y], [TensorType(dtype, shape)])

    def infer_shape(self, node, input_shapes):
        z_shape, x_shape, y_shape = input_shapes
        return [shape_ops.broadcast_shapes_symbolic([z_shape, (x_shape[0], y_shape[1])])]

    def perform(self, node, inputs):
        z, x, y = inputs
        dtype = node.outputs[0].dtype
        product = _run_product("gemm", np.dot, x, y, dtype)
        try:
            np.broadcast_shapes(z.shape, product.shape)
        except ValueError:
            raise ShapeError(f"{self} (the sum of a matrix product and a term): shapes "
                             f"{z.shape} and {product.shape} (dot of {x.shape} and "
                             f"{y.shape}) cannot be broadcast") from None
        return [np.asarray(self.beta * z + self.alpha * product, dtype=dtype)]


# ------------------------------------------------------------ matrix functions
def _float_matrix(op, x):
    """``x`` as a float matrix (integers become ``config.floatX``, as ``/`` does)."""
    x = basic.as_variable(x)
    if x.ndim != 2:
        raise GraphcTypeError(f"{op}: expects a matrix, got {x.type}")
    if np.dtype(x.dtype).kind != "f":
        x = ew.cast(x, config.floatX)
    return x


def _square(op, x):
    """The static side of a square matrix ``x`` (None if unknown); a ShapeError if not square."""
    rows, cols = x.type.shape
    if rows is not None and cols is not None and rows != cols:
        raise ShapeError(f"{op}: expects a square matrix, got shape {_shape_text(x)}")
    return rows if rows is not None else cols


def _check_square_value(op, x):
    if x.shape[0] != x.shape[1]:
        raise ShapeError(f"{op}: expects a square matrix, got shape {x.shape}")


class MatrixInverse(Op):
    """``np.linalg.inv`` of a square float matrix; a singular one raises a GraphcValueError.

    Gradient: ``d inv(X) = -inv(X) dX inv(X)``, so ``grad_X = -inv(X)^T G inv(X)^T``.
    """

    def make_node(self, x):
        x = _float_matrix(self, x)
        n = _square(self, x)
        return Node(self, [x], [TensorType(x.dtype, (n, n))])

    def perform(self, node, inputs):
        (x,) = inputs
        _check_square_value(self, x)
        try:
            return [np.linalg.inv(x).astype(x.dtype, copy=False)]
        except np.linalg.LinAlgError:
            raise GraphcValueError(f"{self}: the matrix of shape {x.shape} is singular") from None

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, outputs, output_grads):
        (z,), (gz,) = outputs, output_grads
        zt = transpose(z)
        return [ew.neg(dot(dot(zt, gz), zt))]


class Det(Op):
    """``np.linalg.det`` of a square float matrix: a scalar.

    Gradient: ``d det(X) = det(X) tr(inv(X) dX)``, so ``grad_X = g det(X) inv(X)^T``.
    """

    def make_node(self, x):
        x = _float_matrix(self, x)
        _square(self, x)
        return Node(self, [x], [TensorType(x.dtype, ())])

    def perform(self, node, inputs):
        (x,) = inputs
        _check_square_value(self, x)
        return [np.asarray(np.linalg.det(x), dtype=x.dtype)]

    def infer_shape(self, node, input_shapes):
        return [()]

    def grad(self, inputs, outputs, output_grads):
        (x,), (z,), (gz,) = inputs, outputs, output_grads
        return [ew.mul(ew.mul(gz, z), transpose(MatrixInverse()(x)))]


class MatrixPinv(Op):
    """``np.linalg.pinv``: the Moore-Penrose pseudo-inverse, of shape (n, m) for (m, n).

    Gradient (where the rank is constant; Golub and Pereyra), with ``Z = pinv(A)``:
    ``-Z^T G Z^T + (I - A Z) G^T Z Z^T + Z^T Z G^T (I - Z A)``.
    """

    def make_node(self, x):
        x = _float_matrix(self, x)
        rows, cols = x.type.shape
        return Node(self, [x], [TensorType(x.dtype, (cols, rows))])

    def perform(self, node, inputs):
        (x,) = inputs
        return [np.linalg.pinv(x).astype(x.dtype, copy=False)]

    def infer_shape(self, node, input_shapes):
        rows, cols = input_shapes[0]
        return [(cols, rows)]

    def grad(self, inputs, outputs, output_grads):
        (a,), (z,), (g,) = inputs, outputs, output_grads
        zt, gt = transpose(z), transpose(g)
        first = ew.neg(dot(dot(zt, g), zt))
        # (I - A Z) G^T Z Z^T and Z^T Z G^T (I - Z A), without building identities.
        gzz = dot(dot(gt, z), zt)
        zzg = dot(dot(zt, z), gt)
        second = ew.sub(gzz, dot(dot(a, z), gzz))
        third = ew.sub(zzg, dot(dot(zzg, z), a))
        return [ew.add(ew.add(first, second), third)]


def matrix_inverse(x):
    """The inverse of the square matrix ``x`` (Theano's ``nlinalg.matrix_inverse``).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.nlinalg import matrix_inverse
    >>> x = T.dmatrix("x")
    >>> graphc.function([x], matrix_inverse(x), backend="python")(np.diag([2.0, 4.0]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return MatrixInverse()(x)


def det(x):
    """The determinant of the square matrix ``x``: a scalar.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.nlinalg import det
    >>> x = T.dmatrix("x")
    >>> float(graphc.function([x], det(x), backend="python")([[1.0, 2.0], [3.0, 4.0]]))
    -2.0000000000000004
    """
    return Det()(x)


def pinv(x):
    """The Moore-Penrose pseudo-inverse of the matrix ``x`` (shape (n, m) for (m, n)).

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.nlinalg import pinv
    >>> x = T.dmatrix("x")
    >>> graphc.function([x], pinv(x), backend="python")([[2.0], [0.0]])
    array([[0.5, 0. ]])
    """
    return MatrixPinv()(x)


def matrix_dot(*args):
    """``dot(dot(args[0], args[1]), ...)``: the product of several matrices, left to right.

    Examples
    --------
    >>> import numpy as np, graphc, graphc.tensor as T
    >>> from graphc.tensor.nlinalg import matrix_dot
    >>> a, b, c = T.dmatrices("a", "b", "c")
    >>> f = graphc.function([a, b, c], matrix_dot(a, b, c), backend="python")
    >>> f(np.eye(2), 2 * np.eye(2), [[1.0, 2.0], [3.0, 4.0]])
    array([[2., 4.],
           [6., 8.]])
    """
    if not args:
        raise GraphcTypeError("matrix_dot: needs at least one matrix")
    result = basic.as_variable(args[0])
    for arg in args[1:]:
        result = dot(result, arg)
    return result
