"""Enterprise connectors: one module per system, each a ``dg.ConfigurableResource`` whose
``client()`` returns a typed client speaking the vendor's documented API.

Every connector shares :mod:`.base` (breaker, timeouts, retries, trusted CA) and, where it talks
plain HTTP, :mod:`.http`. Which system a connector reaches is configuration only: the vendor's
URL and credentials in production, the local emulators (``eas_sandbox``) that ``eas up`` starts
when none is configured. The client code is the same for both.
"""
