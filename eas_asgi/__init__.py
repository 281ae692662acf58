"""ASGI pieces both HTTP services use (the intake gateway and the NLP service), kept in one place:
``methods`` (405/OPTIONS answers), ``tracing`` (the OpenTelemetry set-up), ``logs`` (the JSON-lines shape).

A package of its own because neither service may depend on the other: the NLP service runs alone
(GPU pods), and the gateway is its client, not its host.
"""
