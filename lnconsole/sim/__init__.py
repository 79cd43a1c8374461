"""A simulated Core Lightning node that speaks lightningd's JSON-RPC on a unix socket.

It imports nothing from the console's UI: the console, its tests and its demo talk to it through pyln-client
exactly as to a real lightningd.
"""
