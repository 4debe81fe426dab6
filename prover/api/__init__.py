"""The REST API (DRF): thin views over selectors and service functions."""
