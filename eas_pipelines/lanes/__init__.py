"""The fast lane's queue library: a Redis priority queue, worker heartbeats, the stranded-request pass.

See ARCHITECTURE.md, "A request's life", step 4. :mod:`.fast_queue` is the queue (Redis Streams with
consumer groups: at-least-once delivery, acknowledgement, reclaim of a dead worker's work),
:mod:`.heartbeat` says which workers are alive (the standard-lane sensor falls back to Dagster's
own queue when none is) and :mod:`.stranded` recovers requests left ``running`` by a worker that
died (whether or not its queue entry survived). The warm worker processes that consume the queue
are :mod:`eas_pipelines.workers`; this package imports none of the layers above it (resources,
agents, sensors, workers, gateway: see ``tests/eas_pipelines/test_layers.py``).
"""

from eas_pipelines.lanes.fast_queue import FastQueue, Task
from eas_pipelines.lanes.heartbeat import Heartbeat, live_workers

__all__ = ["FastQueue", "Heartbeat", "Task", "live_workers"]
