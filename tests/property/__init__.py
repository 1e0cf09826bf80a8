"""Property-based tests: random sequences of use cases against the real engine."""
