"""The fast lane: a Redis priority queue consumed by a warm pool of ``eas worker`` processes.

See ARCHITECTURE.md, "A request's life", step 4. :mod:`.fast_queue` is the queue (Redis Streams with
consumer groups: at-least-once delivery, acknowledgement, reclaim of a dead worker's work),
:mod:`.heartbeat` says which workers are alive (the standard-lane sensor falls back to Dagster's
own queue when none is), :mod:`.worker` runs each request's Dagster job in-process, and
:mod:`.stranded` recovers requests left ``running`` by a worker that died (whether or not its queue
entry survived).
"""

from eas_pipelines.lanes.fast_queue import FastQueue, Task
from eas_pipelines.lanes.heartbeat import Heartbeat, live_workers

__all__ = ["FastQueue", "Heartbeat", "Task", "live_workers"]
