"""Delivery to channels other than the in-app inbox: one provider per channel, and the checks
that keep outgoing requests away from private networks."""
