"""Compile figures shared by the benchmarks: each compile in a new process, best of a few.

One compile is one sample, and this machine's neighbours move a single one by up to
30%, so each figure is the best of ``repeats``.
"""
import tempfile


def best_compile_seconds(measure, repeats):
    """``(cold, cold after import, cached, cached after import)`` in seconds.

    ``measure(compiledir, backend_imported)`` compiles in a new process using
    ``compiledir`` (empty: a graph not seen before; used again: the disk cache),
    with the backend imported before the clock starts when ``backend_imported``.
    """
    cold, cold_imported, cached, imported = [], [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as compiledir:
            cold.append(measure(compiledir, False))
            cached.append(measure(compiledir, False))
            imported.append(measure(compiledir, True))
        with tempfile.TemporaryDirectory() as compiledir:
            cold_imported.append(measure(compiledir, True))
    return min(cold), min(cold_imported), min(cached), min(imported)


def describe(figures):
    """The four figures of :func:`best_compile_seconds` as one sentence's end."""
    cold, cold_imported, cached, imported = figures
    return (f"{cold:.2f} s for a graph not seen before ({cold_imported:.2f} s of it after "
            f"the backend's import), {cached:.2f} s from the disk cache ({imported:.2f} s "
            "of it after the backend's import)")
