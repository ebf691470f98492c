"""Orders: quotes, the order state machine, fees, risk limits and the idempotent order desk (pure)."""

from equitoken.issuance.orders.desk import OrderDesk, Submission, compliance_refusal, expiry_for
from equitoken.issuance.orders.events import (
    OrderAccepted,
    OrderCancelled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderPartiallyFilled,
    OrderReceived,
    OrderRejected,
    OrderSettled,
)
from equitoken.issuance.orders.fees import Charge, FeeSchedule
from equitoken.issuance.orders.lifecycle import TRANSITIONS, OrderState
from equitoken.issuance.orders.orders import Fill, Order, OrderRequest, TimeInForce
from equitoken.issuance.orders.quotes import Quote, QuotePolicy, make_quote
from equitoken.issuance.orders.risk import Exposure, RiskBook, RiskLimits, band_refusal, reference_refusal

__all__ = [
    "TRANSITIONS",
    "Charge",
    "Exposure",
    "FeeSchedule",
    "Fill",
    "Order",
    "OrderAccepted",
    "OrderCancelled",
    "OrderDesk",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderPartiallyFilled",
    "OrderReceived",
    "OrderRejected",
    "OrderRequest",
    "OrderSettled",
    "OrderState",
    "Quote",
    "QuotePolicy",
    "RiskBook",
    "RiskLimits",
    "Submission",
    "TimeInForce",
    "band_refusal",
    "compliance_refusal",
    "expiry_for",
    "make_quote",
    "reference_refusal",
]
