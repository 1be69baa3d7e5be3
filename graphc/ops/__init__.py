"""What each operation is: type rule, NumPy reference, gradient rule.

One module per op family. Nothing here imports numba or pycuda: an op says what
it computes, a backend says how.
"""
