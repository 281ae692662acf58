"""ASGI pieces both HTTP services use (the intake gateway and the NLP service), kept in one place.

A package of its own because neither service may depend on the other: the NLP service runs alone
(GPU pods), and the gateway is its client, not its host.
"""
