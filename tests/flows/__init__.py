"""Tests of the pure core (flows/)."""
