"""Observability of every EAS process: Prometheus metrics, OpenTelemetry traces, JSON logs.

One module per concern (``metrics``, ``tracing``, ``logs``), imported where used: nothing is imported
here, so that a process that only counts (a worker) does not pay for the tracing SDK and the other
way round. The unit sits just above ``pii`` (it may mask what it records) and below everything that
reports through it.
"""
