"""One module per group of rows; each exposes `run(settings) -> list[Row]`."""
