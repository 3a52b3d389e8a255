"""Benchmarks: each module times corpact and a baseline over the same data in the same run."""
