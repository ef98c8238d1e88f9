"""Statistics over counts: pure functions and small result objects (numpy/scipy only).

Nothing here knows about plans, features or storage; the monitor, the controller and
the readiness check call these with counts.
"""
