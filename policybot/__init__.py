"""The ``policybot`` command line, above the core (``bot``) and the adapters (``adapters``).

``bot`` is the platform-free core; ``adapters`` translate Slack, Teams, the console and HTTP to
it; this package wires them together for the commands an operator runs. Nothing in ``bot``
imports from here or from ``adapters``.
"""
