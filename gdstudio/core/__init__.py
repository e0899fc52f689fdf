"""The engine: parsing, optimizers, runs and scenario files. Never imports Qt."""
