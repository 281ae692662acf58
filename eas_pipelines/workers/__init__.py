"""The warm fast-lane workers: the processes that take requests off the queue and run their jobs.

:mod:`.worker` is the loop (dequeue, settle, run the request's Dagster job in-process, recover a
failed or abandoned request); :mod:`.process` is what ``eas worker`` runs (settings, signals, the
Dagster instance). They sit above the queue library (:mod:`eas_pipelines.lanes`) and load the code
location by name (``eas_pipelines.definitions:defs``) rather than importing it, so that a
deployment or a test can point them at other Definitions.
"""
