"""Deferred work: a request's work done later, by a request of its own queued when due (:mod:`.work`)."""
