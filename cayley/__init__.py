"""cayley: dataflows made of plain Python functions.

A function's name is the node it produces and its parameters are the nodes it needs. Start
with :class:`cayley.driver.Builder`.
"""

__version__ = "0.1.0"
