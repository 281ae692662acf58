"""Local emulators of the enterprise systems' APIs: the embedded default, never imported by product code.

One FastAPI app serves the documented subset of each vendor's API under ``/<vendor>/`` over TLS
(a CA generated at start, trusted only by EAS's clients), its state in PostgreSQL; S3 is moto,
email is aiosmtpd. Any of them can be told to throttle, fail, slow down or refuse credentials
(``/_sandbox/faults``), for tests, demos and ``benchmarks/connectors.py``.
"""
