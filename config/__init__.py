"""Settings (defaults and environment overrides) and the demo data set."""
