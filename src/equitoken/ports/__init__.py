"""Ports: one small ``Protocol`` per business role. Adapters implement them; the core depends on them."""

from equitoken.ports.broker import Broker, BrokerCapabilities, BrokerFill, BrokerOrder, BrokerOrderState
from equitoken.ports.clock import Clock
from equitoken.ports.market import MarketCalendar, PriceSource
from equitoken.ports.store import Store, StoredEvent

__all__ = [
    "Broker",
    "BrokerCapabilities",
    "BrokerFill",
    "BrokerOrder",
    "BrokerOrderState",
    "Clock",
    "MarketCalendar",
    "PriceSource",
    "Store",
    "StoredEvent",
]
