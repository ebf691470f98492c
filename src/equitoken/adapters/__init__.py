"""Adapters: the edge where ports meet databases, exchanges, brokers and chains."""
